"""Resource accounting: channel uses per PDU, spectral efficiency with overhead, Hz·s and time per PDU, CBR.

Equations:

* TokenCom eq. (16), 000_cfad1eb21f67e2e2.txt: g_raw = ρ_oh·m·r (bits per channel use after physical-layer
  overhead; the paper fixes ρ_oh = 0.85).
* TokenCom eq. (18): C̄_PDU = B_PDU / g_raw (Hz·s, i.e. complex channel uses), T̄_PDU = C̄_PDU / W_B (s).
* TokenCom eq. (19): per-token c = C̄_PDU / L_c, τ = T̄_PDU / L_c.
* Resi-VidTok eq. (1), 001_c16fa1dac0c35e06.txt / PVSC eq. (5), 002_165f6aebfafa3581.txt:
  CBR = channel uses / (T·H·W·C).
* Resi-VidTok eq. (9): deliverable bits B = ⌊ρ·k·log2 M⌋ for k channel uses at code rate ρ (here times ρ_oh).

The *bit-true* channel-use count of a PDU (:func:`pdu_channel_uses`) goes through the TB mapping of
:func:`tokcom.link.phy.tb_layout` (valid TB size, CRC and LDPC parity included) and then divides by ρ_oh;
eq. (18) is the idealised count (no TB quantisation).
"""

from __future__ import annotations

import math

from tokcom.errors import InputError
from tokcom.types import Mcs, StreamInfo


def check_overhead(overhead: float) -> float:
    if not (0.0 < float(overhead) <= 1.0):
        raise InputError(f"--overhead (ρ_oh) must be in (0, 1]; got {overhead}")
    return float(overhead)


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
    from tokcom.link.phy import tb_layout

    lay = tb_layout(int(num_bits), mcs.num_bits_per_symbol, mcs.coderate)
    return int(math.ceil(lay.num_symbols / check_overhead(overhead) - 1e-9))


def deliverable_bits(channel_uses: int, mcs: Mcs, overhead: float = 1.0) -> int:
    """B = ⌊ρ_oh·R·Qm·k⌋ for ``channel_uses`` = k, eq. (9), 001_c16fa1dac0c35e06.txt."""
    return int(math.floor(raw_spectral_efficiency(mcs, overhead) * channel_uses + 1e-9))


def cbr(channel_uses: int, info: StreamInfo) -> float:
    """Channel bandwidth ratio, eq. (1) 001_c16fa1dac0c35e06.txt / eq. (5) 002_165f6aebfafa3581.txt."""
    return channel_uses / info.num_samples


def cbr_to_bitrate(cbr_value: float, info: StreamInfo, mcs: Mcs, overhead: float = 1.0) -> float:
    """Source bitrate (bit/s) a CBR buys at ``mcs``: CBR·T·H·W·3·ρ_oh·Qm·R / duration."""
    return cbr_value * info.num_samples * raw_spectral_efficiency(mcs, overhead) / info.duration_s
