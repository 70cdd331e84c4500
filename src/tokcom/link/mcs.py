"""MCS tables: 3GPP TS 38.214 Tables 5.1.3.1-1/-2/-3 (PDSCH) and the papers' named MCS sets.

Each row gives the modulation order Qm (bits per complex symbol) and the target code rate R×1024; the
spectral efficiency is Qm·R information bits per complex channel use (computed exactly, the standard prints
it rounded to four decimals). Reserved rows (retransmission-only, no code rate) are left out.

Named sets:

* TokenCom (000_cfad1eb21f67e2e2.txt, §II-D): 𝒦_s = {QPSK 1/3, QPSK 1/2} for intended tokens and
  ℳ_n = {QPSK 1/3, QPSK 1/2, 16QAM 1/2, 16QAM 3/4} for non-intended tokens.
* Resi-VidTok (001_c16fa1dac0c35e06.txt, Table I): the ACM rows used at SNR −2…10 dB. Its rates
  0.245, 0.301, 0.514, 0.663 (QPSK) and 0.424, 0.540, 0.643 (16QAM) are Table 5.1.3.1-1 rows 3, 4, 7, 9,
  12, 14, 16 (R×1024 = 251, 308, 526, 679, 434, 553, 658), so the set is expressed through those rows.

Pure Python (no torch/sionna import).
"""

from __future__ import annotations

from tokcom.errors import InputError
from tokcom.types import Mcs

# (Qm, R×1024) per MCS index; 38.214 Table 5.1.3.1-1 (up to 64QAM), rows 29–31 reserved.
_TABLE_1: tuple[tuple[int, float], ...] = (
    (2, 120), (2, 157), (2, 193), (2, 251), (2, 308), (2, 379), (2, 449), (2, 526), (2, 602), (2, 679),
    (4, 340), (4, 378), (4, 434), (4, 490), (4, 553), (4, 616), (4, 658),
    (6, 438), (6, 466), (6, 517), (6, 567), (6, 616), (6, 666), (6, 719), (6, 772), (6, 822), (6, 873),
    (6, 910), (6, 948),
)
# 38.214 Table 5.1.3.1-2 (up to 256QAM), rows 28–31 reserved.
_TABLE_2: tuple[tuple[int, float], ...] = (
    (2, 120), (2, 193), (2, 308), (2, 449), (2, 602),
    (4, 378), (4, 434), (4, 490), (4, 553), (4, 616), (4, 658),
    (6, 466), (6, 517), (6, 567), (6, 616), (6, 666), (6, 719), (6, 772), (6, 822), (6, 873),
    (8, 682.5), (8, 711), (8, 754), (8, 797), (8, 841), (8, 885), (8, 916.5), (8, 948),
)
# 38.214 Table 5.1.3.1-3 (low spectral efficiency, up to 64QAM), rows 29–31 reserved.
_TABLE_3: tuple[tuple[int, float], ...] = (
    (2, 30), (2, 40), (2, 50), (2, 64), (2, 78), (2, 99), (2, 120), (2, 157), (2, 193), (2, 251),
    (2, 308), (2, 379), (2, 449), (2, 526), (2, 602),
    (4, 340), (4, 378), (4, 434), (4, 490), (4, 553), (4, 616),
    (6, 438), (6, 466), (6, 517), (6, 567), (6, 616), (6, 666), (6, 719), (6, 772),
)
_TABLES = {1: _TABLE_1, 2: _TABLE_2, 3: _TABLE_3}

MODULATIONS = {"qpsk": 2, "16qam": 4, "64qam": 6, "256qam": 8}


def mcs_table(table: int = 1) -> tuple[Mcs, ...]:
    """All non-reserved rows of 38.214 Table 5.1.3.1-``table`` as :class:`Mcs` (index = row)."""
    if table not in _TABLES:
        raise InputError(f"MCS table must be 1, 2 or 3; got {table}")
    return tuple(Mcs(qm, r / 1024.0, index=i, table=table) for i, (qm, r) in enumerate(_TABLES[table]))


def get_mcs(index: int, table: int = 1) -> Mcs:
    """Row ``index`` of 38.214 Table 5.1.3.1-``table``."""
    rows = mcs_table(table)
    if not 0 <= int(index) < len(rows):
        raise InputError(f"MCS index must be in 0..{len(rows) - 1} for table {table}; got {index}")
    return rows[int(index)]


def mcs_rows(table: int = 1) -> list[dict]:
    """The ``tokcom link mcs --json`` rows of a table (CLI.md contract)."""
    return [
        {
            "index": m.index,
            "modulation": m.modulation,
            "num_bits_per_symbol": m.num_bits_per_symbol,
            "coderate_x1024": _TABLES[table][m.index][1],
            "coderate": m.coderate,
            "spectral_efficiency": m.spectral_efficiency,
        }
        for m in mcs_table(table)
    ]


def parse_modulation(mod: str | int) -> int:
    """``"qpsk"|"16qam"|"64qam"|"256qam"`` (or Qm itself) → Qm."""
    if isinstance(mod, int) or str(mod).isdigit():
        qm = int(mod)
        if qm in MODULATIONS.values():
            return qm
    else:
        qm = MODULATIONS.get(str(mod).strip().lower().replace("-", ""))
        if qm is not None:
            return qm
    raise InputError(f"modulation must be one of {', '.join(MODULATIONS)}; got {mod!r}")


# Named sets ---------------------------------------------------------------------------------------------

# TokenCom §II-D, 000_cfad1eb21f67e2e2.txt: candidate MCS of the intended (𝒦_s) and non-intended (ℳ_n)
# token classes.
TOKENCOM_INTENDED: tuple[Mcs, ...] = (Mcs(2, 1 / 3), Mcs(2, 1 / 2))
TOKENCOM_NONINTENDED: tuple[Mcs, ...] = (Mcs(2, 1 / 3), Mcs(2, 1 / 2), Mcs(4, 1 / 2), Mcs(4, 3 / 4))

# Resi-VidTok Table I, 001_c16fa1dac0c35e06.txt: SNR (dB) → Table 5.1.3.1-1 row.
RESIVID_TABLE_I: dict[float, Mcs] = {
    snr: get_mcs(i, 1) for snr, i in ((-2.0, 3), (0.0, 4), (2.0, 7), (4.0, 9), (6.0, 12), (8.0, 14), (10.0, 16))
}

# TokenCom Table III (b), 000_cfad1eb21f67e2e2.txt: the adaptive H.265 baseline switches between QPSK 1/2
# (−2…4 dB) and 16QAM 1/2 (6, 8 dB), one MCS per frame.
TOKENCOM_H265: tuple[Mcs, ...] = (Mcs(2, 1 / 2), Mcs(4, 1 / 2))

NAMED_SETS: dict[str, tuple[Mcs, ...]] = {
    "tokencom-intended": TOKENCOM_INTENDED,
    "tokencom-h265": TOKENCOM_H265,
    "tokencom-nonintended": TOKENCOM_NONINTENDED,
    "resivid-table1": tuple(RESIVID_TABLE_I.values()),
}


def named_set(name: str) -> tuple[Mcs, ...]:
    """A paper's named MCS set (``tokencom-intended``, ``tokencom-nonintended``, ``tokencom-h265``,
    ``resivid-table1``)."""
    key = name.strip().lower()
    if key not in NAMED_SETS:
        raise InputError(f"unknown MCS set {name!r}; valid: {', '.join(NAMED_SETS)}")
    return NAMED_SETS[key]
