"""Benchmark cases: each module exposes CASES: list[benchmarks.harness.Case]."""
