"""``tokcom run``: one video, one scheme, one link → ``result.json`` + lossless ``recon.mkv``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tokcom.cli.common import atomic_output_dir, parse_key_values, write_json
from tokcom.devices import check_device

_S = "Scheme options"
_L = "Link options"
_R = "Rate (one of)"


def run_cmd(
    scheme: Annotated[str, typer.Option("--scheme", help="registered scheme (tokcom schemes)")],
    input: Annotated[str, typer.Option("--input", help="video file (mp4/mkv/avi/mov/y4m, or raw .yuv)")],
    frames: Annotated[int | None, typer.Option(help="number of frames (default: all)")] = None,
    size: Annotated[str | None, typer.Option(help="WxH: centre crop to its aspect, then area resize")] = None,
    start: Annotated[int, typer.Option(help="first frame")] = 0,
    input_size: Annotated[str | None, typer.Option(help="WxH of a raw .yuv input")] = None,
    input_fps: Annotated[float, typer.Option(help="frame rate of a raw .yuv input")] = 25.0,
    channel: Annotated[str, typer.Option(help="awgn | rayleigh | erasure", rich_help_panel=_L)] = "erasure",
    snr_db: Annotated[float | None, typer.Option(help="SNR Es/N0 (dB)", rich_help_panel=_L)] = None,
    csi_nmse_db: Annotated[float | None, typer.Option(help="CSI estimation NMSE (dB)", rich_help_panel=_L)] = None,
    pdu_loss: Annotated[float | None, typer.Option(help="PDU erasure probability", rich_help_panel=_L)] = None,
    phy: Annotated[str | None, typer.Option(help="abstract | bit-true", rich_help_panel=_L)] = None,
    mcs: Annotated[int | None, typer.Option(help="fixed MCS index (default: link adaptation)", rich_help_panel=_L)] = None,
    link_set: Annotated[list[str] | None, typer.Option("--link-set", help="other link option KEY=VALUE", rich_help_panel=_L)] = None,
    cbr: Annotated[float | None, typer.Option(help="channel bandwidth ratio", rich_help_panel=_R)] = None,
    bitrate: Annotated[float | None, typer.Option(help="source bitrate (bit/s)", rich_help_panel=_R)] = None,
    bandwidth_hz: Annotated[float | None, typer.Option(help="channel bandwidth (Hz)", rich_help_panel=_R)] = None,
    gop: Annotated[int | None, typer.Option(help="GOP length (frames)", rich_help_panel=_S)] = None,
    preset: Annotated[str | None, typer.Option(help="x264/x265 preset", rich_help_panel=_S)] = None,
    rate_control: Annotated[str | None, typer.Option(help="cbr | cqp", rich_help_panel=_S)] = None,
    qp: Annotated[int | None, typer.Option(help="QP for --rate-control cqp", rich_help_panel=_S)] = None,
    low_delay: Annotated[bool | None, typer.Option("--low-delay/--no-low-delay", help="zero-latency P-only", rich_help_panel=_S)] = None,
    tokenizer: Annotated[str | None, typer.Option(help="tokenizer name", rich_help_panel=_S)] = None,
    intent: Annotated[str | None, typer.Option(help="text intent", rich_help_panel=_S)] = None,
    intent_box: Annotated[str | None, typer.Option(help="x0,y0,x1,y1 on processed frames", rich_help_panel=_S)] = None,
    intent_mask: Annotated[str | None, typer.Option(help="PNG mask of the first frame", rich_help_panel=_S)] = None,
    stride: Annotated[int | None, typer.Option(help="key-frame stride", rich_help_panel=_S)] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="other scheme option KEY=VALUE", rich_help_panel=_S)] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="metric to compute (repeatable; default: all default metrics)")] = None,
    seed: Annotated[int, typer.Option(help="seed of every random draw")] = 0,
    out: Annotated[Path | None, typer.Option(help="output directory (default: tokcom-runs/SCHEME-STEM-sSEED)")] = None,
    preview: Annotated[bool, typer.Option(help="also write recon.mp4 (H.264) for browsers")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print result.json to stdout")] = False,
    device: Annotated[str, typer.Option(help="cpu | cuda")] = "cpu",
) -> None:
    """Send a video through a scheme over a link; write DIR/result.json and DIR/recon.mkv."""
    from tokcom.cli.app import console_err, progress_status
    from tokcom.link.base import build_link
    from tokcom.pipeline import simulate
    from tokcom.schemes.base import build_scheme
    from tokcom.types import Rate
    from tokcom.video.io import read_video, write_image, write_preview, write_video

    scheme_opts: dict[str, Any] = {
        "gop": gop, "preset": preset, "rate_control": rate_control, "qp": qp, "low_delay": low_delay,
        "tokenizer": tokenizer, "intent": intent, "intent_mask": intent_mask, "stride": stride,
        "intent_box": intent_box,  # parsed (and checked) by the scheme's config
    }
    scheme_opts.update(parse_key_values(set_))
    link_opts: dict[str, Any] = {"snr_db": snr_db, "csi_nmse_db": csi_nmse_db, "pdu_loss": pdu_loss,
                                 "phy": phy, "mcs_index": mcs}
    link_opts.update(parse_key_values(link_set))
    if seed < 0:
        from tokcom.errors import InputError

        raise InputError(f"--seed must be ≥ 0; got {seed}")
    rate = Rate(cbr=cbr, bitrate_bps=bitrate, bandwidth_hz=bandwidth_hz)
    device = check_device(device)  # one line for a bad name or CUDA where there is none
    sch = build_scheme(scheme, scheme_opts, device=device)
    lnk = build_link(channel, link_opts)
    video = read_video(input, frames=frames, start=start, size=size, raw_size=input_size, raw_fps=input_fps)
    out_dir = out or Path("tokcom-runs") / f"{sch.name}-{Path(input).stem}-s{seed}"
    extra = {"input": str(input), "frames": video.num_frames, "start": start,
             "size": f"{video.width}x{video.height}", "channel": lnk.name}
    with atomic_output_dir(out_dir) as tmp, progress_status("tokcom run") as say:
        result = simulate(sch, video, lnk, seed, rate=rate, metrics=metric, device=device,
                          config_extra=extra, progress=say)
        say("writing the reconstruction")
        write_video(tmp / "recon.mkv", result.recon)
        if preview:
            write_preview(tmp / "recon.mp4", result.recon)
        record = result.to_dict()
        if result.artifacts:
            record["artifacts"] = {}
            for name, img in sorted(result.artifacts.items()):
                write_image(tmp / f"{name}.png", img)
                record["artifacts"][name] = f"{name}.png"
        write_json(tmp / "result.json", record)
    if json_out:
        sys.stdout.write(json.dumps(record, indent=2, allow_nan=False) + "\n")
    else:
        print_summary(result, out_dir)
    console_err().print(f"[dim]wrote {out_dir}/result.json and recon.mkv[/dim]")


def print_summary(result, out_dir: Path) -> None:
    from rich.table import Table

    from tokcom.cli.app import console_out

    t = Table(title=f"{result.scheme} · {Path(result.input).name} · seed {result.seed}", show_header=False)
    t.add_column("", style="bold")
    t.add_column("")
    t.add_row("frames", f"{result.frames} × {result.width}×{result.height} @ {result.fps:g} fps")
    t.add_row("source", f"{result.source_bits} bits · {result.bitrate_bps / 1e3:.1f} kbit/s · bpp {result.bpp:.4g}")
    budget = ("" if result.channel_use_budget is None else
              f" of {result.channel_use_budget} allowed" + (f" (asked for {result.channel_uses_requested}: "
                                                            f"{result.packets.get('not_sent', 0)} PDUs unsent)"
                                                            if result.over_budget else ""))
    t.add_row("channel", f"{result.channel_uses} uses{budget} · cbr {result.cbr:.4g} · PDUs lost "
                         f"{result.packets['lost']}/{result.packets['sent']}")
    t.add_row("decoded", f"{result.frames_decoded}/{result.frames} frames · valid {result.valid}")
    for k, v in result.metrics.items():
        t.add_row(k, f"{v:.4f}")
    for k, why in result.metrics_unavailable.items():
        t.add_row(k, f"[dim]unavailable: {why}[/dim]")
    console_out().print(t)
