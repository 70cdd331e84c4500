"""The ``tokcom`` application: command registration and the error contract.

Exit codes: 0 success; 2 bad input or usage (one line on stderr, no traceback, no partial output);
1 internal error (a bug: the traceback is printed).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer

app = typer.Typer(
    name="tokcom",
    help="Token-based semantic video communication over wireless links.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# (name, module, attribute, kind) — modules are imported when the CLI starts, and stay light at import.
_ENTRIES = [
    ("run", "tokcom.cli.run", "run_cmd", "command"),
    ("schemes", "tokcom.cli.schemes", "schemes_cmd", "command"),
    ("metrics", "tokcom.cli.metrics", "metrics_cmd", "command"),
    ("demo", "tokcom.cli.demo", "demo_cmd", "command"),
    ("sweep", "tokcom.cli.sweep", "sweep_cmd", "command"),
    ("results", "tokcom.cli.sweep", "results_cmd", "command"),
    ("report", "tokcom.cli.sweep", "report_cmd", "command"),
    ("link", "tokcom.cli.link", "link_app", "group"),
    ("models", "tokcom.cli.models", "models_app", "group"),
    ("tokenizer", "tokcom.cli.tokenizer", "tokenizer_app", "group"),
    ("data", "tokcom.cli.data", "data_app", "group"),
    ("train", "tokcom.cli.train", "train_cmd", "command"),
]


def _register() -> None:
    for name, mod, attr, kind in _ENTRIES:
        obj = getattr(importlib.import_module(mod), attr)
        if kind == "group":
            app.add_typer(obj, name=name)
        else:
            app.command(name)(obj)


_register()


def console_err():
    from rich.console import Console

    return Console(stderr=True)


def console_out():
    """The stdout console; 140 columns when stdout is a pipe or file, so tables are not squeezed."""
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=140)


@contextmanager
def progress_status(title: str) -> Iterator[Callable[[str], None]]:
    """A rich spinner on stderr; yields a callback that updates its message."""
    con = console_err()
    if not con.is_terminal:
        yield lambda _msg: None
        return
    with con.status(title) as status:
        yield lambda msg: status.update(f"{title}: {msg}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tokcom`` script."""
    from tokcom.errors import TokcomError

    exit_exc, abort_exc, usage_exc, noargs_exc = _click_exceptions()
    try:
        rv = app(args=argv, standalone_mode=False, prog_name="tokcom")
        return int(rv or 0) if isinstance(rv, int) else 0
    except TokcomError as e:
        _fail(str(e))
        return 2
    except exit_exc as e:
        return int(getattr(e, "exit_code", 0))
    except abort_exc:
        _fail("aborted")
        return 130
    except noargs_exc:  # `tokcom` alone: help was shown
        return 0 if "--help" in (argv or sys.argv[1:]) else 2
    except usage_exc as e:
        _fail(e.format_message())
        return 2
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        return 0


def _click_exceptions() -> tuple[type, type, type, type]:
    """Click's exit/abort/usage exceptions (typer ≥ 0.20 vendors click as ``typer._click``)."""
    try:
        from typer._click import exceptions as ce
        from typer.exceptions import Abort, Exit
    except ImportError:  # older typer on top of click
        import click.exceptions as ce
        from click.exceptions import Abort, Exit
    noargs = getattr(ce, "NoArgsIsHelpError", ())
    return Exit, Abort, ce.ClickException, noargs or ce.ClickException


def _fail(msg: str) -> None:
    line = " ".join(str(msg).split()) or "error"
    sys.stderr.write(f"tokcom: error: {line}\n")


def entry() -> None:  # pragma: no cover - console script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
