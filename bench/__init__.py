"""Benchmarks that print their figures next to a limit measured in the same run; nothing
here asserts timing (that belongs to no unit test). Run them all with `python -m bench`."""
