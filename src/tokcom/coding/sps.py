"""The picture size an H.264 or H.265 sequence parameter set declares, read before the decoder sees it.

A receiver must not let a damaged or hostile stream decide how much memory it allocates: an SPS that claims
8192×4608 inside otherwise valid PDUs makes FFmpeg allocate gigabytes. The h26x receivers read the coded
size here (ITU-T H.264 §7.3.2.1.1 ``seq_parameter_set_data``, H.265 §7.3.2.2 ``seq_parameter_set_rbsp`` up to
``pic_height_in_luma_samples``) and drop an access unit whose SPS differs from the session's size.

The parser never raises: a truncated or malformed SPS gives ``(0, 0)``, which no session size matches.
"""

from __future__ import annotations

_H264_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


class _Bits:
    """MSB-first bit reader over an RBSP (emulation-prevention bytes removed); raises EOFError at the end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise EOFError
            v = (v << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise EOFError
        return (1 << zeros) - 1 + (self.u(zeros) if zeros else 0)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def _rbsp(nal_payload: bytes) -> bytes:
    """Remove emulation-prevention bytes (00 00 03 → 00 00)."""
    out = bytearray()
    zeros = 0
    for b in nal_payload:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _h264_scaling_list(r: _Bits, size: int) -> None:
    last, nxt = 8, 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + r.se() + 256) % 256
        last = nxt if nxt != 0 else last


def _h264_size(r: _Bits) -> tuple[int, int]:
    profile = r.u(8)
    r.u(8)  # constraint flags
    r.u(8)  # level
    r.ue()  # seq_parameter_set_id
    if profile in _H264_HIGH_PROFILES:
        chroma = r.ue()
        if chroma == 3:
            r.u(1)
        r.ue()
        r.ue()
        r.u(1)
        if r.u(1):  # seq_scaling_matrix_present_flag
            for i in range(12 if chroma == 3 else 8):
                if r.u(1):
                    _h264_scaling_list(r, 16 if i < 6 else 64)
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        for _ in range(min(r.ue(), 256)):
            r.se()
    r.ue()  # max_num_ref_frames
    r.u(1)
    w_mbs = r.ue() + 1
    h_units = r.ue() + 1
    frame_mbs_only = r.u(1)
    return 16 * w_mbs, 16 * h_units * (2 - frame_mbs_only)


def _h265_size(r: _Bits) -> tuple[int, int]:
    r.u(4)  # sps_video_parameter_set_id
    max_sub_layers_minus1 = r.u(3)
    r.u(1)
    r.u(96)  # general profile_tier_level: 88 bits of profile + general_level_idc
    prof, lev = [], []
    for _ in range(max_sub_layers_minus1):
        prof.append(r.u(1))
        lev.append(r.u(1))
    if max_sub_layers_minus1 > 0:
        for _ in range(max_sub_layers_minus1, 8):
            r.u(2)
    for p, lv in zip(prof, lev):
        if p:
            r.u(88)
        if lv:
            r.u(8)
    r.ue()  # sps_seq_parameter_set_id
    if r.ue() == 3:  # chroma_format_idc
        r.u(1)
    return r.ue(), r.ue()


def sps_picture_size(nal: bytes, decoder: str) -> tuple[int, int] | None:
    """``(width, height)`` an SPS NAL unit declares (coded size, before cropping); ``(0, 0)`` when it cannot
    be read; None when ``nal`` is not an SPS.

    Args:
        nal: one NAL unit, start code removed, header included.
        decoder: ``"h264"`` or ``"hevc"``.
    """
    if not nal:
        return None
    try:
        if decoder == "hevc":
            if len(nal) < 2 or (nal[0] >> 1) & 0x3F != 33:
                return None
            return _h265_size(_Bits(_rbsp(nal[2:])))
        if nal[0] & 0x1F != 7:
            return None
        return _h264_size(_Bits(_rbsp(nal[1:])))
    except (EOFError, IndexError, ValueError):
        return (0, 0)
