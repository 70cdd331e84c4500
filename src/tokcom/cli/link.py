"""``tokcom link mcs|bler|adapt|tables``: MCS tables, BLER waterfalls, link adaptation, BLER-table regeneration.

JSON contracts: ``../shared/design/CLI.md`` ("JSON of the link commands"). Heavy imports (sionna, torch,
matplotlib) happen inside the commands.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import typer

from tokcom.config import parse_float_list
from tokcom.errors import InputError

link_app = typer.Typer(
    help="5G NR link layer: MCS tables, BLER curves (bit-true/abstract), link adaptation.",
    no_args_is_help=True,
    add_completion=False,
)


def _emit(data: dict[str, Any], as_json: bool, text_lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=1, allow_nan=False))
    else:
        typer.echo("\n".join(text_lines))


def _check_plot_path(plot: Path | None) -> None:
    if plot is not None:
        if plot.suffix.lower() != ".png":
            raise InputError(f"--plot must name a .png file; got {plot}")
        parent = plot.resolve().parent
        if not parent.is_dir():
            raise InputError(f"--plot directory {parent} does not exist")


def _save_fig(fig: Any, plot: Path) -> None:
    tmp = plot.with_name(plot.name + ".tmp.png")
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    os.replace(tmp, plot)


@link_app.command("mcs")
def mcs_cmd(
    table: int = typer.Option(1, "--table", help="38.214 Table 5.1.3.1-N (1, 2 or 3)."),
    mcs_set: str | None = typer.Option(None, "--set",
                                          help="a paper's named set instead: tokencom-intended, "
                                               "tokencom-nonintended, resivid-table1"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List an MCS table (index, modulation, Qm, code rate, spectral efficiency)."""
    from tokcom.link.mcs import mcs_rows, named_set

    if mcs_set:
        rows = [{"index": m.index, "table": m.table, "modulation": m.modulation,
                 "num_bits_per_symbol": m.num_bits_per_symbol, "coderate": m.coderate,
                 "spectral_efficiency": m.spectral_efficiency} for m in named_set(mcs_set)]
        data: dict[str, Any] = {"set": mcs_set, "rows": rows}
    else:
        rows = mcs_rows(table)
        data = {"table": table, "rows": rows}
    lines = [f"{'idx':>4} {'mod':>7} {'Qm':>3} {'R×1024':>7} {'R':>8} {'SE':>8}"]
    for r in rows:
        idx = "-" if r["index"] is None else r["index"]
        lines.append(f"{idx:>4} {r['modulation']:>7} {r['num_bits_per_symbol']:>3} "
                     f"{r['coderate'] * 1024:>7.1f} {r['coderate']:>8.4f} {r['spectral_efficiency']:>8.4f}")
    _emit(data, as_json, lines)


@link_app.command("bler")
def bler_cmd(
    mod: str = typer.Option(..., "--mod", help="qpsk | 16qam | 64qam | 256qam"),
    rate: float = typer.Option(..., "--rate", help="code rate R (e.g. 0.5)"),
    k: int = typer.Option(1024, "--k", help="payload bits per block (mapped to a valid TB size ≥ k)"),
    snr_db: str = typer.Option(..., "--snr-db", help="SNR list (Es/N0, dB): -2,0,2 or start:stop:step"),
    mode: str = typer.Option("bit-true", "--mode", help="bit-true | abstract"),
    blocks: int = typer.Option(300, "--blocks", help="blocks per SNR point (bit-true)"),
    max_errors: int | None = typer.Option(None, "--max-errors",
                                             help="stop a point after this many block errors (bit-true)"),
    channel: str = typer.Option("awgn", "--channel", help="awgn | rayleigh"),
    csi_nmse_db: float | None = typer.Option(None, "--csi-nmse-db", help="Rayleigh CSI NMSE (dB)"),
    coherence: int = typer.Option(1, "--coherence-channel-uses", help="Rayleigh L_co"),
    equalizer: str = typer.Option("lmmse", "--equalizer", help="lmmse | zf"),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("cpu", "--device", help="cpu | cuda"),
    plot: Path | None = typer.Option(None, "--plot", help="write the waterfall to FILE.png"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """BLER against SNR for one (modulation, code rate, block size), with the normal-approximation bound."""
    from tokcom.link import capacity as cap
    from tokcom.link.mcs import parse_modulation
    from tokcom.link.phy import MAX_LDPC_RATE, ChannelSpec

    qm = parse_modulation(mod)
    if not 0.0 < rate <= MAX_LDPC_RATE + 1e-9:
        raise InputError(f"--rate must be in (0, {MAX_LDPC_RATE:.4f}] (5G LDPC); got {rate}")
    if k < 1 or k > 100000:
        raise InputError(f"--k must be in 1..100000; got {k}")
    if mode not in ("bit-true", "abstract"):
        raise InputError(f"--mode must be bit-true or abstract; got {mode!r}")
    if blocks < 1:
        raise InputError(f"--blocks must be ≥ 1; got {blocks}")
    spec = ChannelSpec(channel, coherence, csi_nmse_db, equalizer)
    snrs = parse_float_list(snr_db)
    _check_plot_path(plot)
    from tokcom.link.phy import tb_layout

    lay = tb_layout(k, qm, rate)
    if mode == "bit-true":
        from tokcom.link.phy import simulate_bler

        points = simulate_bler(qm, rate, k, snrs, num_blocks=blocks, max_errors=max_errors, channel=spec,
                               seed=seed, device=device)
    else:
        from tokcom.link import abstract

        if channel == "awgn":
            vals = [float(abstract.block_bler(qm, rate, s, lay.tb_size, lay.num_symbols, lay.num_cb)) for s in snrs]
        else:
            vals = [abstract.fading_bler_mean(qm, rate, s, k, coherence, csi_nmse_db, num_draws=1000, seed=seed)
                    for s in snrs]
        points = [{"snr_db": s, "bler": v} for s, v in zip(snrs, vals)]
    for p in points:
        if channel == "awgn":
            p["bler_normal_approx"] = float(cap.normal_approx_bler(p["snr_db"], lay.tb_size, lay.num_symbols))
    data = {"mod": mod.lower(), "rate": rate, "k": k, "n": lay.num_coded_bits, "mode": mode,
            "num_bits_per_symbol": qm, "tb_size": lay.tb_size, "num_cb": lay.num_cb,
            "channel_uses": lay.num_symbols, "channel": channel, "points": points}
    if channel == "rayleigh":
        data.update({"csi_nmse_db": csi_nmse_db, "coherence_channel_uses": coherence, "equalizer": equalizer})
    lines = [f"{mod} R={rate} k={k} (TB {lay.tb_size}, n={lay.num_coded_bits}) {mode} {channel}",
             f"{'SNR dB':>8} {'BLER':>10} {'blocks':>7} {'errors':>7} {'NA bound':>10}"]
    for p in points:
        na = p.get("bler_normal_approx")
        lines.append(f"{p['snr_db']:>8.2f} {p['bler']:>10.4g} {p.get('blocks', '-'):>7} {p.get('errors', '-'):>7} "
                     f"{(f'{na:.3g}' if na is not None else '-'):>10}")
    if plot is not None:
        _plot_bler(data, plot)
    _emit(data, as_json, lines)


def _plot_bler(data: dict[str, Any], plot: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    s = [p["snr_db"] for p in data["points"]]
    b = [max(p["bler"], 1e-6) if p["bler"] > 0 else float("nan") for p in data["points"]]
    ax.semilogy(s, b, "o-", label=f"{data['mode']} ({data['mod']}, R={data['rate']}, k={data['k']})")
    na = [p.get("bler_normal_approx") for p in data["points"]]
    if all(v is not None for v in na):
        ax.semilogy(s, [max(v, 1e-12) for v in na], "k--", label="normal approximation")
    ax.set_xlabel("SNR Es/N0 (dB)")
    ax.set_ylabel("BLER")
    ax.set_ylim(1e-4, 1.1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    _save_fig(fig, plot)
    plt.close(fig)


@link_app.command("adapt")
def adapt_cmd(
    snr_db: str = typer.Option(..., "--snr-db", help="SNR list (dB): -2,0,2 or start:stop:step"),
    bler_target: float = typer.Option(0.002, "--bler-target", help="target BLER ε (Resi-VidTok eq. 8)"),
    table: int = typer.Option(1, "--table", help="38.214 Table 5.1.3.1-N"),
    k: int = typer.Option(1024, "--k", help="PDU payload bits the BLER refers to"),
    overhead: float = typer.Option(1.0, "--overhead", help="ρ_oh (TokenCom eq. 16)"),
    channel: str = typer.Option("awgn", "--channel", help="awgn | rayleigh (average SNR, MIESM)"),
    csi_nmse_db: float | None = typer.Option(None, "--csi-nmse-db"),
    coherence: int = typer.Option(1, "--coherence-channel-uses"),
    plot: Path | None = typer.Option(None, "--plot", help="write SE vs capacity to FILE.png"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """The MCS link adaptation picks per SNR, its BLER, and the gap to capacity."""
    from tokcom.link import capacity as cap
    from tokcom.link.adaptation import awgn_bler_fn, rayleigh_bler_fn, select_mcs
    from tokcom.link.phy import tb_layout

    if channel not in ("awgn", "rayleigh"):
        raise InputError(f"--channel must be awgn or rayleigh; got {channel!r}")
    if k < 24 or k > 100000:
        raise InputError(f"--k must be in 24..100000; got {k}")
    from tokcom.link.accounting import check_overhead

    check_overhead(overhead)
    _check_plot_path(plot)
    fn = awgn_bler_fn(k) if channel == "awgn" else rayleigh_bler_fn(k, coherence, csi_nmse_db)
    points = []
    for s in parse_float_list(snr_db):
        a = select_mcs(s, table=table, k=k, bler_target=bler_target, bler_fn=fn)
        m = a.mcs
        se = m.spectral_efficiency
        lay = tb_layout(k, m.num_bits_per_symbol, m.coderate)
        c = float(cap.shannon_capacity(s))
        points.append({
            "snr_db": s, "mcs_index": m.index, "modulation": m.modulation,
            "num_bits_per_symbol": m.num_bits_per_symbol, "coderate": m.coderate,
            "spectral_efficiency": se, "bler": a.bler, "feasible": a.feasible,
            "throughput": se * (1 - a.bler) * overhead,
            "effective_spectral_efficiency": lay.tb_size / lay.num_symbols,
            "capacity": c,
            "normal_approx_rate": float(cap.normal_approx_rate(s, lay.num_symbols, bler_target)),
            "gap_to_capacity_db": float(s - cap.shannon_snr_db(se)),
            "capacity_over_se_db": float(10 * math.log10(c / se)),
        })
    data = {"bler_target": bler_target, "k": k, "table": table, "channel": channel, "overhead": overhead,
            "points": points}
    lines = [f"k={k} bits, BLER target {bler_target}, table {table}, {channel}",
             f"{'SNR dB':>7} {'MCS':>4} {'mod':>6} {'R':>7} {'SE':>6} {'BLER':>9} {'C':>6} {'gap dB':>7}"]
    for p in points:
        lines.append(f"{p['snr_db']:>7.2f} {p['mcs_index']:>4} {p['modulation']:>6} {p['coderate']:>7.4f} "
                     f"{p['spectral_efficiency']:>6.3f} {p['bler']:>9.2e} {p['capacity']:>6.3f} "
                     f"{p['gap_to_capacity_db']:>7.2f}" + ("" if p["feasible"] else "  (target not met)"))
    if plot is not None:
        _plot_adapt(data, plot)
    _emit(data, as_json, lines)


def _plot_adapt(data: dict[str, Any], plot: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from tokcom.link import capacity as cap

    s = np.array([p["snr_db"] for p in data["points"]])
    fig, ax = plt.subplots(figsize=(6, 4))
    grid = np.linspace(s.min() - 1, s.max() + 1, 200)
    ax.plot(grid, cap.shannon_capacity(grid), "k-", label="Shannon log2(1+SNR)")
    ax.plot(s, [p["normal_approx_rate"] for p in data["points"]], "k:",
            label=f"normal approx. (ε={data['bler_target']})")
    ax.step(s, [p["spectral_efficiency"] for p in data["points"]], "o-", where="post",
            label=f"chosen MCS (table {data['table']}, k={data['k']})")
    ax.set_xlabel("SNR Es/N0 (dB)")
    ax.set_ylabel("bits per channel use")
    ax.grid(True, alpha=0.3)
    ax.legend()
    _save_fig(fig, plot)
    plt.close(fig)


@link_app.command("tables")
def tables_cmd(
    out: Path | None = typer.Option(None, "--out", help="output JSON (default: the packaged table)"),
    k: int = typer.Option(1024, "--k", help="payload bits per block"),
    step_db: float = typer.Option(0.25, "--step-db"),
    max_blocks: int = typer.Option(200, "--max-blocks"),
    max_errors: int = typer.Option(50, "--max-errors"),
    seed: int = typer.Option(0, "--seed"),
    workers: int = typer.Option(2, "--workers"),
    only: str | None = typer.Option(None, "--only", help="comma-separated curve labels (e.g. table1-3)"),
    tail_blocks: int = typer.Option(500, "--tail-blocks", help="blocks of each tail point (BLER 1e-2, 2e-3)"),
    refine_only: bool = typer.Option(False, "--refine-only",
                                     help="only add tail points to the existing table's curves and refit"),
) -> None:
    """Regenerate the abstract PHY's BLER table by Monte Carlo with the bit-true PHY (about an hour on 2 cores)."""
    from tokcom.link.abstract import TABLE_FILE, _table_path
    from tokcom.link.tablegen import generate, refine

    path = out or _table_path()
    if path.suffix != ".json":
        raise InputError(f"--out must be a .json file; got {path}")
    if k < 24 or max_blocks < 1 or max_errors < 1 or workers < 1 or tail_blocks < 0 or not (0 < step_db <= 2):
        raise InputError("--k ≥ 24, --max-blocks/--max-errors/--workers ≥ 1, --tail-blocks ≥ 0, 0 < --step-db ≤ 2")
    if refine_only:
        if not path.exists():
            raise InputError(f"--refine-only needs an existing table; {path} does not exist")
        refine(path, tail_blocks=tail_blocks, max_errors=max_errors, seed=seed, workers=workers)
        typer.echo(f"refined {path}")
        return
    labels = [s.strip() for s in only.split(",")] if only else None
    cmd = (f"tokcom link tables --k {k} --step-db {step_db} --max-blocks {max_blocks} --max-errors {max_errors} "
           f"--seed {seed} --tail-blocks {tail_blocks}" + (f" --only {only}" if only else ""))
    generate(path, k=k, step_db=step_db, max_blocks=max_blocks, max_errors=max_errors, seed=seed,
             workers=workers, labels=labels, command=cmd, tail_blocks=tail_blocks)
    typer.echo(f"wrote {path} ({TABLE_FILE})")
