"""The registered 5G-style links: ``awgn`` and ``rayleigh`` (bit-true or abstract PHY).

::

    Transmission.packets ──► per PDU: MCS (packet.mcs | adapted) ──► TB mapping (phy.tb_layout) ──►
        abstract: lost i.i.d. with BLER(Qm, R, SNR[, MIESM over fading], TB size)   (TokenCom eq. 17)
        bit-true: TBEncoder → QAM → channel → equaliser → APP demapper → BP → TB CRC (phy.BitTruePhy)
    Transmission.symbols (analog, mean power ≤ 1) ──► channel + equaliser (link.analog, PVSC eqs. 1–4)
    ──► Reception (None where lost; equalised symbols), channel uses = Σ ⌈(G/Qm)/ρ_oh⌉ + number of symbols

Defaults: ``snr_db`` 6 dB (the SNR of Resi-VidTok Fig. 3 and TokenCom's headline comparison), MCS by
adaptation over 38.214 Table 5.1.3.1-1 with BLER target 0.002 (Resi-VidTok §IV-A) at a typical PDU of
``pdu_bits`` = 9600 bits (the 1200-byte PDUs of TokenCom Table II), ``overhead`` ρ_oh = 1.0 (no reference-signal/control overhead, as in Resi-VidTok
and PVSC; TokenCom's §III sets 0.85, eq. 16: give ``--link-set overhead=0.85`` to reproduce it). Every scheme
plans with, and is charged with, this one ρ_oh (``LinkState.overhead``). Rayleigh: L_co = 1 and ZF/
LMMSE as in PVSC Table III; perfect CSI unless ``csi_nmse_db`` is given.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from tokcom.errors import InputError
from tokcom.link import abstract
from tokcom.link.accounting import (
    channel_use_budget,
    check_overhead,
    pdu_channel_uses,
    raw_spectral_efficiency,
)
from tokcom.link.adaptation import DEFAULT_BLER_TARGET, awgn_bler_fn, rayleigh_bler_fn, select_mcs
from tokcom.link.analog import carry_symbols
from tokcom.link.base import Link, LinkReport, StreamReport
from tokcom.link.mcs import get_mcs, named_set
from tokcom.link.phy import MAX_LDPC_RATE, BitTruePhy, ChannelSpec, seed_from, tb_layout
from tokcom.registry import LINKS
from tokcom.types import LinkState, Mcs, Packet, Rate, Reception, StreamInfo, Transmission

PHY_CHUNK_PDUS = 2048  # PDUs of one TB layout per bit-true call (memory bound; a call draws one seed)


def _check_common(c: Any) -> None:
    if not math.isfinite(c.snr_db) or not -30.0 <= c.snr_db <= 60.0:
        raise InputError(f"--snr-db must be in [-30, 60]; got {c.snr_db}")
    if c.mcs_table not in (1, 2, 3):
        raise InputError(f"--mcs-table must be 1, 2 or 3; got {c.mcs_table}")
    if c.mcs_index is not None:
        get_mcs(c.mcs_index, c.mcs_table)
    if not 0.0 < c.bler_target < 1.0:
        raise InputError(f"--bler-target must be in (0, 1); got {c.bler_target}")
    check_overhead(c.overhead)
    if c.pdu_bits < 1:
        raise InputError(f"--pdu-bits must be ≥ 1; got {c.pdu_bits}")
    if c.mcs_set is not None:
        named_set(c.mcs_set)
        if c.mcs_index is not None:
            raise InputError("give either --mcs (a table row) or mcs-set, not both")


@dataclass(frozen=True)
class AwgnConfig:
    """Attributes:
    snr_db: Es/N0 per complex channel use (dB), known to the transmitter.
    phy: ``"abstract"`` (BLER tables, i.i.d. PDU loss) or ``"bit-true"`` (Sionna LDPC/QAM chain).
    mcs_index: fixed row of ``mcs_table``; None = link adaptation (Resi-VidTok eq. 8).
    mcs_table: 38.214 Table 5.1.3.1-x (1, 2 or 3).
    mcs_set: adapt over a paper's named set instead of the table (``tokencom-h265``: QPSK 1/2 and 16QAM 1/2,
        TokenCom Table III's H.265 baseline; ``resivid-table1``; ``tokencom-nonintended``, ...).
    bler_target: adaptation target ε (0.002, Resi-VidTok).
    overhead: ρ_oh, share of channel uses carrying data (TokenCom eq. 16; 1.0 = none).
    pdu_bits: typical PDU payload (bits) for adaptation and ``LinkState.pdu_loss`` (1200 bytes, TokenCom
        Table II).
    device: torch device of the bit-true PHY.
    """

    snr_db: float = 6.0
    phy: Literal["abstract", "bit-true"] = "abstract"
    mcs_index: int | None = None
    mcs_table: int = 1
    bler_target: float = DEFAULT_BLER_TARGET
    overhead: float = 1.0
    pdu_bits: int = 9600
    device: str = "cpu"
    mcs_set: str | None = None

    def __post_init__(self) -> None:
        _check_common(self)


@dataclass(frozen=True)
class RayleighConfig(AwgnConfig):
    """Attributes: those of :class:`AwgnConfig`, plus
    csi_nmse_db: CSI NMSE in dB (PVSC eq. 3); None = perfect CSI.
    coherence_channel_uses: L_co, channel uses per i.i.d. fading block (PVSC §II; Table III uses 1).
    equalizer: ``"lmmse"`` or ``"zf"`` (PVSC eq. 4).
    """

    csi_nmse_db: float | None = None
    coherence_channel_uses: int = 1
    equalizer: Literal["lmmse", "zf"] = "lmmse"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.coherence_channel_uses < 1:
            raise InputError(f"--coherence-channel-uses must be ≥ 1; got {self.coherence_channel_uses}")
        if self.csi_nmse_db is not None and not -60.0 <= self.csi_nmse_db <= 10.0:
            raise InputError(f"--csi-nmse-db must be in [-60, 10]; got {self.csi_nmse_db}")


class _NrLink(Link):
    """Shared machinery of the AWGN and Rayleigh links."""

    def _channel(self) -> ChannelSpec:
        return ChannelSpec()

    def _bler_fn(self):
        return self._bler_fn_k(self.config.pdu_bits)

    def mcs(self) -> tuple[Mcs, float, bool]:
        """(MCS, its BLER at ``snr_db`` for ``pdu_bits``-bit PDUs, target met)."""
        if not hasattr(self, "_adapted"):
            c = self.config
            fn = self._bler_fn()
            if c.mcs_index is not None:
                m = get_mcs(c.mcs_index, c.mcs_table)
                b = fn(m, c.snr_db)
                self._adapted = (m, b, b <= c.bler_target)
            else:
                cands = named_set(c.mcs_set) if c.mcs_set else None
                a = select_mcs(c.snr_db, candidates=cands, table=c.mcs_table, k=c.pdu_bits,
                               bler_target=c.bler_target, bler_fn=fn)
                self._adapted = (a.mcs, a.bler, a.feasible)
        return self._adapted

    def _bler_fn_k(self, k: int):
        return awgn_bler_fn(k)

    def predict_bler(self, mcs: Mcs, num_bits: int) -> float:
        """BLER the transmitter expects for a ``num_bits``-bit PDU with ``mcs`` at ``snr_db`` (abstract PHY)."""
        cache = self.__dict__.setdefault("_predicted", {})
        key = (mcs.num_bits_per_symbol, round(mcs.coderate, 9), int(num_bits))
        if key not in cache:
            cache[key] = float(self._bler_fn_k(max(int(num_bits), 24))(mcs, self.config.snr_db))
        return cache[key]

    def state(self, info: StreamInfo, rate: Rate = Rate()) -> LinkState:
        m, b, _ = self.mcs()
        c = self.config
        bpcu = raw_spectral_efficiency(m, c.overhead)  # eq. (16), 000_cfad1eb21f67e2e2.txt
        return LinkState(snr_db=c.snr_db, mcs=m, bits_per_channel_use=bpcu, pdu_loss=b,
                         channel_use_budget=channel_use_budget(info, rate, bpcu),
                         bandwidth_hz=rate.bandwidth_hz, bitrate_bps=rate.bitrate_bps,
                         duration_s=info.duration_s, overhead=c.overhead,
                         bler_target=c.bler_target, predict_bler=self.predict_bler,
                         pdu_channel_uses=self.pdu_channel_uses)

    def pdu_channel_uses(self, num_bits: int, mcs: Mcs | None = None) -> int:
        """⌈(G/Qm)/ρ_oh⌉ with the TB mapping (:func:`tokcom.link.accounting.pdu_channel_uses`)."""
        return pdu_channel_uses(num_bits, mcs or self.mcs()[0], self.config.overhead)

    def _pdu_mcs(self, p: Packet, default: Mcs) -> Mcs:
        m = p.mcs or default
        if m.num_bits_per_symbol not in (2, 4, 6, 8) or not 0.0 < m.coderate <= MAX_LDPC_RATE + 1e-9:
            raise InputError(f"PDU {p.seq} requests an unsupported MCS {m}")
        return m

    def carry(self, tx: Transmission, rng: np.random.Generator) -> Reception:
        """PDUs through the MCS/LDPC path; analog symbols (if any) through the channel and equaliser
        (:mod:`tokcom.link.analog`); channel uses count both (PVSC footnote 1)."""
        c = self.config
        default, _, feasible = self.mcs()
        n = len(tx.packets)
        mcs_of = [self._pdu_mcs(p, default) for p in tx.packets]
        layouts = [tb_layout(int(p.num_bits), m.num_bits_per_symbol, m.coderate) for p, m in zip(tx.packets, mcs_of)]
        uses = [self.pdu_channel_uses(int(p.num_bits), m) for p, m in zip(tx.packets, mcs_of)]
        lost = np.zeros(n, dtype=bool)
        bler_used = np.full(n, np.nan)
        out: list[Packet | None] = list(tx.packets)
        if c.phy == "abstract":
            u = rng.random(n)
            bler_used = self._abstract_bler(layouts, rng)
            lost = u < bler_used  # eq. (17), 000_cfad1eb21f67e2e2.txt: PDU lost i.i.d. with its BLER
        else:
            lost, out = self._bit_true(tx.packets, layouts, rng)
        out = [None if lost[i] else out[i] for i in range(n)]
        report = self._report(tx.packets, mcs_of, layouts, uses, lost, bler_used, feasible)
        symbols, n_sym = None, 0
        if tx.symbols is not None:
            symbols, post_snr = carry_symbols(tx.symbols, c.snr_db, self._channel(), seed_from(rng), c.device)
            n_sym = int(symbols.size)
            report = replace(report, channel_uses=report.channel_uses + n_sym, analog_symbols=n_sym,
                             post_eq_snr_db=post_snr)
        return Reception(info=tx.info, packets=tuple(out), symbols=symbols, channel_uses=int(sum(uses)) + n_sym,
                         report=report)

    def symbol_channel_uses(self, num_symbols: int) -> int:
        """Analog symbols occupy one complex channel use each."""
        return int(num_symbols)

    # -- abstract ------------------------------------------------------------------------------------------
    def _abstract_bler(self, layouts: list, rng: np.random.Generator) -> np.ndarray:
        snr = self.config.snr_db
        cache: dict = {}
        out = np.empty(len(layouts))
        for i, l in enumerate(layouts):
            if l not in cache:
                cache[l] = float(abstract.block_bler(l.num_bits_per_symbol, l.coderate, snr, l.tb_size,
                                                     l.num_symbols, l.num_cb))
            out[i] = cache[l]
        return out

    # -- bit-true ------------------------------------------------------------------------------------------
    def _phy(self):
        if not hasattr(self, "_phy_obj"):
            self._phy_obj = BitTruePhy(device=self.config.device)
        return self._phy_obj

    def _bit_true(self, packets: tuple[Packet, ...], layouts: list, rng: np.random.Generator
                  ) -> tuple[np.ndarray, list[Packet | None]]:
        groups: dict = defaultdict(list)
        for i, l in enumerate(layouts):
            groups[l].append(i)
        lost = np.zeros(len(packets), dtype=bool)
        out: list[Packet | None] = list(packets)
        spec = self._channel()
        chunks = [(l, groups[l][i:i + PHY_CHUNK_PDUS])
                  for l in sorted(groups, key=lambda x: (x.num_bits_per_symbol, x.coderate, x.tb_size))
                  for i in range(0, len(groups[l]), PHY_CHUNK_PDUS)]
        for l, idx in chunks:  # bounded batches: the bit arrays never cover a whole long video
            bits = np.zeros((len(idx), l.tb_size), dtype=np.uint8)
            for r, i in enumerate(idx):
                p = packets[i]
                b = np.unpackbits(np.frombuffer(p.payload, dtype=np.uint8))[: p.num_bits]
                bits[r, : b.size] = b
            bits_hat, ok = self._phy().transmit(bits, l, self.config.snr_db, spec, seed_from(rng))
            for r, i in enumerate(idx):
                p = packets[i]
                if not ok[r]:
                    lost[i] = True
                    continue
                allb = np.unpackbits(np.frombuffer(p.payload, dtype=np.uint8))
                allb[: p.num_bits] = bits_hat[r, : p.num_bits]
                out[i] = replace(p, payload=np.packbits(allb).tobytes())
        return lost, out

    def _report(self, packets, mcs_of, layouts, uses, lost, bler_used, feasible) -> LinkReport:
        c = self.config
        acc: dict[str, dict[str, Any]] = {}
        for i, p in enumerate(packets):
            s = acc.setdefault(p.stream, {"pdus_sent": 0, "pdus_lost": 0, "channel_uses": 0, "source_bits": 0,
                                          "mcs": None, "bler": [], "tb_sizes": set()})
            s["pdus_sent"] += 1
            s["pdus_lost"] += int(lost[i])
            s["channel_uses"] += uses[i]
            s["source_bits"] += int(p.num_bits)
            s["mcs"] = mcs_of[i]
            s["tb_sizes"].add(layouts[i].tb_size)
            if not np.isnan(bler_used[i]):
                s["bler"].append(float(bler_used[i]))
        streams = {k: StreamReport(v["pdus_sent"], v["pdus_lost"], v["channel_uses"], v["source_bits"], v["mcs"],
                                   float(np.mean(v["bler"])) if v["bler"] else None, tuple(sorted(v["tb_sizes"])))
                   for k, v in acc.items()}
        m, b, _ = self.mcs()
        return LinkReport(pdus_sent=len(packets), pdus_lost=int(np.sum(lost)), channel_uses=int(sum(uses)),
                          phy=c.phy, snr_db=c.snr_db, mcs=m, mcs_adapted=c.mcs_index is None,
                          mcs_candidates=c.mcs_set or f"38.214 table {c.mcs_table}", bler_at_pdu_bits=b,
                          bler_target_met=bool(feasible), overhead=c.overhead, streams=streams)


@LINKS.register("awgn", "5G NR LDPC + QAM over AWGN (abstract BLER tables or bit-true Sionna PHY)")
class AwgnLink(_NrLink):
    """AWGN channel with a 5G NR PHY; MCS by adaptation (BLER ≤ target) or fixed."""

    name = "awgn"
    Config = AwgnConfig


@LINKS.register("rayleigh", "5G NR LDPC + QAM over Rayleigh block fading with imperfect CSI (ZF/LMMSE)")
class RayleighLink(_NrLink):
    """Rayleigh block fading (coherence L_co channel uses), CSI ĥ = h + e at NMSE, ZF or LMMSE (PVSC eqs 1–4)."""

    name = "rayleigh"
    Config = RayleighConfig

    def _channel(self) -> ChannelSpec:
        c = self.config
        return ChannelSpec("rayleigh", c.coherence_channel_uses, c.csi_nmse_db, c.equalizer)

    def _bler_fn_k(self, k: int):
        c = self.config
        return rayleigh_bler_fn(k, c.coherence_channel_uses, c.csi_nmse_db)

    def _abstract_bler(self, layouts: list, rng: np.random.Generator) -> np.ndarray:
        """MIESM per PDU: draw its coherence blocks, map to one effective SNR, look up the AWGN curve."""
        c = self.config
        out = np.empty(len(layouts))
        for i, l in enumerate(layouts):
            snrs, w = abstract.fading_block_snrs_db(c.snr_db, l.num_symbols, c.coherence_channel_uses,
                                                    c.csi_nmse_db, rng)
            eff = abstract.effective_snr_db(l.num_bits_per_symbol, snrs, w)
            out[i] = float(abstract.block_bler(l.num_bits_per_symbol, l.coderate, eff, l.tb_size,
                                               l.num_symbols, l.num_cb))
        return out
