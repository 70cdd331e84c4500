"""tokcom.config.make_config: option names, type conversion, errors, defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from tokcom.config import config_dict, make_config
from tokcom.errors import InputError


@dataclass(frozen=True)
class Cfg:
    num_frames: int = 16
    snr_db: float = 3.0
    low_delay: bool = False
    mode: Literal["cbr", "cqp"] = "cbr"
    levels: tuple[int, ...] = (8, 5, 5)
    weights: list[float] = None  # type: ignore[assignment]
    bitrate_bps: float | None = None
    gop: int | None = None
    name: str = "x"
    k: Literal[1, 2, 4] = 1

    def __post_init__(self):
        if self.num_frames < 1:
            raise ValueError("num-frames must be ≥ 1")


def test_defaults_and_none_means_default():
    assert make_config(Cfg) == Cfg()
    assert make_config(Cfg, None) == Cfg()
    assert make_config(Cfg, {"num_frames": None, "snr-db": None, "mode": None}) == Cfg()


def test_dashes_and_underscores():
    c = make_config(Cfg, {"num-frames": "8", "snr_db": "-2.5", "low-delay": "yes"})
    assert c.num_frames == 8 and c.snr_db == -2.5 and c.low_delay is True


def test_unknown_option_lists_valid_with_dashes():
    with pytest.raises(InputError) as e:
        make_config(Cfg, {"bogus_opt": 1}, what="scheme demo")
    msg = str(e.value)
    assert msg.startswith("scheme demo: unknown option 'bogus-opt'")
    valid = msg.split("valid: ", 1)[1].split(", ")
    assert valid == sorted(valid)
    assert {"num-frames", "snr-db", "low-delay", "bitrate-bps", "gop", "levels"} <= set(valid)
    assert not any("_" in v for v in valid) and "\n" not in msg
    with pytest.raises(InputError, match="Cfg: unknown option"):
        make_config(Cfg, {"x": 1})


@pytest.mark.parametrize("value, expected", [("5", 5), (" 7 ", 7), (5, 5), (6.0, 6), ("-3", -3)])
def test_int(value, expected):
    c = make_config(Cfg, {"gop": value, "num_frames": 2})
    assert c.gop == expected and type(c.gop) is int


@pytest.mark.parametrize("value", ["abc", "3.5", 3.5, "", "1e3", [1]])
def test_int_bad(value):
    with pytest.raises(InputError, match="num-frames"):
        make_config(Cfg, {"num_frames": value})


@pytest.mark.parametrize("value, expected", [("1.5", 1.5), (2, 2.0), ("-1e-3", -1e-3), (" 4 ", 4.0)])
def test_float(value, expected):
    c = make_config(Cfg, {"snr_db": value})
    assert c.snr_db == expected and type(c.snr_db) is float


@pytest.mark.parametrize("value", ["x", "nan", "inf", "-inf", float("nan"), float("inf"), "1,2"])
def test_float_bad(value):
    with pytest.raises(InputError, match="snr-db"):
        make_config(Cfg, {"snr_db": value})


@pytest.mark.parametrize("value, expected", [("true", True), ("1", True), ("ON", True), ("yes", True),
                                             (True, True),
                                             ("false", False), ("0", False), ("off", False), ("No", False),
                                             (False, False), (0, False), (1, True)])
def test_bool(value, expected):
    assert make_config(Cfg, {"low_delay": value}).low_delay is expected


@pytest.mark.parametrize("value", ["maybe", "2", "", "truee"])
def test_bool_bad(value):
    with pytest.raises(InputError, match="low-delay"):
        make_config(Cfg, {"low_delay": value})


def test_literal():
    assert make_config(Cfg, {"mode": "cqp"}).mode == "cqp"
    assert make_config(Cfg, {"mode": "CQP"}).mode == "cqp"  # case-insensitive, canonical value kept
    assert make_config(Cfg, {"k": 4}).k == 4
    assert make_config(Cfg, {"k": "2"}).k == 2  # a string from the CLI matches an int literal
    with pytest.raises(InputError) as e:
        make_config(Cfg, {"mode": "vbr"})
    assert "cbr, cqp" in str(e.value) and "mode" in str(e.value)
    with pytest.raises(InputError):
        make_config(Cfg, {"k": 3})


def test_tuple_and_list():
    assert make_config(Cfg, {"levels": "8,8,8,5"}).levels == (8, 8, 8, 5)
    assert make_config(Cfg, {"levels": [4, "5"]}).levels == (4, 5)
    c = make_config(Cfg, {"weights": "0.5, 1"})
    assert c.weights == [0.5, 1.0] and isinstance(c.weights, list)
    with pytest.raises(InputError):
        make_config(Cfg, {"levels": "8,x"})


def test_optional():
    assert make_config(Cfg, {"bitrate_bps": "1e6"}).bitrate_bps == 1e6
    assert make_config(Cfg, {"gop": "32"}).gop == 32
    with pytest.raises(InputError, match="bitrate-bps"):
        make_config(Cfg, {"bitrate_bps": "fast"})
    with pytest.raises(InputError, match="gop"):
        make_config(Cfg, {"gop": "thirty"})


def test_str_passthrough():
    assert make_config(Cfg, {"name": 12}).name == "12"


def test_post_init_value_error_becomes_input_error():
    with pytest.raises(InputError) as e:
        make_config(Cfg, {"num_frames": 0}, what="scheme demo")
    assert str(e.value) == "scheme demo: num-frames must be ≥ 1"


def test_input_error_from_post_init_passes_unchanged():
    @dataclass(frozen=True)
    class C2:
        x: int = 1

        def __post_init__(self):
            if self.x > 5:
                raise InputError("--x must be ≤ 5")

    with pytest.raises(InputError) as e:
        make_config(C2, {"x": 9})
    assert str(e.value) == "--x must be ≤ 5"


def test_required_field_missing_is_input_error():
    @dataclass(frozen=True)
    class Req:
        needed: int

    with pytest.raises(InputError, match="Req"):
        make_config(Req, {})
    assert make_config(Req, {"needed": "3"}).needed == 3


def test_real_configs():
    from tokcom.link.erasure import ErasureConfig
    from tokcom.schemes.h26x import H26xConfig

    c = make_config(H26xConfig, {"preset": "medium", "rate-control": "CQP", "qp": "30", "low-delay": "1"})
    assert (c.preset, c.rate_control, c.qp, c.low_delay) == ("medium", "cqp", 30, True)
    with pytest.raises(InputError):
        make_config(H26xConfig, {"preset": "warp"})
    with pytest.raises(InputError):
        make_config(ErasureConfig, {"pdu_loss": "1.5"})


def test_config_dict():
    assert config_dict(Cfg())["levels"] == (8, 5, 5)
    assert config_dict({"a": 1}) == {"a": 1}
    assert config_dict(None) == {}
