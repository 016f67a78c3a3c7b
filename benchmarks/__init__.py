"""Benchmarks (`make bench`): benchmarks/run.py runs the cases in benchmarks/cases/."""
