"""Resource accounting, in one place: budgets, channel uses per PDU, bits per channel use, CBR, enforcement.

Every conversion between a rate target, channel uses, source bits and CBR lives here; schemes, links and the
pipeline call these functions and never re-derive them.

Equations:

* TokenCom eq. (16), 000_cfad1eb21f67e2e2.txt: g_raw = ρ_oh·m·r (bits per channel use after physical-layer
  overhead; the paper sets ρ_oh = 0.85 — in tokcom ρ_oh is the link's ``overhead`` option, default 1.0).
* TokenCom eq. (18): C̄_PDU = B_PDU / g_raw (Hz·s, i.e. complex channel uses), T̄_PDU = C̄_PDU / W_B (s).
* TokenCom eq. (19): per-token c = C̄_PDU / L_c, τ = T̄_PDU / L_c.
* Resi-VidTok eq. (1), 001_c16fa1dac0c35e06.txt / PVSC eq. (5), 002_165f6aebfafa3581.txt:
  CBR = channel uses / (T·H·W·C).
* Resi-VidTok eq. (9): deliverable bits B = ⌊ρ·k·log2 M⌋ for k channel uses at code rate ρ (here times ρ_oh).

The *exact* channel-use count of a PDU (:func:`pdu_channel_uses`) goes through the TB mapping of
:func:`tokcom.link.phy.tb_layout` (valid TB size, CRC and LDPC parity included) and then divides by ρ_oh;
eq. (18) is the idealised count (no TB quantisation). The budget is enforced with the exact count.

The budget rule (:func:`enforce_budget`, applied by :func:`tokcom.simulate` to every scheme): with a rate
target, a transmission may occupy at most ``LinkState.channel_use_budget`` channel uses. PDUs are sent in
the order of their ``priority`` (highest first; equal priorities in sending order) as long as they fit; the
first PDU that does not fit, and every PDU after it in that order, is not sent. Analog symbols get what the
PDUs leave and are cut at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tokcom.errors import InputError
from tokcom.link.phy import MAX_TB_BITS, tb_layout
from tokcom.types import Mcs, Rate, StreamInfo


def check_overhead(overhead: float) -> float:
    if not (0.0 < float(overhead) <= 1.0):
        raise InputError(f"--overhead (ρ_oh) must be in (0, 1]; got {overhead}")
    return float(overhead)


# --------------------------------------------------------------------------------------------- budgets
def channel_use_budget(info: StreamInfo, rate: Rate, bits_per_channel_use: float | None) -> int | None:
    """Complex channel uses available for the whole video under ``rate`` (None: no rate target).

    ``cbr`` → ⌊cbr·T·H·W·3⌋ (Resi-VidTok eq. 1 / PVSC eq. 5); ``bandwidth_hz`` → ⌊B·duration⌋ (one complex
    symbol per Hz per second, TokenCom eqs. 18–19); ``bitrate_bps`` → ⌈bitrate·duration / bits per channel
    use⌉ (the channel uses that source bitrate needs at the link's MCS).
    """
    if rate.cbr is not None:
        return math.floor(rate.cbr * info.num_samples + 1e-9)
    if rate.bandwidth_hz is not None:
        return math.floor(rate.bandwidth_hz * info.duration_s + 1e-9)
    if rate.bitrate_bps is not None and bits_per_channel_use is not None and bits_per_channel_use > 0:
        return math.ceil(rate.bitrate_bps * info.duration_s / bits_per_channel_use - 1e-9)
    return None


def budget_bitrate(channel_uses: int, bits_per_channel_use: float, duration_s: float) -> float:
    """The source bitrate (bit/s) that fills ``channel_uses`` at ``bits_per_channel_use`` over ``duration_s``."""
    if duration_s <= 0:
        raise InputError(f"duration must be positive; got {duration_s}")
    return channel_uses * bits_per_channel_use / duration_s


def cbr(channel_uses: int, info: StreamInfo) -> float:
    """Channel bandwidth ratio, eq. (1) 001_c16fa1dac0c35e06.txt / eq. (5) 002_165f6aebfafa3581.txt."""
    return channel_uses / info.num_samples


def cbr_to_bitrate(cbr_value: float, info: StreamInfo, mcs: Mcs, overhead: float = 1.0) -> float:
    """Source bitrate (bit/s) a CBR buys at ``mcs``: CBR·T·H·W·3·ρ_oh·Qm·R / duration."""
    return cbr_value * info.num_samples * raw_spectral_efficiency(mcs, overhead) / info.duration_s


# --------------------------------------------------------------------------------------------- per PDU
def raw_spectral_efficiency(mcs: Mcs, overhead: float = 1.0) -> float:
    """g_raw = ρ_oh·Qm·R, eq. (16), 000_cfad1eb21f67e2e2.txt."""
    return check_overhead(overhead) * mcs.num_bits_per_symbol * mcs.coderate


def pdu_resource(pdu_bits: float, mcs: Mcs, overhead: float = 1.0, bandwidth_hz: float | None = None
                 ) -> tuple[float, float | None]:
    """(C̄_PDU in Hz·s, T̄_PDU in s or None without a bandwidth), eq. (18), 000_cfad1eb21f67e2e2.txt."""
    c = pdu_bits / raw_spectral_efficiency(mcs, overhead)
    return c, (c / bandwidth_hz if bandwidth_hz else None)


def per_token_resource(pdu_bits: float, tokens_per_pdu: int, mcs: Mcs, overhead: float = 1.0,
                       bandwidth_hz: float | None = None) -> tuple[float, float | None]:
    """(c, τ) per token, eq. (19), 000_cfad1eb21f67e2e2.txt."""
    c, t = pdu_resource(pdu_bits, mcs, overhead, bandwidth_hz)
    return c / tokens_per_pdu, (t / tokens_per_pdu if t is not None else None)


def pdu_channel_uses(num_bits: int, mcs: Mcs, overhead: float = 1.0) -> int:
    """Complex channel uses one PDU of ``num_bits`` occupies: ⌈(G/Qm)/ρ_oh⌉ with the TB mapping of phy."""
    lay = tb_layout(int(num_bits), mcs.num_bits_per_symbol, mcs.coderate)
    return math.ceil(lay.num_symbols / check_overhead(overhead) - 1e-9)


def erasure_channel_uses(num_bits: int, bits_per_channel_use: float) -> int:
    """Channel uses of a PDU on a link without a PHY (erasure): ⌈bits / bits per channel use⌉."""
    return math.ceil(int(num_bits) / bits_per_channel_use - 1e-9)


def deliverable_bits(channel_uses: int, mcs: Mcs, overhead: float = 1.0) -> int:
    """B = ⌊ρ_oh·R·Qm·k⌋ for ``channel_uses`` = k, eq. (9), 001_c16fa1dac0c35e06.txt."""
    return math.floor(raw_spectral_efficiency(mcs, overhead) * channel_uses + 1e-9)


# --------------------------------------------------------------------------------------------- enforcement
@dataclass(frozen=True, eq=False)
class BudgetDecision:
    """What :func:`enforce_budget` lets go out.

    Attributes:
        sent: ``[P]`` bool, per PDU of the transmission.
        symbols_sent: analog symbols sent (a prefix of ``Transmission.symbols``).
        channel_uses: channel uses of what is sent.
        channel_uses_requested: channel uses of the whole transmission.
        budget: the budget (None: no rate target).
    """

    sent: np.ndarray
    symbols_sent: int
    channel_uses: int
    channel_uses_requested: int
    budget: int | None

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.channel_uses_requested > self.budget

    @property
    def num_unsent(self) -> int:
        return int((~self.sent).sum())


def enforce_budget(packet_uses: Sequence[int], priorities: Sequence[int], budget: int | None,
                   num_symbols: int = 0) -> BudgetDecision:
    """Decide which PDUs (and how many analog symbols) go out under ``budget`` (module docstring's rule).

    Args:
        packet_uses: channel uses of each PDU (:func:`pdu_channel_uses` / the link's count).
        priorities: each PDU's ``Packet.priority`` (higher is sent first; ties in sending order).
        budget: channel uses allowed, or None (no rate target: everything goes out).
        num_symbols: analog symbols of the transmission (one channel use each).
    """
    uses = np.asarray(packet_uses, dtype=np.int64)
    n = uses.size
    total = int(uses.sum()) + int(num_symbols)
    if budget is None or total <= budget:
        return BudgetDecision(np.ones(n, bool), int(num_symbols), total, total, budget)
    if budget < 0:
        raise InputError(f"the channel-use budget must be ≥ 0; got {budget}")
    order = sorted(range(n), key=lambda i: (-int(priorities[i]), i))
    sent = np.zeros(n, bool)
    used = 0
    for i in order:
        if used + int(uses[i]) > budget:
            break
        sent[i] = True
        used += int(uses[i])
    syms = int(min(int(num_symbols), budget - used)) if sent.all() else 0
    return BudgetDecision(sent, syms, used + syms, total, budget)


# --------------------------------------------------------------------------------------------- budget → bits
@lru_cache(maxsize=8192)
def payload_bits_within(channel_uses: int, num_bits_per_symbol: int, coderate: float, overhead: float,
                        cap: int | None = None) -> tuple[int, int]:
    """``(B_eq9, B_exact)``: the payload bits ``channel_uses`` = k_t buy at MCS (Qm, R) over a link with a PHY.

    B_eq9 = ⌊ρ_oh·R·k_t·Qm⌋ — eq. (9), 001_c16fa1dac0c35e06.txt. B_exact = the largest payload whose PDU
    occupies at most k_t channel uses as the link counts them (:func:`pdu_channel_uses`: TB CRC, valid TB
    sizes, LDPC rounding), by binary search on ``[0, min(B_eq9, cap)]``; 0 when not even the smallest TB
    fits. ``cap`` (the most a PDU can carry) bounds the search. A size the TB mapping cannot place counts as
    not fitting.
    """
    mcs = Mcs(int(num_bits_per_symbol), float(coderate))
    eq9 = deliverable_bits(int(channel_uses), mcs, overhead)  # eq. (9)

    def fits(b: int) -> bool:
        try:
            return pdu_channel_uses(b, mcs, overhead) <= channel_uses
        except (RuntimeError, InputError):  # a size tb_layout cannot place: treat as too large
            return False

    hi = min(eq9, MAX_TB_BITS, cap if cap is not None else MAX_TB_BITS)
    if hi <= 0 or not fits(0):
        return eq9, 0
    if fits(hi):
        return eq9, hi
    lo = 0  # invariant: fits(lo) and not fits(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return eq9, lo


def erasure_payload_bits_within(channel_uses: int, bits_per_channel_use: float) -> tuple[int, int]:
    """No PHY (erasure link): eq. (9) with ρ·log2 M replaced by the link's bits per channel use, and the
    largest payload whose :func:`erasure_channel_uses` is ≤ ``channel_uses``."""
    eq9 = math.floor(channel_uses * bits_per_channel_use + 1e-9)
    b = eq9
    while b > 0 and erasure_channel_uses(b, bits_per_channel_use) > channel_uses:
        b -= 1
    return eq9, b
