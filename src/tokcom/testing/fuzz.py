"""Receiver fuzzing: damaged and *well-formed but wrong* receptions for every registered scheme.

Lost PDUs and bit flips are caught by CRCs; what reaches a receiver's parser and decoder intact-looking is
content with valid framing and valid checksums that does not describe the sent video: NAL units with
mutated bytes repacketised under good PDU CRCs, token PDUs with good CRCs carrying random values, widths,
classes and offsets, side information with valid CRCs and random fields, top-K frames packed with random K
and masks. :func:`fuzz_receptions` yields such receptions for a scheme's own transmission; a receiver must
return a frame-aligned video for every one of them (:func:`check_receiver`), never raise or hang.

Used by ``tests/integration/test_receiver_fuzz.py`` (a few hundred cases per receiver in CI) and by
``benchmarks/bench_fuzz.py`` (a long run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from tokcom.coding.pdu import depacketize, packetize
from tokcom.coding.topk import TopKFormat, pack_frame
from tokcom.types import Packet, Reception, Transmission


def _lossy(tx: Transmission, rng: np.random.Generator) -> list[Packet | None]:
    keep = rng.random(len(tx.packets)) >= rng.random() * 0.5
    return [p if k else None for p, k in zip(tx.packets, keep)]


def _flip(p: Packet, rng: np.random.Generator, n: int = 3) -> Packet:
    b = bytearray(p.payload)
    for _ in range(n):
        if b:
            b[int(rng.integers(0, len(b)))] ^= 1 << int(rng.integers(0, 8))
    return replace(p, payload=bytes(b))


def _h26x_wellformed(tx: Transmission, rng: np.random.Generator) -> list[Packet | None]:
    """NAL units mutated (bytes, truncation, tags, NAL types, duplicates), repacketised with good CRCs."""
    msgs = depacketize([p.payload for p in tx.packets])[0]
    out = []
    n = tx.info.num_frames
    for tag, nal in msgs:
        r = rng.random()
        b = bytearray(nal)
        if r < 0.15 and len(b) > 2:
            for _ in range(int(rng.integers(1, 6))):
                b[int(rng.integers(1, len(b)))] = int(rng.integers(0, 256))
        elif r < 0.25:
            b = b[: int(rng.integers(1, max(2, len(b))))]
        elif r < 0.32:
            tag = int(rng.integers(0, 2 * n + 2))
        elif r < 0.38 and b:
            b[0] = int(rng.integers(0, 256))  # another NAL unit type (SPS, PPS, SEI, reserved …)
        elif r < 0.42:
            out.append((tag, bytes(b)))  # a duplicate
        elif r < 0.45:
            b = bytearray(rng.bytes(int(rng.integers(1, 300))))
        out.append((tag, bytes(b)))
    if rng.random() < 0.3:
        rng.shuffle(out)
    return [Packet(p) for p in packetize(out, 1200)]


def _tokencom_wellformed(tx: Transmission, rng: np.random.Generator) -> list[Packet | None]:
    """Token PDUs with valid CRCs and random values/widths/classes/offsets; side information with valid CRCs
    and random fields (tokenizer index, shapes, B_Δ, seed, counts)."""
    from tokcom.schemes.tokencom import bitstream as bs

    out: list[Packet | None] = []
    for p in tx.packets:
        r = rng.random()
        if p.stream == "side":
            si = bs.decode_side_info(bs.join_side_pdus([p.payload])[0] or b"") if r < 0.5 else None
            if si is not None and rng.random() < 0.8:
                t, h, w = si.latent_shape
                si = replace(si, tokenizer_index=int(rng.integers(0, 4)), b_delta=int(rng.integers(1, 33)),
                             latent_shape=(t, h, w) if rng.random() < 0.5 else
                             (int(rng.integers(1, 9)), int(rng.integers(1, 40)), int(rng.integers(1, 40))))
                try:
                    body = bs.encode_side_info(si)
                except (ValueError, TypeError, OverflowError):
                    body = rng.bytes(40)
            else:
                body = rng.bytes(int(rng.integers(1, 200)))
            out.extend(Packet(x, stream="side") for x in bs.side_pdus(body))
            continue
        if r < 0.5:
            bits = int(rng.integers(1, 33))
            vals = rng.integers(0, 1 << min(bits, 62), int(rng.integers(0, 600)), dtype=np.int64)
            cls = "intended" if rng.random() < 0.5 else "non_intended"
            pdus = bs.token_pdus(vals, bits, cls, int(rng.integers(1, 1024)))
            for payload, nbits, _ in pdus[:2]:
                if rng.random() < 0.3:  # a far offset
                    b = bytearray(payload)
                    b[2:6] = int(rng.integers(0, 2**31)).to_bytes(4, "big")
                    payload = bytes(b)
                out.append(Packet(payload, stream=cls, num_bits=min(nbits, 8 * len(payload))))
        else:
            out.append(p)
    return out


def _resivid_wellformed(tx: Transmission, rng: np.random.Generator) -> list[Packet | None]:
    """Top-K frames packed with valid CRCs but random tokens, masks and K; wrong lengths; extra frames."""
    out: list[Packet | None] = []
    for p in tx.packets:
        r = rng.random()
        if r < 0.5:
            L = int(rng.choice([16, 64, 256, 1024]))
            fmt = TopKFormat(L, int(rng.integers(12, 17)), int(rng.choice([0, 16, 32])))
            z = rng.integers(0, 1 << fmt.value_bits, L)
            m = rng.random(L) < rng.random()
            k = int(rng.integers(0, L + 1))
            payload, nbits = pack_frame(z, m, k, fmt)
            out.append(replace(p, payload=payload, num_bits=nbits))
        elif r < 0.6:
            out.append(replace(p, num_bits=int(rng.integers(0, 8 * len(p.payload) + 1))))
        else:
            out.append(p)
    if rng.random() < 0.1:
        out.append(out[0] if out else None)
    return out


def _pvsc_wellformed(tx: Transmission, rng: np.random.Generator) -> list[Packet | None]:
    """Side PDUs with valid CRCs but wrong content (frame index, quality, codec, symbol offset/count, a
    truncated, bit-flipped or foreign b_z (arith: ẑ and the rate map in one stream), a random rate map of a random size and range), digital symbol PDUs with valid
    CRCs and random symbols/counts, duplicates and reordering."""
    from tokcom.schemes.pvsc import bitstream as bs

    n = tx.info.num_frames
    sides = [bs.parse_side(p.payload) for p in tx.packets]
    zs = [s.z_bytes for s in sides if s is not None]
    out: list[Packet | None] = []
    for p, si in zip(tx.packets, sides):
        r = rng.random()
        if si is not None and r < 0.6:
            kind = int(rng.integers(0, 7))
            if kind == 0:
                si = replace(si, frame=int(rng.integers(0, 2 * n + 2)))
            elif kind == 1:
                q = int(rng.integers(0, 16))
                si = replace(si, quality=q if rng.random() < 0.5 else min(q + int(rng.integers(1, 256)) / 256, 15.99))
            elif kind == 2:
                si = replace(si, sym_start=int(rng.integers(0, 1 << 24)), sym_count=int(rng.integers(0, 1 << 12)))
            elif kind == 3:  # b_z (with arith: ẑ and the rate map) truncated, bit-flipped or another frame's
                z = si.z_bytes
                u = rng.random()
                if u < 0.35:
                    z = z[: int(rng.integers(0, len(z) + 1))]
                elif u < 0.7 and z:
                    i = int(rng.integers(0, len(z)))
                    z = z[:i] + bytes([z[i] ^ (1 << int(rng.integers(0, 8)))]) + z[i + 1:]
                else:
                    z = zs[int(rng.integers(0, len(zs)))] if zs else rng.bytes(12)
                si = replace(si, z_bytes=z)
            elif kind == 4:
                shape = (int(rng.integers(1, 9)), int(rng.integers(1, 9)))
                levels = int(rng.choice([16, 17, 256]))
                k = rng.integers(0, levels, shape).astype(np.uint8)
                codec = "png" if rng.random() < 0.3 else "deflate"
                si = replace(si, k_bytes=bs.encode_rate_map(k, codec, levels), codec=codec)
            elif kind == 5:
                si = replace(si, codec=str(rng.choice([c for c in bs.CODECS if c != si.codec])),
                             k_bytes=si.k_bytes if rng.random() < 0.7 else b"")
            else:
                si = replace(si, k_bytes=rng.bytes(int(rng.integers(0, 40))))
            out.append(replace(p, payload=bs.pack_side(si), num_bits=None))
        elif si is None and r < 0.5:
            sp = bs.parse_symbols_pdu(p.payload)
            frame = sp[0] if sp is not None else int(rng.integers(0, n))
            count = int(rng.integers(0, 64))
            sym = (rng.normal(size=count) + 1j * rng.normal(size=count)) * rng.choice([1.0, 1e3])
            out.append(replace(p, payload=bs.pack_symbols_pdu(frame, sym, int(rng.integers(2, 17))), num_bits=None))
        else:
            out.append(p)
    if out and all(a is not None and a.payload == b.payload for a, b in zip(out, tx.packets)):
        i = int(rng.integers(0, len(out)))
        out[i] = replace(tx.packets[i], payload=bs.pack_side(bs.SideInfo(int(rng.integers(0, n)), 0, "deflate", 0, 0,
                                                                           b"", b"")), num_bits=None)
    if rng.random() < 0.15 and out:
        out.append(out[int(rng.integers(0, len(out)))])
    if rng.random() < 0.3:
        rng.shuffle(out)
    return out


def _tvc_wellformed(tx: Transmission, rng: np.random.Generator) -> list[Packet | None]:
    """Both TVC PDUs re-sealed with valid CRCs but wrong content: GoP index, frames, grid, quantisation step,
    mask parameters, the raw-indices flag, truncated / swapped / random entropy-coded streams."""
    from tokcom.schemes.tvc import bitstream as bs

    out: list[Packet | None] = []
    for p in tx.packets:
        cp, dp = bs.parse_continuous(p.payload), bs.parse_discrete(p.payload)
        r = rng.random()
        if cp is not None and r < 0.6:
            kind = int(rng.integers(0, 5))
            if kind == 0:
                cp = replace(cp, gop=int(rng.integers(0, 4)), first_frame=int(rng.integers(0, 40)))
            elif kind == 1:
                cp = replace(cp, grid=tuple(int(v) for v in rng.integers(1, 9, 3)))
            elif kind == 2:
                cp = replace(cp, step_q8=int(rng.integers(1, 65536)))
            elif kind == 3:
                cp = replace(cp, y_bytes=cp.y_bytes[: int(rng.integers(0, len(cp.y_bytes) + 1))])
            else:
                cp = replace(cp, z_bytes=rng.bytes(int(rng.integers(0, 20))), y_bytes=rng.bytes(int(rng.integers(0, 60))))
            out.append(replace(p, payload=bs.pack_continuous(cp), num_bits=None))
        elif dp is not None and r < 0.6:
            kind = int(rng.integers(0, 4))
            if kind == 0:
                iv = int(rng.integers(1, 64))
                dp = replace(dp, interval=iv, n_visible=int(rng.integers(0, iv + 1)))
            elif kind == 1:
                dp = replace(dp, raw=not dp.raw)
            elif kind == 2:
                dp = replace(dp, data=dp.data[: int(rng.integers(0, len(dp.data) + 1))])
            else:
                dp = replace(dp, data=rng.bytes(int(rng.integers(0, 200))))
            out.append(replace(p, payload=bs.pack_discrete(dp), num_bits=None))
        else:
            out.append(p)
    if out and all(a is not None and a.payload == b.payload for a, b in zip(out, tx.packets)):
        i = int(rng.integers(0, len(out)))
        out[i] = replace(tx.packets[i], payload=bs.pack_discrete(bs.DiscretePdu(0, (1, 1, 1), 1, 1, True, b"")),
                         num_bits=None)
    if rng.random() < 0.3:
        rng.shuffle(out)
    return out


WELL_FORMED: dict[str, Callable[[Transmission, np.random.Generator], list[Packet | None]]] = {
    "h264": _h26x_wellformed, "h265": _h26x_wellformed, "tokencom": _tokencom_wellformed,
    "resivid": _resivid_wellformed, "pvsc": _pvsc_wellformed, "tvc": _tvc_wellformed,
}
"""Per scheme: well-formed-but-wrong receptions (schemes added later get the generic damage only until they
add theirs)."""


def fuzz_receptions(scheme_name: str, tx: Transmission, cases: int, seed: int = 0) -> Iterator[Reception]:
    """``cases`` receptions of ``tx``: lost PDUs, bit flips, truncations, garbage, reordering, and (for
    schemes in :data:`WELL_FORMED`) well-formed but wrong content."""
    rng = np.random.default_rng(seed)
    well = WELL_FORMED.get(scheme_name)
    for k in range(cases):
        kind = k % 4 if well is not None else k % 3
        if kind == 0:
            pk = _lossy(tx, rng)
        elif kind == 1:
            pk = [_flip(p, rng) if rng.random() < 0.3 else p for p in tx.packets]
        elif kind == 2:
            pk = [Packet(rng.bytes(int(rng.integers(0, 1300))), stream=p.stream) if rng.random() < 0.2 else
                  (replace(p, payload=p.payload[: int(rng.integers(0, len(p.payload) + 1))], num_bits=None)
                   if rng.random() < 0.2 else p) for p in tx.packets]
            if rng.random() < 0.3:
                pk = list(pk)
                rng.shuffle(pk)
        else:
            pk = well(tx, rng)
        yield Reception(tx.info, tuple(pk))


def check_receiver(scheme, tx: Transmission, cases: int, seed: int = 0) -> int:
    """Decode :func:`fuzz_receptions`; every reconstruction must be frame-aligned uint8. Returns the number of
    cases run (raises AssertionError on a wrong shape; a crash propagates)."""
    info = tx.info
    n = 0
    for rx in fuzz_receptions(scheme.name, tx, cases, seed):
        dec = scheme.decode(rx, np.random.default_rng(n))
        f = dec.video.frames
        if f.shape != (info.num_frames, info.height, info.width, 3) or f.dtype != np.uint8:
            raise AssertionError(f"{scheme.name}: reconstruction {f.shape} {f.dtype} for a damaged reception")
        n += 1
    return n
