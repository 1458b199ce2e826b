"""autograd_scalar: a scalar reverse-mode automatic differentiation engine, small enough to read.

>>> from autograd_scalar import Value
>>> a = Value(3.0, label="a")
>>> y = a * a + a          # a feeds two operations: its gradient is the sum of both paths
>>> y.backward()
>>> a.grad                 # d(a*a + a)/da = 2a + 1
7.0

Importing this package imports nothing outside the standard library.
"""

from .engine import Value, detect_anomaly, grad, no_grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops import define_op
from .scopes import scope
from .compiler import compile  # noqa: A004 - reached as ag.compile; not in __all__, so * leaves the builtin

__all__ = [
    "Value", "grad", "gradcheck", "gradgradcheck", "GradcheckError", "detect_anomaly", "no_grad", "define_op", "scope",
]
__version__ = "0.1.0"
