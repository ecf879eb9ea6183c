"""Benchmarks of the deployed protocol (`python -m choir_chain.bench.gas`, `make bench-gas`)."""
