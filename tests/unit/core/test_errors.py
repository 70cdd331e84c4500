"""tokcom.errors: the exception hierarchy the CLI relies on (exit code 2 for TokcomError)."""

from __future__ import annotations

import pytest

from tokcom import errors as E


@pytest.mark.parametrize("cls", [E.InputError, E.UnknownNameError, E.WeightsUnavailable, E.DecodeError,
                                 E.InfeasibleError])
def test_all_are_tokcom_errors(cls):
    assert issubclass(cls, E.TokcomError) and issubclass(cls, Exception)


def test_input_error_is_value_error():
    assert issubclass(E.InputError, ValueError)
    with pytest.raises(ValueError):
        raise E.InputError("bad")


def test_unknown_name_error_message_not_quoted():
    e = E.UnknownNameError("unknown scheme 'x'; valid: a, b")
    assert isinstance(e, KeyError) and isinstance(e, E.InputError)
    assert str(e) == "unknown scheme 'x'; valid: a, b"
    assert str(KeyError("m")) == "'m'"  # what UnknownNameError avoids
    assert str(E.UnknownNameError()) == ""
    with pytest.raises(KeyError):
        raise e


def test_others_are_not_input_errors():
    for cls in (E.WeightsUnavailable, E.DecodeError, E.InfeasibleError):
        assert not issubclass(cls, ValueError)
