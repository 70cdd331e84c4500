"""``tokcom schemes``: the registered schemes with one-line descriptions."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def schemes_cmd(json_out: Annotated[bool, typer.Option("--json", help="JSON list")] = False) -> None:
    """List registered schemes with one-line descriptions."""
    from rich.table import Table

    from tokcom.cli.app import console_out
    from tokcom.registry import SCHEMES

    entries = SCHEMES.entries()
    if json_out:
        print(json.dumps([{"name": e.name, "description": e.description} for e in entries], indent=2))
        return
    t = Table("scheme", "description")
    for e in entries:
        t.add_row(e.name, e.description)
    console_out().print(t)
