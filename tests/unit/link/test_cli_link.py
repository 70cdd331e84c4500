"""``tokcom link ...`` commands (JSON contract of CLI.md, exit codes)."""

import json

import numpy as np
import pytest

from tokcom.link import capacity as cap


def _run(capsys, *argv):
    from tokcom.cli.app import main

    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_mcs_json(capsys):
    rc, out, _ = _run(capsys, "link", "mcs", "--table", "1", "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["table"] == 1 and len(d["rows"]) == 29
    assert d["rows"][0] == {**d["rows"][0], "index": 0, "modulation": "QPSK", "num_bits_per_symbol": 2,
                            "coderate": 0.1171875, "spectral_efficiency": 0.234375}
    assert d["rows"][28]["coderate"] == pytest.approx(948 / 1024)


def test_adapt_json_acceptance_4(capsys, tmp_path):
    png = tmp_path / "se.png"
    rc, out, _ = _run(capsys, "link", "adapt", "--snr-db", "-2:10:2", "--bler-target", "0.002", "--json",
                      "--plot", str(png))
    assert rc == 0 and png.stat().st_size > 1000
    d = json.loads(out)
    pts = d["points"]
    assert [p["snr_db"] for p in pts] == [-2, 0, 2, 4, 6, 8, 10] and d["k"] == 1024
    se = [p["spectral_efficiency"] for p in pts]
    assert se == sorted(se)
    for p in pts:
        assert p["feasible"] and p["bler"] <= 0.002
        assert p["spectral_efficiency"] < cap.shannon_capacity(p["snr_db"])
        # SNR gap to Shannon at k = 1024 bits and BLER 2e-3: 1.7-3.1 dB; the 3 dB points are set by the table's
        # granularity (the next row would need < 1.7 dB, which 5G LDPC at this length cannot do)
        assert 1.0 < p["gap_to_capacity_db"] <= 3.1
        assert p["capacity_over_se_db"] <= 2.5  # SE within 2.5 dB of capacity (rate ratio)
        assert p["spectral_efficiency"] <= p["normal_approx_rate"]
    # comparable to Resi-VidTok Table I (its SE: 0.49 0.60 1.03 1.33 1.70 2.16 2.57): within one modulation step
    resi = [0.49, 0.60, 1.03, 1.33, 1.70, 2.16, 2.57]
    for p, r in zip(pts, resi):
        assert 0.6 * r <= p["spectral_efficiency"] <= 1.6 * r


def test_bler_abstract_json_and_plot(capsys, tmp_path):
    png = tmp_path / "w.png"
    rc, out, _ = _run(capsys, "link", "bler", "--mod", "16qam", "--rate", "0.5", "--k", "1024", "--snr-db",
                      "4:8:0.5", "--mode", "abstract", "--json", "--plot", str(png))
    assert rc == 0 and png.stat().st_size > 1000
    d = json.loads(out)
    assert d["mod"] == "16qam" and d["k"] == 1024 and d["n"] > 2048 and d["mode"] == "abstract"
    b = [p["bler"] for p in d["points"]]
    assert np.all(np.diff(b) <= 0)
    assert all(p["bler"] >= p["bler_normal_approx"] for p in d["points"])


def test_bler_bit_true_small(capsys):
    pytest.importorskip("sionna")
    rc, out, _ = _run(capsys, "link", "bler", "--mod", "qpsk", "--rate", "0.5", "--k", "128", "--snr-db",
                      "-1,6", "--blocks", "40", "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["mode"] == "bit-true"
    p0, p1 = d["points"]
    assert p0["blocks"] == 40 and p0["errors"] == round(p0["bler"] * 40) and p0["bler"] > 0.5
    assert p1["bler"] == 0.0


@pytest.mark.parametrize("argv", [
    ["link", "mcs", "--table", "7"],
    ["link", "bler", "--mod", "8psk", "--rate", "0.5", "--snr-db", "0"],
    ["link", "bler", "--mod", "qpsk", "--rate", "0.99", "--snr-db", "0"],
    ["link", "bler", "--mod", "qpsk", "--rate", "0.5", "--snr-db", "0:1:-1"],
    ["link", "adapt", "--snr-db", "0", "--bler-target", "2"],
    ["link", "adapt", "--snr-db", "0", "--plot", "/nonexistent/dir/x.png"],
])
def test_bad_input_exit_2(capsys, argv):
    rc, _out, err = _run(capsys, *argv)
    assert rc == 2 and err.startswith("tokcom: error:") and len(err.strip().splitlines()) == 1
