"""Typed exceptions. Every message is one actionable line; the CLI maps `TokcomError` to exit code 2."""

from __future__ import annotations


class TokcomError(Exception):
    """Base class of every error tokcom raises on purpose (bad input, missing weights, ...)."""


class InputError(TokcomError, ValueError):
    """Bad user input: a missing/corrupt/empty file, a wrong size, an invalid option."""


class UnknownNameError(InputError, KeyError):
    """A registry lookup failed; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class WeightsUnavailable(TokcomError):
    """Model weights are not in the cache and cannot be fetched here; the message names what to run."""


class DecodeError(TokcomError):
    """A receiver could not parse a bitstream. Receivers catch this and degrade gracefully."""


class InfeasibleError(TokcomError):
    """An optimisation (rate/resource allocation) has no feasible solution for the given budget."""
