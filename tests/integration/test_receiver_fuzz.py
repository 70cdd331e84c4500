"""Every registered receiver survives a few hundred seeded damaged receptions of its own transmission —
lost, flipped, truncated, reordered, garbage, and well-formed but wrong (valid framing and CRCs, content
that does not describe the video) — returning a frame-aligned video every time."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.link.base import build_link
from tokcom.registry import SCHEMES
from tokcom.schemes.base import build_scheme
from tokcom.testing import WELL_FORMED, check_receiver, fuzz_receptions
from tokcom.types import Rate

pytest.importorskip("torch")
CASES = 200


@pytest.fixture(scope="module")
def tiny(sample_path):
    from tokcom.video import read_video

    return read_video(sample_path, start=60, frames=9, size="64x64")


@pytest.mark.parametrize("scheme_name", SCHEMES.list())
def test_receiver_survives_fuzzing(scheme_name, tiny):
    scheme = build_scheme(scheme_name, dict(SCHEMES.get(scheme_name).example_options))
    link = build_link("awgn", {"snr_db": 6.0})
    tx = scheme.encode(tiny, link.state(tiny.info, Rate(cbr=0.05)), np.random.default_rng(0))
    assert check_receiver(scheme, tx, CASES, seed=1) == CASES
    if scheme_name in WELL_FORMED:  # the well-formed cases really differ from what was sent
        rx = list(fuzz_receptions(scheme_name, tx, 8, seed=2))[3]
        sent = [p.payload for p in tx.packets]
        assert [p.payload if p is not None else None for p in rx.packets] != sent
