"""Every registered scheme over every registered link, with and without a rate target, on a tiny real clip:
the budget is law and one rule decides which frames count as decoded — for schemes added later too."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.link.base import build_link
from tokcom.pipeline import simulate
from tokcom.registry import LINKS, SCHEMES
from tokcom.schemes.base import build_scheme
from tokcom.types import DECODED_SHARE, Rate, is_valid

pytest.importorskip("torch")
CBR = 0.02


@pytest.fixture(scope="module")
def tiny(sample_path):
    from tokcom.video import read_video

    return read_video(sample_path, start=40, frames=9, size="64x64")


def _check_rules(r, rate: Rate, num_frames: int) -> None:
    assert len(r.frame_share) == num_frames
    decoded = int(sum(s >= DECODED_SHARE for s in r.frame_share))
    assert r.frames_decoded == decoded  # the pipeline's one rule, from the frame shares
    assert r.valid == is_valid(decoded, num_frames)
    assert r.packets["sent"] + r.packets["not_sent"] >= r.packets["lost"]
    assert r.provenance["code"] and isinstance(r.provenance["weights"], dict)
    if rate.cbr is None:
        assert r.channel_use_budget is None and not r.over_budget and r.packets["not_sent"] == 0
        return
    assert r.channel_uses <= r.channel_use_budget  # the budget is law
    assert r.cbr <= rate.cbr * 1.005
    assert r.over_budget == (r.channel_uses_requested > r.channel_use_budget)
    assert r.over_budget == (r.packets["not_sent"] > 0)


@pytest.mark.parametrize("rate", [Rate(), Rate(cbr=CBR)], ids=["no-target", f"cbr{CBR}"])
@pytest.mark.parametrize("link_name", LINKS.list())
@pytest.mark.parametrize("scheme_name", SCHEMES.list())
def test_every_scheme_over_every_link(scheme_name, link_name, rate, tiny):
    cls = SCHEMES.get(scheme_name)
    scheme = build_scheme(scheme_name, dict(cls.example_options))
    link = build_link(link_name)
    try:
        r = simulate(scheme, tiny, link, 0, rate=rate, metrics=["psnr"])
    except InputError as e:  # a scheme that needs a rate target says so in one line
        assert rate.cbr is None and "\n" not in str(e), str(e)
        return
    _check_rules(r, rate, tiny.num_frames)
    if link_name == "erasure" and rate.cbr is None:  # lossless and unconstrained: every frame decodes
        assert r.frames_decoded == tiny.num_frames and min(r.frame_share) == 1.0, r.frame_share


@pytest.mark.parametrize("scheme_name", SCHEMES.list())
def test_a_starved_budget_sends_nothing_that_does_not_fit(scheme_name, tiny):
    """A budget far below what any scheme needs: nothing over it goes out, and the rule still holds."""
    cls = SCHEMES.get(scheme_name)
    rate = Rate(cbr=2e-4)
    r = simulate(build_scheme(scheme_name, dict(cls.example_options)), tiny, build_link("awgn"), 0, rate=rate,
                 metrics=["psnr"])
    _check_rules(r, rate, tiny.num_frames)
    assert np.isfinite(r.metrics["psnr"])
