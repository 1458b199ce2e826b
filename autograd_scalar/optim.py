"""Optimisers: ``SGD`` (with momentum, Nesterov, weight decay) and ``Adam``, as in ``torch.optim``.

An optimiser holds a list of parameters (leaf ``Value``s). ``step()`` reads each ``.grad`` and
moves ``.data``; ``zero_grad()`` resets the gradients, which otherwise accumulate from one
``backward()`` to the next. The update equations are PyTorch's, line for line, so the same
problem trained here and with ``torch.optim`` in float64 follows the same path.

>>> from autograd_scalar import Value
>>> from autograd_scalar.optim import SGD
>>> x = Value(3.0)
>>> opt = SGD([x], lr=0.1)
>>> for _ in range(50):
...     opt.zero_grad()
...     (x * x).backward()          # d(x**2)/dx = 2x
...     opt.step()                  # x <- x - 0.1 * 2x = 0.8 x
>>> round(x.data, 6)                # 3 * 0.8**50
4.3e-05
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from .engine import Value


def _check_number(where: str, name: str, x: Any, low: float = 0.0, high: float = math.inf,
                  high_open: bool = False) -> float:
    ok = isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x) and low <= x
    ok = ok and (x < high if high_open else x <= high)
    if not ok:
        upper = f" and < {high}" if high_open else ""
        raise ValueError(f"{where}: {name} must be a finite number >= {low}{upper}, got {x!r}")
    return float(x)


def _refuse_set_to_none(where: str, set_to_none: Any) -> None:
    """``zero_grad(set_to_none=True)`` has no meaning here: a ``.grad`` is a float, never ``None``."""
    if set_to_none:
        raise ValueError(f"{where}: set_to_none={set_to_none!r} does not apply: .grad is always a float "
                         "(0.0 where no gradient arrived, unlike PyTorch's None); call zero_grad()")


class Optimizer:
    """What every optimiser shares: the parameter list, ``zero_grad()``, and the gradient check."""

    def __init__(self, params: Iterable[Value]) -> None:
        name = type(self).__name__
        if isinstance(params, Value):
            raise TypeError(f"{name}: params must be a list of Values, got a single Value {params!r}; wrap it in [ ]")
        if callable(getattr(params, "parameters", None)):  # a model (nn.Module), as torch.optim would refuse too
            raise TypeError(f"{name}: expected a list of Values, got the model {params!r}; "
                            f"pass model.parameters(): {name}(model.parameters(), ...)")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{name}: empty parameter list; pass model.parameters()")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"{name}: every parameter must be a Value, got {p!r}")
        if len(set(self.params)) != len(self.params):
            raise ValueError(f"{name}: a parameter appears twice in the list; it would be updated twice per step")

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every parameter's ``.grad`` to 0.0 (call it before each ``backward()``).

        ``set_to_none=True`` (PyTorch's default) is refused: ``.grad`` is always a float here, 0.0
        where no gradient arrived, so there is no ``None`` to set.
        """
        _refuse_set_to_none(f"{type(self).__name__}.zero_grad", set_to_none)
        for p in self.params:
            p.grad = 0.0

    def _grads(self) -> list[float]:
        """Each parameter's gradient, or a FloatingPointError naming the first that is not finite."""
        grads = [p.grad for p in self.params]
        for p, g in zip(self.params, grads):
            if not -math.inf < g < math.inf:
                where = f" {p.label!r}" if p.label else ""
                raise FloatingPointError(f"{type(self).__name__}.step: parameter{where} has gradient {g!r}")
        return grads

    def step(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, dampening, Nesterov and weight decay.

    For each parameter ``p`` with gradient ``g``, exactly as ``torch.optim.SGD``::

        g = g + weight_decay * p                          # if weight_decay
        b = g                                             # first step
        b = momentum * b + (1 - dampening) * g            # later steps
        g = g + momentum * b  if nesterov  else  b        # if momentum
        p = p - lr * g

    (The velocity ``b`` sums gradients; the learning rate multiplies it at the end, which is
    PyTorch's form rather than Sutskever's ``v = momentum * v + lr * g``.)

    >>> from autograd_scalar import Value
    >>> w = Value(1.0)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = 1.0; opt.step(); w.data          # b = 1:          w = 1 - 0.1
    0.9
    >>> w.grad = 1.0; opt.step(); round(w.data, 12)   # b = 0.9 + 1 = 1.9: w = 0.9 - 0.19
    0.71
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = _check_number("SGD", "lr", lr)
        self.momentum = _check_number("SGD", "momentum", momentum)
        self.weight_decay = _check_number("SGD", "weight_decay", weight_decay)
        self.dampening = _check_number("SGD", "dampening", dampening, high=1.0)
        if nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening 0, got momentum={momentum!r}, "
                f"dampening={dampening!r}"
            )
        self.nesterov = bool(nesterov)
        self.buffers: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        """Move every parameter one step against its gradient."""
        lr, momentum, wd = self.lr, self.momentum, self.weight_decay
        for i, (p, g) in enumerate(zip(self.params, self._grads())):
            if wd != 0.0:
                g = g + wd * p.data
            if momentum != 0.0:
                b = self.buffers[i]
                b = g if b is None else momentum * b + (1.0 - self.dampening) * g
                self.buffers[i] = b
                g = g + momentum * b if self.nesterov else b
            p.data = p.data - lr * g


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and of its square, as ``torch.optim.Adam``.

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

        g = g + weight_decay * p                          # if weight_decay (L2, not AdamW)
        m = beta1 * m + (1 - beta1) * g                   # first moment
        v = beta2 * v + (1 - beta2) * g * g               # second moment
        m_hat = m / (1 - beta1**t)                        # bias corrections: m, v start at 0
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    computed, as PyTorch does, as ``p - (lr / (1 - beta1**t)) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.

    >>> from autograd_scalar import Value
    >>> w = Value(1.0)
    >>> opt = Adam([w], lr=0.1)
    >>> w.grad = 123.0; opt.step(); round(w.data, 9)  # the first step is about lr, whatever |g|
    0.9
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = _check_number("Adam", "lr", lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _check_number("Adam", "betas[0]", betas[0], high=1.0, high_open=True),
            _check_number("Adam", "betas[1]", betas[1], high=1.0, high_open=True),
        )
        self.eps = _check_number("Adam", "eps", eps)
        self.weight_decay = _check_number("Adam", "weight_decay", weight_decay)
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        """Move every parameter one Adam step."""
        grads = self._grads()
        beta1, beta2 = self.betas
        self.t += 1
        step_size = self.lr / (1.0 - beta1**self.t)
        correction2_sqrt = math.sqrt(1.0 - beta2**self.t)
        m, v, wd, eps = self.m, self.v, self.weight_decay, self.eps
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if wd != 0.0:
                g = g + wd * p.data
            m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
            p.data = p.data - step_size * (m[i] / (math.sqrt(v[i]) / correction2_sqrt + eps))
