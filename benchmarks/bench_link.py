"""Link-layer speed: bit-true info throughput (batched vs one PDU at a time) and abstract PDUs per second.

Usage::

    python benchmarks/bench_link.py [--device cpu|cuda] [--pdus 128] [--k 1024] [--snr-db 10]

Prints one JSON object. "batched" sends all PDUs through tokcom's BitTruePhy in batches; "per_pdu" drives
the very same Sionna blocks (TBEncoder, Mapper, AWGN, Demapper, TBDecoder) with one PDU per call. The
ratio is the speed-up of batching. Information throughput counts payload bits of PDUs that were decoded.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--pdus", type=int, default=128)
    ap.add_argument("--per-pdu", type=int, default=16, help="PDUs for the one-at-a-time loop")
    ap.add_argument("--k", type=int, default=1024)
    ap.add_argument("--snr-db", type=float, default=10.0)
    ap.add_argument("--mod", default="16qam")
    ap.add_argument("--rate", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads while decoding (0 = leave torch's)")
    a = ap.parse_args()

    import torch

    from tokcom.link.mcs import parse_modulation
    from tokcom.link.phy import BitTruePhy, ChannelSpec, tb_layout

    qm = parse_modulation(a.mod)
    lay = tb_layout(a.k, qm, a.rate)
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (a.pdus, lay.tb_size), dtype=np.uint8)
    nt = a.threads or None
    phy = BitTruePhy(device=a.device, batch_size=a.pdus, num_threads=nt)
    phy.transmit(bits[:2], lay, a.snr_db, ChannelSpec(), seed=0)  # build + warm up
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    _, ok = phy.transmit(bits, lay, a.snr_db, ChannelSpec(), seed=1)
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    tb = time.perf_counter() - t
    batched = {"pdus": a.pdus, "seconds": tb, "pdus_per_s": a.pdus / tb,
               "info_mbit_per_s": ok.sum() * a.k / tb / 1e6, "decoded": int(ok.sum())}

    # same Sionna blocks, one PDU per call
    one = BitTruePhy(device=a.device, batch_size=1, num_threads=nt)
    one.transmit(bits[:1], lay, a.snr_db, ChannelSpec(), seed=0)
    n1 = min(a.per_pdu, a.pdus)
    t = time.perf_counter()
    okc = 0
    for i in range(n1):
        _, ok1 = one.transmit(bits[i:i + 1], lay, a.snr_db, ChannelSpec(), seed=2 + i)
        okc += int(ok1.sum())
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    t1 = time.perf_counter() - t
    per_pdu = {"pdus": n1, "seconds": t1, "pdus_per_s": n1 / t1, "info_mbit_per_s": okc * a.k / t1 / 1e6}

    # abstract PHY: PDUs per second through AwgnLink.carry
    from tokcom.link import build_link
    from tokcom.types import Packet, StreamInfo, Transmission

    info = StreamInfo(16, 256, 256, 25.0)
    tx = Transmission(info, tuple(Packet(bytes(a.k // 8), "video", i) for i in range(20000)))
    link = build_link("awgn", {"snr_db": a.snr_db})
    link.carry(tx, np.random.default_rng(0))
    t = time.perf_counter()
    link.carry(tx, np.random.default_rng(1))
    ta = time.perf_counter() - t
    ray = build_link("rayleigh", {"snr_db": a.snr_db + 6, "csi_nmse_db": -20.0})
    txr = Transmission(info, tx.packets[:2000])
    t = time.perf_counter()
    ray.carry(txr, np.random.default_rng(1))
    tr = time.perf_counter() - t
    out = {
        "device": a.device, "decoder_threads": a.threads or torch.get_num_threads(), "mod": a.mod, "rate": a.rate, "k": a.k,
        "tb_size": lay.tb_size, "snr_db": a.snr_db,
        "bit_true_batched": batched, "bit_true_per_pdu": per_pdu,
        "batching_speedup": batched["pdus_per_s"] / per_pdu["pdus_per_s"],
        "abstract_awgn_pdus_per_s": len(tx.packets) / ta,
        "abstract_rayleigh_miesm_pdus_per_s": len(txr.packets) / tr,
    }
    print(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
