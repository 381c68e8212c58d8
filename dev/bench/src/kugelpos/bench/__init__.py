"""Benchmarks against a local stack: `python -m kugelpos.bench` (make bench).

Figures are printed as JSON and never asserted: speed is measured here, not tested.
"""
