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

__all__ = [
    "Value", "grad", "gradcheck", "gradgradcheck", "GradcheckError", "detect_anomaly", "no_grad", "define_op", "scope",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``ag.compile`` (:func:`autograd_scalar.compiler.compile`), loaded when first asked for, so that
    ``import autograd_scalar`` does not load the compiler; not in ``__all__``, so ``*`` leaves the builtin."""
    if name == "compile":
        from .compiler import compile

        return compile
    raise AttributeError(f"module 'autograd_scalar' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "compile"])
