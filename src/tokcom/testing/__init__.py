"""Helpers for testing schemes and receivers (used by tokcom's tests and benchmarks; usable for your own).

Re-exports only: :func:`fuzz_receptions`, :func:`check_receiver` (:mod:`tokcom.testing.fuzz`).
"""

from tokcom.testing.fuzz import WELL_FORMED, check_receiver, fuzz_receptions

__all__ = ["WELL_FORMED", "check_receiver", "fuzz_receptions"]
