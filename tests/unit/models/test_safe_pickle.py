"""The restricted unpickler admits numpy arrays and plain containers only."""

import os
import pickle

import numpy as np
import pytest

from tokcom.models.safe_pickle import UnsafePickleError, load_numpy_pickle


def test_loads_nested_arrays(tmp_path):
    obj = {"a": {"kernel": np.arange(6, dtype=np.float32).reshape(2, 3), "bias": np.ones(3)},
           "b": [np.int64(3), (1, 2.5, "x", None, True)]}
    for proto in (2, 3, 4, 5):
        p = tmp_path / f"w{proto}.pkl"
        p.write_bytes(pickle.dumps(obj, protocol=proto))
        out = load_numpy_pickle(p)
        np.testing.assert_array_equal(out["a"]["kernel"], obj["a"]["kernel"])
        assert out["a"]["kernel"].dtype == np.float32
        assert out["b"][1] == (1, 2.5, "x", None, True)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_refuses_code_execution():
    data = pickle.dumps({"w": _Evil()})
    with pytest.raises(UnsafePickleError, match="posix.system|os.system|refusing"):
        load_numpy_pickle(data)


def test_refuses_object_arrays():
    data = pickle.dumps({"w": np.array([1, "a"], dtype=object)})
    with pytest.raises(UnsafePickleError):
        load_numpy_pickle(data)


def test_refuses_other_globals():
    import collections

    data = pickle.dumps(collections.Counter(a=1))
    with pytest.raises(UnsafePickleError, match="Counter"):
        load_numpy_pickle(data)
