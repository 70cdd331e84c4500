"""Sweep specs: validation and deterministic expansion."""

from __future__ import annotations

import pytest

from tokcom.errors import InputError
from tokcom.experiments.spec import load_spec, parse_spec


def test_expansion_is_the_grid_in_a_fixed_order():
    spec = parse_spec({"schemes": ["a", "b"], "inputs": ["/x.mp4"], "channels": ["awgn"],
                       "snr_db": [0, 2, 4], "cbr": [1e-3, 2e-3], "seeds": [0, 1]})
    pts = spec.points()
    assert len(pts) == 2 * 3 * 2 * 2
    assert [(p.scheme, p.snr_db, p.cbr, p.seed) for p in pts[:3]] == [("a", 0.0, 1e-3, 0), ("a", 0.0, 1e-3, 1),
                                                                       ("a", 0.0, 2e-3, 0)]
    assert len({p.key for p in pts}) == len(pts)
    assert [p.key for p in pts] == [p.key for p in spec.points()]  # deterministic


def test_axes_that_do_not_apply_to_a_channel_are_dropped_and_merged():
    spec = parse_spec({"schemes": ["h265"], "inputs": ["/x.mp4"], "channels": ["erasure", "awgn"],
                       "snr_db": [0, 5], "pdu_loss": [0.0, 0.1]})
    pts = spec.points()
    er = [p for p in pts if p.channel == "erasure"]
    aw = [p for p in pts if p.channel == "awgn"]
    assert sorted(p.pdu_loss for p in er) == [0.0, 0.1] and all(p.snr_db is None for p in er)
    assert sorted(p.snr_db for p in aw) == [0.0, 5.0] and all(p.pdu_loss is None for p in aw)


def test_ranges_scalars_options_and_relative_inputs(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("schemes: [h264]\ninputs: [clip.mp4]\nsize: 64x48\nframes: 8\n"
                 "snr_db: ['-2:2:2']\nchannels: [awgn]\noptions: {h264: {preset: fast}}\nseeds: 3\n")
    pts = load_spec(f).points()
    assert [p.snr_db for p in pts] == [-2.0, 0.0, 2.0]
    assert all(p.input == str(tmp_path / "clip.mp4") and p.size == "64x48" and p.frames == 8 for p in pts)
    assert pts[0].options == {"preset": "fast"} and pts[0].seed == 3


@pytest.mark.parametrize("data", [
    {"inputs": ["/x.mp4"]},                                        # no schemes
    {"schemes": ["h265"], "inputs": ["/x"], "cbr": [1e-3], "bitrate": [1e5]},  # two rate axes
    {"schemes": ["h265"], "inputs": ["/x"], "snr_db": ["a"]},      # not a number
    {"schemes": ["h265"], "inputs": ["/x"], "bogus": 1},           # unknown key
    {"schemes": ["h265"], "inputs": ["/x"], "channels": ["warp"]},  # unknown channel
    {"schemes": ["h265"], "inputs": ["/x"], "size": "0x0"},
    {"schemes": ["h265"], "inputs": ["/x"], "snr_db": []},
])
def test_bad_specs_are_input_errors(data):
    with pytest.raises(InputError):
        parse_spec(data)


def test_bad_yaml(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("schemes: [h265\n")
    with pytest.raises(InputError, match="YAML"):
        load_spec(f)
    with pytest.raises(InputError, match="no such"):
        load_spec(tmp_path / "missing.yaml")
