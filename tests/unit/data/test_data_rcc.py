"""The Qt .rcc reader on hand-built archives (versions 1–3, zlib entries) and on garbage."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from data_testutil import build_rcc

from tokcom.data.rcc import iter_rcc, list_rcc, read_rcc_entry
from tokcom.errors import InputError

FILES = {
    "gcompris/a/photo.webp": b"RIFF....WEBPfake",
    "gcompris/a/readme": b"CC-BY-SA 4.0\n" * 20,
    "gcompris/b/deep/x.png": bytes(range(256)) * 3,
    "top.txt": "h\u00e9llo \u4e16\u754c".encode(),
}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_lists_and_reads_every_entry(version):
    blob = build_rcc(FILES, version=version, compress=("gcompris/a/readme", "gcompris/b/deep/x.png"))
    entries = {e.path: e for e in list_rcc(blob)}
    assert set(entries) == set(FILES)
    assert entries["gcompris/a/readme"].compression == "zlib"
    assert entries["top.txt"].compression == "none"
    assert {p: read_rcc_entry(blob, e) for p, e in entries.items()} == FILES
    assert dict(iter_rcc(blob, (".png", ".webp"))) == {k: v for k, v in FILES.items() if k.endswith(("png", "webp"))}


def test_unicode_names():
    blob = build_rcc({"d/caf\u00e9 \u4e16.txt": b"x"})
    assert [e.path for e in list_rcc(blob)] == ["d/caf\u00e9 \u4e16.txt"]


@pytest.mark.parametrize("junk", [b"", b"qres", b"not an rcc at all" * 10, b"qres" + b"\xff" * 40,
                                  b"qres" + struct.pack(">IIII", 9, 24, 24, 24) + b"\0" * 16])
def test_garbage_is_one_line_input_error(junk):
    with pytest.raises(InputError) as e:
        list_rcc(junk)
    assert "\n" not in str(e.value)


def test_corrupt_archives_never_raise_anything_else():
    blob = bytearray(build_rcc(FILES, compress=("gcompris/a/readme",)))
    rng = np.random.default_rng(0)
    for trial in range(400):
        b = bytearray(blob)
        if trial % 3 == 0:
            b = b[: int(rng.integers(20, len(b)))]  # truncated
        for _ in range(int(rng.integers(1, 8))):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        try:
            for e in list_rcc(bytes(b)):
                read_rcc_entry(bytes(b), e)
        except InputError:
            pass


def test_cyclic_tree_terminates():
    blob = bytearray(build_rcc({"a/b": b"1"}))
    tree_off = struct.unpack_from(">I", blob, 8)[0]
    # node 1 ("a", a directory) points its children at node 0 (the root): a cycle
    struct.pack_into(">II", blob, tree_off + 22 + 6, 1, 0)
    assert list_rcc(bytes(blob)) == []
