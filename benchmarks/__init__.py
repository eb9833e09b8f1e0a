"""Benchmarks: commands that print medians and ratios (not timed tests)."""
