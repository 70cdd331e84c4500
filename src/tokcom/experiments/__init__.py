"""Experiments: the demo, sweeps, result stores, plots and HTML reports."""
