"""Benchmarks: measurements printed against baselines run in the same invocation, not timed tests.

A package, run from the repository root as ``python -m bench.<name>`` (``make bench`` runs them
all); the scripts import each other as ``bench.x`` and the tests' helpers as ``tests.support``.
"""
