"""Link adaptation: the highest-throughput MCS whose BLER stays below a target (Resi-VidTok eq. 8).

(ρ_t, M_t) = μ(γ̂_t) s.t. BLER(ρ_t, M_t; γ̂_t, k_t) ≤ ε — eq. (8), 001_c16fa1dac0c35e06.txt, default
ε = 0.002 (its §IV-A). Among the feasible MCS the one with the largest throughput Qm·R·(1 − BLER) is taken
(with BLER ≤ ε this is the largest spectral efficiency). When no MCS meets the target the most robust one
(lowest Qm·R) is returned with ``feasible=False``. BLERs come from the abstract PHY
(:mod:`tokcom.link.abstract`): AWGN tables, or their MIESM average over Rayleigh block fading when the
transmitter knows only the average SNR.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tokcom.errors import InputError
from tokcom.link import abstract
from tokcom.link.accounting import deliverable_bits
from tokcom.link.mcs import mcs_table
from tokcom.types import Mcs

DEFAULT_BLER_TARGET = 0.002  # Resi-VidTok §IV-A, 001_c16fa1dac0c35e06.txt


@dataclass(frozen=True)
class Adapted:
    """Result of link adaptation.

    Attributes:
        mcs: chosen MCS.
        bler: its BLER at the SNR for the given block size.
        feasible: whether ``bler`` ≤ target.
    """

    mcs: Mcs
    bler: float
    feasible: bool


def awgn_bler_fn(k: int) -> Callable[[Mcs, float], float]:
    """BLER(mcs, snr_db) over AWGN for ``k``-bit PDUs (abstract tables)."""
    return lambda m, s: float(abstract.bler(m.num_bits_per_symbol, m.coderate, s, k))


def rayleigh_bler_fn(k: int, coherence_channel_uses: int, csi_nmse_db: float | None,
                     num_draws: int = 200) -> Callable[[Mcs, float], float]:
    """Average BLER over Rayleigh block fading (MIESM, fixed draws so the choice is deterministic)."""
    return lambda m, s: abstract.fading_bler_mean(m.num_bits_per_symbol, m.coderate, s, k,
                                                  coherence_channel_uses, csi_nmse_db, num_draws=num_draws)


def select_mcs(snr_db: float, *, candidates: Sequence[Mcs] | None = None, table: int = 1, k: int = 1024,
               bler_target: float = DEFAULT_BLER_TARGET,
               bler_fn: Callable[[Mcs, float], float] | None = None) -> Adapted:
    """Eq. (8), 001_c16fa1dac0c35e06.txt: the best MCS with BLER ≤ ``bler_target`` at ``snr_db``.

    Args:
        snr_db: (estimated) SNR, Es/N0 per complex channel use.
        candidates: MCS to choose from (default: every row of 38.214 Table 5.1.3.1-``table``).
        k: PDU payload bits the BLER refers to.
        bler_target: ε.
        bler_fn: BLER(mcs, snr_db) (default: AWGN tables at ``k``).
    """
    if not (0.0 < bler_target < 1.0):
        raise InputError(f"--bler-target must be in (0, 1); got {bler_target}")
    cands = sorted(candidates if candidates is not None else mcs_table(table),
                   key=lambda m: m.spectral_efficiency)
    if not cands:
        raise InputError("no candidate MCS")
    fn = bler_fn or awgn_bler_fn(k)
    best: Adapted | None = None
    for m in cands:
        b = fn(m, snr_db)
        if b <= bler_target and (best is None or m.spectral_efficiency * (1.0 - b)
                                 >= best.mcs.spectral_efficiency * (1.0 - best.bler)):
            best = Adapted(m, b, True)
    if best is None:
        m = cands[0]
        best = Adapted(m, fn(m, snr_db), False)
    return best


def deliverable_source_bits(channel_uses: int, mcs: Mcs, overhead: float = 1.0) -> int:
    """Eq. (9), 001_c16fa1dac0c35e06.txt: B_t = ⌊ρ_oh·ρ_t·k_t·log2 M_t⌋ for ``channel_uses`` = k_t."""
    return deliverable_bits(channel_uses, mcs, overhead)
