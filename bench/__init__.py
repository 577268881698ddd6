"""Benchmarks of the serving path and training, each section in its own module."""
