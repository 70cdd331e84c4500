"""The ``tokcom`` command line (typer). Thin: parse arguments, build dataclasses, call the library."""
