"""Tools for testing gradient code: yours and ours.

- :mod:`autograd_scalar.testing.ops`: every operation with its domain, and replayable expressions.
- :func:`check_backward`: your hand-written NumPy backward, checked entry by entry against the engine.
- :mod:`autograd_scalar.testing.strategies`: hypothesis strategies for Values and random graphs.

Nothing optional is imported here; submodules that need NumPy or hypothesis import them themselves.
"""

from .check_backward import check_backward

__all__ = ["check_backward"]
