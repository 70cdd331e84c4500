"""Regenerate the shipped BLER table (``tables/bler_awgn.json``) by Monte Carlo with the bit-true PHY.

``tokcom link tables`` calls :func:`generate`. Per curve (Qm, R) the SNR walks in ``step_db`` steps from
the top of the waterfall (BLER ≥ 0.9) until a point shows no error in ``max_blocks`` blocks; each point runs
until ``max_errors`` errors or ``max_blocks`` blocks. The gap model of :mod:`tokcom.link.abstract` is
fitted to the points; then two tail points where that fit predicts BLER 1e-2 and 2e-3 are simulated with up
to ``tail_blocks`` blocks each and the model is refitted (the tail is what adaptation at ε = 0.002 uses). Sionna's shipped PDSCH table-2 curves (code block size 1000) are fitted the same way
for the 256QAM rows. The BICM mutual-information curves used by MIESM are stored alongside.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tokcom.link import capacity as cap
from tokcom.link.abstract import fit_gap_model, fit_gap_model_tail, gap_model_bler
from tokcom.link.mcs import TOKENCOM_NONINTENDED, mcs_table
from tokcom.link.phy import BitTruePhy, simulate_bler, tb_layout

MODEL = ("BLER = Q(s*A) if A < 0 else Q(s_tail*A), A = (n*C(snr-gap) - k + 0.5*log2 n)/sqrt(n*V(snr-gap)), "
         "C, V: Shannon capacity and dispersion (bits, complex AWGN); see tokcom.link.abstract")


def default_curves() -> list[tuple[str, int, float]]:
    """(label, Qm, R): every row of 38.214 Table 5.1.3.1-1 plus the TokenCom named MCS."""
    out = [(f"table1-{m.index}", m.num_bits_per_symbol, m.coderate) for m in mcs_table(1)]
    names = {(2, 1 / 3): "qpsk-1/3", (2, 1 / 2): "qpsk-1/2", (4, 1 / 2): "16qam-1/2", (4, 3 / 4): "16qam-3/4"}
    for m in TOKENCOM_NONINTENDED:
        out.append((f"tokencom-{names[(m.num_bits_per_symbol, m.coderate)]}", m.num_bits_per_symbol,
                    m.coderate))
    return out


def _tail_points(curve: dict[str, Any], tail_blocks: int, max_errors: int, seed: int, phy: Any) -> None:
    """Add points where the current fit predicts BLER 1e-2 and 2e-3 (``tail_blocks`` blocks each), refit."""
    qm, rate, k = curve["num_bits_per_symbol"], curve["coderate"], curve["k"]
    fit = curve["fit"]
    grid = np.arange(-15.0, 40.0, 0.05)
    b = gap_model_bler(grid, curve["tb_size"], curve["num_symbols"], fit["gap_db"], fit["slope"],
                       fit.get("slope_tail"))
    have = {round(p[0], 4) for p in curve["points"]}
    for target in (1e-2, 2e-3):
        s = round(float(grid[np.argmin(np.abs(np.log(np.maximum(b, 1e-300)) - math.log(target)))]), 2)
        if s in have:
            s = round(s + 0.05, 2)
        p = simulate_bler(qm, rate, k, [s], num_blocks=tail_blocks, max_errors=max_errors,
                          seed=seed + 7919 + round(s * 100) + 100000 * int(qm) + int(rate * 1e4),
                          phy=phy, batch_size=100)[0]
        curve["points"].append([p["snr_db"], p["blocks"], p["errors"]])
        have.add(s)
    curve["points"].sort(key=lambda p: p[0])
    _refit(curve)


def _refit(curve: dict[str, Any]) -> None:
    g, sl, st = fit_gap_model_tail([tuple(p) for p in curve["points"]], curve["tb_size"], curve["num_symbols"])
    curve["fit"] = {"gap_db": g, "slope": sl, "slope_tail": st}


def refit(path: str | Path) -> dict[str, Any]:
    """Refit the model of every tokcom curve of a table from its stored points (no simulation)."""
    path = Path(path)
    table = json.loads(path.read_text())
    for c in table["curves"]:
        if c["source"] == "tokcom":
            _refit(c)
    table["model"] = MODEL
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1))
    os.replace(tmp, path)
    return table


def _refine_curve(args: tuple) -> dict[str, Any]:
    curve, tail_blocks, max_errors, seed = args
    import torch

    torch.set_num_threads(1)
    t0 = time.time()
    _tail_points(curve, tail_blocks, max_errors, seed, BitTruePhy(batch_size=100))
    curve["seconds"] = round(curve.get("seconds", 0.0) + time.time() - t0, 1)
    return curve


def _sim_curve(args: tuple) -> dict[str, Any]:
    label, qm, rate, k, step_db, max_blocks, max_errors, seed = args[:8]
    tail_blocks = args[8] if len(args) > 8 else 0
    import torch

    torch.set_num_threads(1)
    lay = tb_layout(k, qm, rate)
    phy = BitTruePhy(batch_size=100)
    # start near the normal-approximation 50 % point, plus a typical practical gap
    lo, hi = -20.0, 40.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if gap_model_bler(mid, lay.tb_size, lay.num_symbols, 0.0, 1.0) > 0.5:
            lo = mid
        else:
            hi = mid
    snr = round((lo + 0.5) / step_db) * step_db
    pts: dict[float, dict] = {}
    t0 = time.time()

    def run(s: float) -> dict:
        s = round(s, 4)
        if s not in pts:
            pts[s] = simulate_bler(qm, rate, k, [s], num_blocks=max_blocks, max_errors=max_errors,
                                   seed=seed + round(s * 100) + 100000 * int(qm) + int(rate * 1e4),
                                   phy=phy, batch_size=100)[0]
        return pts[s]

    while run(snr)["bler"] < 0.9:
        snr -= 2 * step_db
    while run(snr)["errors"] > 0:
        snr += step_db
    pts_l = sorted(pts.values(), key=lambda p: p["snr_db"])
    fit = fit_gap_model_tail([(p["snr_db"], p["blocks"], p["errors"]) for p in pts_l], lay.tb_size,
                             lay.num_symbols)
    curve = {"label": label, "source": "tokcom", "num_bits_per_symbol": qm, "coderate": rate, "k": k,
             "tb_size": lay.tb_size, "num_cb": lay.num_cb, "num_coded_bits": lay.num_coded_bits,
             "num_symbols": lay.num_symbols, "repetition": lay.repetition,
             "points": [[p["snr_db"], p["blocks"], p["errors"]] for p in pts_l],
             "fit": {"gap_db": fit[0], "slope": fit[1], "slope_tail": fit[2]}}
    if tail_blocks:
        _tail_points(curve, tail_blocks, max_errors, seed, phy)
    curve["seconds"] = round(time.time() - t0, 1)
    return curve


def refine(path: str | Path, *, tail_blocks: int = 500, max_errors: int = 40, seed: int = 0, workers: int = 2,
           log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Add the tail points (BLER ≈ 1e-2, 2e-3 by the current fit) to every tokcom curve of a table; refit."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    path = Path(path)
    table = json.loads(path.read_text())
    own = [c for c in table["curves"] if c["source"] == "tokcom"]
    args = [(c, tail_blocks, max_errors, seed) for c in own]
    done = {}
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            for c in pool.imap_unordered(_refine_curve, args):
                log(f"{c['label']}: gap {c['fit']['gap_db']:.2f} dB, slope {c['fit']['slope']:.2f}")
                done[c["label"]] = c
    else:
        for a in args:
            c = _refine_curve(a)
            done[c["label"]] = c
    table["curves"] = [done.get(c["label"], c) if c["source"] == "tokcom" else c for c in table["curves"]]
    table["tail_blocks"] = tail_blocks
    table["generated_by"] += f"; tail refinement: tokcom link tables --refine-only --tail-blocks {tail_blocks} " \
                             f"--max-errors {max_errors} --seed {seed}"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1))
    os.replace(tmp, path)
    return table


def sionna_curves(cbs: int = 1000, pseudo_blocks: int = 1000, slope: float = 0.8) -> list[dict[str, Any]]:
    """Fits of Sionna's shipped PDSCH Table-2 (256QAM) BLER curves at code block size ``cbs``.

    Their SNR grid is coarse (≈1.6 dB), so only the gap is fitted; the slope is fixed (typical of the
    Monte Carlo fits at this block length).
    """
    from importlib import resources

    import sionna

    from tokcom.link.mcs import mcs_table as table

    path = Path(str(resources.files("sionna.sys") / "bler_tables" / "PDSCH_table2.json"))
    d = json.loads(path.read_text())
    cat = next(iter(d["category"].values()))
    mcs = next(iter(cat["index"].values()))["MCS"]
    rows = table(2)
    out = []
    for idx_s, e in mcs.items():
        m = rows[int(idx_s)]
        if m.num_bits_per_symbol != 8:
            continue
        sizes = sorted(int(c) for c in e["CBS"])
        c = min(sizes, key=lambda s: abs(s - cbs))
        bl = np.asarray(e["CBS"][str(c)]["BLER"], dtype=float)
        snr = np.asarray(e["SNR_db"], dtype=float)
        n_sym = c / m.coderate / m.num_bits_per_symbol
        pts = [(float(s), pseudo_blocks, round(b * pseudo_blocks)) for s, b in zip(snr, bl)]
        fit = fit_gap_model(pts, c, n_sym, slope=slope)
        out.append({"label": f"table2-{m.index}", "source": f"sionna {sionna.__version__} PDSCH_table2 CBS {c}",
                    "num_bits_per_symbol": 8, "coderate": m.coderate, "k": c, "num_symbols": n_sym,
                    "points": [list(p) for p in pts], "fit": {"gap_db": fit[0], "slope": fit[1]}})
    return out


def generate(out_path: str | Path, *, k: int = 1024, step_db: float = 0.25, max_blocks: int = 200,
             max_errors: int = 50, seed: int = 0, workers: int = 2, labels: list[str] | None = None,
             tail_blocks: int = 500,
             log: Callable[[str], None] | None = None, command: str | None = None) -> dict[str, Any]:
    """Run the Monte Carlo and write the table JSON to ``out_path``; returns the table dict."""
    import sionna

    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    todo = [c for c in default_curves() if labels is None or c[0] in labels]
    args = [(lab, qm, r, int(k), float(step_db), int(max_blocks), int(max_errors), int(seed), int(tail_blocks))
            for lab, qm, r in todo]
    t0 = time.time()
    results = []
    if workers > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            for res in pool.imap_unordered(_sim_curve, args):
                log(f"{res['label']}: gap {res['fit']['gap_db']:.2f} dB, slope {res['fit']['slope']:.2f}, "
                    f"{len(res['points'])} points, {res['seconds']} s")
                results.append(res)
    else:
        for a in args:
            res = _sim_curve(a)
            log(f"{res['label']}: gap {res['fit']['gap_db']:.2f} dB, {res['seconds']} s")
            results.append(res)
    order = {c[0]: i for i, c in enumerate(todo)}
    results.sort(key=lambda r: order[r["label"]])
    grid = np.arange(-15.0, 40.01, 0.25)
    table = {
        "description": "AWGN BLER curves (Es/N0 per complex channel use) for tokcom's abstract PHY",
        "model": MODEL,
        "generated_by": command or f"tokcom link tables --k {k} --step-db {step_db} --max-blocks {max_blocks} "
                                   f"--max-errors {max_errors} --seed {seed} --tail-blocks {tail_blocks}",
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "sionna_version": sionna.__version__,
        "k": k, "step_db": step_db, "max_blocks": max_blocks, "max_errors": max_errors, "seed": seed,
        "tail_blocks": tail_blocks,
        "bp_iterations": 20, "decoder": "sionna LDPC5GDecoder boxplus-phi via TBDecoder",
        "seconds": round(time.time() - t0, 1),
        "curves": results + sionna_curves(),
        "bicm_mi": {"snr_db": grid.round(3).tolist(),
                    "mi": {str(q): np.round(cap.bicm_mutual_information(q, grid), 5).tolist() for q in (2, 4, 6, 8)}},
    }
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1))
    os.replace(tmp, out_path)
    return table


if __name__ == "__main__":  # python -m tokcom.link.tablegen OUT.json [labels...]
    generate(sys.argv[1], labels=sys.argv[2:] or None)
