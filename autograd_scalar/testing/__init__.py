"""Tools for testing gradient code: yours and ours.

- :mod:`autograd_scalar.testing.ops`: every operation with its domain, and replayable expressions.

Nothing optional is imported here; submodules that need NumPy or hypothesis import them themselves.
"""
