"""Benchmarks (issue 8): `bench/run`. Nothing here is imported by the shop."""
