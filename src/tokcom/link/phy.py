"""Bit-true 5G NR physical layer on Sionna PHY (PyTorch): TB sizing, CRC, segmentation, LDPC, QAM, channel.

Chain for one PDU (all PDUs of the same layout are processed as one batch)::

    payload bits ──zero-pad──► TB (valid 38.214 TB size ≥ payload) ──TBEncoder──► coded bits ──(repeat)──►
    ──Mapper (Gray QAM, Es = 1)──► channel (AWGN | Rayleigh block fading) ──► equaliser (ZF | LMMSE) ──►
    ──APP Demapper──► (fold repeats) ──TBDecoder (BP, 20 it.)──► TB bits + TB CRC status

``sionna.phy.nr.TBEncoder`` does the 38.212 chain: TB CRC (CRC16 for TBS ≤ 3824, else CRC24A), code-block
segmentation with CRC24B per code block, 5G LDPC (base graph by 38.212), rate matching, bit interleaving and
scrambling; ``TBDecoder`` inverts it and reports the TB CRC.

Mapping of a PDU of ``num_bits`` bits at MCS (Qm, R) to a transport block (:func:`tb_layout`):

1. TB size: the smallest valid 38.214 §5.1.3.2 TB size ≥ ``max(num_bits, 24)`` (the payload is
   zero-padded; padding is known to both ends and stripped at the receiver).
2. Coded bits G = Qm·⌈TBS/(R·Qm)⌉, i.e. TBS/G ≈ R as in 38.214 where TBS ≈ N_RE·R·Qm; the TB CRC and the
   code-block CRCs live inside G (so the LDPC code rate is a little above R).
3. Sionna's LDPC accepts code rates k/n in [1/5, 948/1024] per code block (38.212 5.4.2.1). Outside:
   * above 948/1024 (tiny TBs whose CRC dominates, or R close to 0.93): G is raised until every code block
     is at most 948/1024; the PDU then costs more channel uses than Qm·R suggests (reported);
   * below 1/5 (38.214 rows with R < 0.2, e.g. Table 1 rows 0–2, Table 3 rows 0–5): the TB is encoded at
     the lowest allowed rate into G' ≤ G coded bits and the G' bits are repeated cyclically to fill G (what
     the 38.212 circular buffer does past its end); the receiver adds the LLRs of the repeats.
4. Channel uses per PDU = G/Qm data symbols, divided by the overhead factor ρ_oh (TokenCom eq. 16) in the
   link's accounting (:mod:`tokcom.link.links`).

SNR is Es/N0 per complex channel use (PVSC eq. 2, 002_165f6aebfafa3581.txt) with unit-energy QAM, so the
noise variance is ``no = 10**(-snr_db/10)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from tokcom.devices import resolve_device
from tokcom.errors import InputError

MAX_LDPC_RATE = 948 / 1024  # 38.212 §5.4.2.1; Sionna warns above it and refuses above 0.95
MIN_LDPC_RATE = 1 / 5  # lowest rate of the 5G base graph 2 that Sionna's encoder accepts
MAX_TB_BITS = 1_277_992  # largest 38.214 TB size (1 layer would never get there; sanity bound)


@dataclass(frozen=True)
class TbLayout:
    """How one PDU maps onto a transport block.

    Attributes:
        num_bits_per_symbol: Qm.
        coderate: the MCS's target code rate R.
        tb_size: valid 38.214 TB size (information bits incl. zero padding, without CRC).
        num_cb: number of LDPC code blocks.
        cb_size: information bits per code block, CRC included (LDPC k).
        num_coded_bits: G, coded bits sent (multiple of Qm).
        ldpc_coded_bits: G' coded bits out of the TB encoder (G' < G when repetition is used).
    """

    num_bits_per_symbol: int
    coderate: float
    tb_size: int
    num_cb: int
    cb_size: int
    num_coded_bits: int
    ldpc_coded_bits: int

    @property
    def num_symbols(self) -> int:
        """Complex data symbols per PDU (G/Qm), before the overhead factor."""
        return self.num_coded_bits // self.num_bits_per_symbol

    @property
    def repetition(self) -> bool:
        return self.ldpc_coded_bits < self.num_coded_bits

    @property
    def effective_coderate(self) -> float:
        """TB information bits per coded bit (TBS/G)."""
        return self.tb_size / self.num_coded_bits


def _calc(qm: int, rate: float, target: int, g: int) -> tuple[int, int, int, np.ndarray]:
    """Sionna's 38.214 TB sizing → (tb_size, cb_size, num_cb, cw_lengths)."""
    import torch
    from sionna.phy.nr.utils import calculate_tb_size

    out = calculate_tb_size(modulation_order=qm, target_coderate=float(rate), target_tb_size=int(target),
                            num_coded_bits=int(g), num_layers=1, return_cw_length=True, device="cpu")
    cw = out[5]
    cw = cw.cpu().numpy() if isinstance(cw, torch.Tensor) else np.asarray(cw)
    cw = cw.reshape(-1)
    return int(out[0]), int(out[1]), int(out[2]), cw[cw > 0]


@lru_cache(maxsize=4096)
def tb_layout(num_bits: int, num_bits_per_symbol: int, coderate: float) -> TbLayout:
    """Map a PDU of ``num_bits`` payload bits to a valid TB at MCS (Qm, R) (see module docstring).

    Args:
        num_bits: payload bits (≥ 0; 0 still sends the minimum TB of 24 bits).
        num_bits_per_symbol: Qm ∈ {2, 4, 6, 8}.
        coderate: target code rate R in (0, 948/1024].

    Returns:
        The :class:`TbLayout`.
    """
    qm = int(num_bits_per_symbol)
    rate = float(coderate)
    if qm not in (2, 4, 6, 8):
        raise InputError(f"num_bits_per_symbol must be 2, 4, 6 or 8; got {qm}")
    if not (0.0 < rate <= MAX_LDPC_RATE + 1e-9):
        raise InputError(f"code rate must be in (0, {MAX_LDPC_RATE:.4f}]; got {rate}")
    rate = min(rate, MAX_LDPC_RATE)
    if not 0 <= num_bits <= MAX_TB_BITS:
        raise InputError(f"PDU of {num_bits} bits is outside 0..{MAX_TB_BITS}")

    def g_of(tbs: int) -> int:
        return qm * math.ceil(tbs / (rate * qm))

    need = max(int(num_bits), 24)
    target = need
    for i in range(256):
        tbs, _, _, _ = _calc(qm, rate, target, g_of(target))
        if tbs >= need:
            break
        # Large TBs are quantised in steps of 2^n with n = ⌊log2(N_info − 24)⌋ − 5 (38.214 §5.1.3.2), i.e.
        # N/64 … N/32 bits: after a few small steps, move by N/64 (never past a valid size).
        target += max(8, need - tbs) if i < 8 else max(8, target >> 6)
    else:  # pragma: no cover - the quantisation step is bounded, so this never runs out
        raise RuntimeError(f"no valid TB size found for {num_bits} bits")
    g = g_of(tbs)
    for _ in range(256):
        tbs2, cb_size, num_cb, cw = _calc(qm, rate, tbs, g)
        if tbs2 != tbs:  # pragma: no cover - valid TB sizes map to themselves
            raise RuntimeError(f"TB size {tbs} is not a fixed point of 38.214 quantisation ({tbs2})")
        if cb_size / cw.min() <= MAX_LDPC_RATE:
            break
        # raise G until every code block is at or below 948/1024
        g = max(g + qm * num_cb, qm * math.ceil(num_cb * cb_size / MAX_LDPC_RATE / qm) + qm * num_cb)
    g_ldpc = g
    if cb_size / cw.max() < MIN_LDPC_RATE:
        # encode at rate ≥ 1/5 into G' bits, then repeat cyclically to G
        g_ldpc = qm * num_cb * (cb_size * 5 // qm)  # E ≤ 5·k per code block
        while g_ldpc > qm:
            _, cb2, _, cw2 = _calc(qm, rate, tbs, g_ldpc)
            if cb2 == cb_size and cb_size / cw2.max() >= MIN_LDPC_RATE:
                break
            g_ldpc -= qm * num_cb
    return TbLayout(qm, float(coderate), tbs, num_cb, cb_size, g, g_ldpc)


@dataclass(frozen=True)
class ChannelSpec:
    """The channel between mapper and demapper.

    Attributes:
        kind: ``"awgn"`` or ``"rayleigh"`` (PVSC eq. 1: y = h⊙s + n, block fading).
        coherence_channel_uses: L_co, symbols per i.i.d. CN(0,1) fading block (Rayleigh).
        csi_nmse_db: CSI NMSE in dB (PVSC eq. 3), ĥ = h + e, e ~ CN(0, 10^(NMSE/10)); None = perfect CSI.
        equalizer: ``"zf"`` (PVSC eq. 4: ŝ = ĥ* y / |ĥ|², demapper told no/|ĥ|², CSI taken as exact) or
            ``"lmmse"`` (MMSE refinement h̄ = ĥ/(1+σe²) with residual σ² = σe²/(1+σe²) counted as noise,
            unbiased output, demapper told (no + σ²)/|h̄|²). Identical under perfect CSI for one antenna.
    """

    kind: str = "awgn"
    coherence_channel_uses: int = 1
    csi_nmse_db: float | None = None
    equalizer: str = "lmmse"

    def __post_init__(self) -> None:
        if self.kind not in ("awgn", "rayleigh"):
            raise InputError(f"channel must be awgn or rayleigh; got {self.kind!r}")
        if self.equalizer not in ("zf", "lmmse"):
            raise InputError(f"--equalizer must be zf or lmmse; got {self.equalizer!r}")
        if int(self.coherence_channel_uses) < 1:
            raise InputError(f"--coherence-channel-uses must be ≥ 1; got {self.coherence_channel_uses}")


def seed_from(rng: np.random.Generator) -> int:
    """A 63-bit seed drawn from ``rng`` (so the same Generator state gives the same PHY randomness)."""
    return int(rng.integers(0, 2**63 - 1))


def set_sionna_seed(seed: int) -> None:
    """Seed Sionna's global RNGs (``sionna.phy.config.seed``; note: also reseeds torch's default generator)."""
    from sionna.phy import config

    config.seed = int(seed)


def apply_channel(x: Any, no: float, spec: ChannelSpec, device: str = "cpu") -> tuple[Any, Any]:
    """Channel plus equaliser.

    Args:
        x: ``[B, S]`` complex64 unit-energy symbols (torch).
        no: noise variance per complex symbol (Es/N0 = 1/no).
        spec: the channel.
        device: torch device.

    Returns:
        ``(x_hat, no_eff)``: equalised symbols ``[B, S]`` complex64 and the noise variance the demapper
        should assume, broadcastable to ``[B, S]`` (float32).
    """
    import torch
    from sionna.phy import config
    from sionna.phy.channel import AWGN

    awgn = AWGN(device=device)
    if spec.kind == "awgn":
        y = awgn(x, torch.tensor(no, dtype=torch.float32, device=device))
        return y, torch.tensor(no, dtype=torch.float32, device=device)
    gen = config.torch_rng(device)
    b, s = x.shape
    lco = int(spec.coherence_channel_uses)
    nblk = -(-s // lco)

    def cn(shape: tuple[int, ...], var: float) -> torch.Tensor:
        re = torch.randn(shape, generator=gen, device=device)
        im = torch.randn(shape, generator=gen, device=device)
        return torch.complex(re, im) * math.sqrt(var / 2.0)

    h_blk = cn((b, nblk), 1.0)  # PVSC §II: h ~ CN(0,1) i.i.d. per coherence block of L_co uses
    var_e = 0.0 if spec.csi_nmse_db is None else 10.0 ** (spec.csi_nmse_db / 10.0)  # eq. (3), 002_…
    h_hat_blk = h_blk + cn((b, nblk), var_e) if var_e > 0 else h_blk
    h = h_blk.repeat_interleave(lco, dim=1)[:, :s]
    h_hat = h_hat_blk.repeat_interleave(lco, dim=1)[:, :s]
    y = awgn(h * x, torch.tensor(no, dtype=torch.float32, device=device))  # eq. (1), 002_…
    if spec.equalizer == "zf":
        g2 = (h_hat.abs() ** 2).clamp_min(1e-12)
        x_hat = y * h_hat.conj() / g2  # eq. (4), 002_165f6aebfafa3581.txt
        return x_hat, (no / g2).float()
    h_bar = h_hat / (1.0 + var_e)
    var_res = var_e / (1.0 + var_e)
    g2 = (h_bar.abs() ** 2).clamp_min(1e-12)
    w = h_bar.conj() / (g2 + var_res + no)  # LMMSE filter
    x_lmmse = w * y
    bias = (w * h_bar).real.clamp_min(1e-12)  # E[x_hat | x] = bias · x
    return x_lmmse / bias, ((no + var_res) / g2).float()


_BLOCKS: dict[tuple, tuple] = {}  # (layout, device, BP iterations) → (TBEncoder, TBDecoder, Mapper, Demapper)


class BitTruePhy:
    """Batched bit-true PHY. Encoders/decoders are built once per :class:`TbLayout` and cached.

    Args:
        device: torch device (``"cpu"`` or ``"cuda"``/``"cuda:0"``).
        num_bp_iter: BP iterations of the LDPC decoder (Sionna default 20).
        batch_size: PDUs per batch (memory bound).
        num_threads: torch CPU threads while decoding (restored afterwards); None leaves torch's setting.
            Default 1: Sionna's BP decoder issues many small ops, and on a shared/oversubscribed CPU
            torch's multi-threaded kernels spin-wait — measured 2.66 s vs 0.02 s for one 1032-bit TB and
            9.2 s vs 2.0 s for 128 TBs (2 threads vs 1, 2-core machine under load 7.5).
    """

    def __init__(self, device: str = "cpu", num_bp_iter: int = 20, batch_size: int = 256,
                 num_threads: int | None = 1) -> None:
        self.device = _resolve_device(device)
        self.num_threads = num_threads
        self.num_bp_iter = int(num_bp_iter)
        self.batch_size = int(batch_size)
        self._blocks = _BLOCKS  # shared by every BitTruePhy: building an LDPC decoder takes seconds

    def _get(self, layout: TbLayout) -> tuple:
        key = (layout, self.device, self.num_bp_iter)
        if key not in self._blocks:
            from sionna.phy.mapping import Demapper, Mapper
            from sionna.phy.nr import TBDecoder, TBEncoder

            qm = layout.num_bits_per_symbol
            enc = TBEncoder(target_tb_size=layout.tb_size, num_coded_bits=layout.ldpc_coded_bits,
                            target_coderate=min(layout.coderate, MAX_LDPC_RATE), num_bits_per_symbol=qm,
                            channel_type="PDSCH", device=self.device)
            if enc.tb_size != layout.tb_size:  # pragma: no cover
                raise RuntimeError(f"Sionna chose TB size {enc.tb_size}, expected {layout.tb_size}")
            dec = TBDecoder(enc, num_bp_iter=self.num_bp_iter, device=self.device)
            self._blocks[key] = (enc, dec, Mapper("qam", qm, device=self.device),
                                 Demapper("app", "qam", qm, device=self.device))
        return self._blocks[key]

    def transmit(self, bits: np.ndarray, layout: TbLayout, snr_db: float, channel: ChannelSpec,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Send a batch of TBs of one layout through the chain.

        Args:
            bits: ``[B, tb_size]`` uint8 in {0, 1} (zero-padded payloads).
            layout: their :class:`TbLayout`.
            snr_db: Es/N0 per complex channel use (dB).
            channel: the channel and equaliser.
            seed: seeds Sionna's RNG for this call (noise, fading, CSI error).

        Returns:
            ``(bits_hat [B, tb_size] uint8, crc_ok [B] bool)``.
        """
        import torch

        enc, dec, mapper, demapper = self._get(layout)
        set_sionna_seed(seed)
        no = 10.0 ** (-float(snr_db) / 10.0)
        out_bits = np.zeros_like(bits, dtype=np.uint8)
        ok = np.zeros(bits.shape[0], dtype=bool)
        g, g1 = layout.num_coded_bits, layout.ldpc_coded_bits
        # BP messages underflow to denormals at high SNR, which makes CPU decoding up to ~40x slower;
        # flush them to zero while decoding (restored to torch's default, False, afterwards)
        prev_threads = torch.get_num_threads()
        threads = self.num_threads if self.device == "cpu" else None
        torch.set_flush_denormal(True)
        try:
            if threads and threads != prev_threads:
                torch.set_num_threads(threads)
            self._run(bits, out_bits, ok, layout, no, channel, enc, dec, mapper, demapper, g, g1)
        finally:
            torch.set_flush_denormal(False)
            if torch.get_num_threads() != prev_threads:
                torch.set_num_threads(prev_threads)
        return out_bits, ok

    def _run(self, bits, out_bits, ok, layout, no, channel, enc, dec, mapper, demapper, g, g1) -> None:
        import torch

        with torch.no_grad():
            for s in range(0, bits.shape[0], self.batch_size):
                u = torch.as_tensor(bits[s:s + self.batch_size], dtype=torch.float32, device=self.device)
                c = enc(u)
                if g1 < g:  # cyclic repetition past the lowest LDPC rate
                    reps = -(-g // g1)
                    c = c.repeat(1, reps)[:, :g]
                x = mapper(c).reshape(u.shape[0], -1)
                x_hat, no_eff = apply_channel(x, no, channel, self.device)
                llr = demapper(x_hat, no_eff.expand(x_hat.shape) if no_eff.dim() else no_eff)
                llr = llr.reshape(u.shape[0], g)
                if g1 < g:  # add the LLRs of the repeats
                    reps = -(-g // g1)
                    pad = torch.zeros(u.shape[0], reps * g1 - g, device=self.device)
                    llr = torch.cat([llr, pad], dim=1).reshape(u.shape[0], reps, g1).sum(1)
                u_hat, crc_ok = dec(llr)
                out_bits[s:s + u.shape[0]] = u_hat.round().to(torch.uint8).cpu().numpy()
                ok[s:s + u.shape[0]] = crc_ok.reshape(-1).cpu().numpy().astype(bool)


def _resolve_device(device: str | None) -> str:
    """Sionna's device string: ``cuda`` → ``cuda:0`` (checked by :func:`tokcom.devices.resolve_device`)."""
    d = resolve_device(device)
    return f"cuda:{d.index or 0}" if d.type == "cuda" else "cpu"


def simulate_bler(num_bits_per_symbol: int, coderate: float, k: int, snr_db: list[float], *,
                  num_blocks: int = 300, max_errors: int | None = None, channel: ChannelSpec | None = None,
                  seed: int = 0, device: str = "cpu", batch_size: int = 200,
                  phy: BitTruePhy | None = None) -> list[dict]:
    """Monte Carlo BLER of TBs carrying ``k`` payload bits (random bits, seeded).

    Args:
        num_bits_per_symbol: Qm.
        coderate: R.
        k: payload bits per block (mapped to a valid TB size ≥ k).
        snr_db: SNR points (Es/N0, dB).
        num_blocks: blocks per point (upper bound when ``max_errors`` is given).
        max_errors: stop a point once this many block errors were seen (None: run all blocks).
        channel: the channel (AWGN by default).
        seed: base seed; point i uses an independent stream.
        device: torch device.

    Returns:
        One dict per point: ``snr_db, bler, blocks, errors`` (error = TB CRC failure or payload mismatch).
    """
    channel = channel or ChannelSpec()
    phy = phy or BitTruePhy(device=device, batch_size=batch_size)
    layout = tb_layout(int(k), int(num_bits_per_symbol), float(coderate))
    points = []
    for i, snr in enumerate(snr_db):
        rng = np.random.default_rng([int(seed), i])
        blocks = errors = 0
        while blocks < num_blocks and (max_errors is None or errors < max_errors):
            nb = min(batch_size, num_blocks - blocks)
            bits = np.zeros((nb, layout.tb_size), dtype=np.uint8)
            bits[:, :k] = rng.integers(0, 2, size=(nb, k), dtype=np.uint8)
            bits_hat, ok = phy.transmit(bits, layout, float(snr), channel, seed_from(rng))
            bad = ~ok | np.any(bits_hat[:, :k] != bits[:, :k], axis=1)
            blocks += nb
            errors += int(bad.sum())
        points.append({"snr_db": float(snr), "bler": errors / blocks, "blocks": blocks, "errors": errors})
    return points
