"""H.264 / H.265 Annex-B byte streams (ITU-T H.264 Annex B, H.265 Annex B): NAL units between start codes."""

from __future__ import annotations

START_CODE = b"\x00\x00\x00\x01"  # the 4-byte start code the h26x receivers put before each NAL unit


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex-B byte stream into NAL units (start codes removed)."""
    nals = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        j = data.find(b"\x00\x00\x01", start)
        end = len(data) if j < 0 else j
        nal = data[start:end]
        if j >= 0 and nal.endswith(b"\x00"):
            nal = nal.rstrip(b"\x00")  # trailing zero of a 4-byte start code (NALs never end in 0x00)
        if nal:
            nals.append(nal)
        i = j
    return nals
