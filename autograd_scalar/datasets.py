"""Toy 2-D classification datasets, made from a seed in pure Python (no scikit-learn, no download).

Each function returns ``(X, y)``: ``X`` a list of ``[x0, x1]`` points (floats) and ``y`` a list of
class labels 0 and 1 (ints), shuffled. All randomness comes from one ``random.Random(seed)``, so
the same arguments give the same data.

>>> X, y = moons(100, noise=0.1, seed=0)
>>> len(X), len(X[0]), sorted(set(y)), y.count(1)
(100, 2, [0, 1], 50)
>>> moons(100, noise=0.1, seed=0) == (X, y)
True
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable
from typing import Any

Dataset = tuple[list[list[float]], list[int]]


def _check(name: str, n: Any, noise: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"{name}: n must be an int >= 2 (the number of points), got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0 <= noise < math.inf:
        raise ValueError(f"{name}: noise must be a finite number >= 0, got {noise!r}")


def _finish(rng: random.Random, points: list[tuple[float, float, int]], noise: float) -> Dataset:
    """Add Gaussian noise of standard deviation ``noise`` to each point, then shuffle."""
    noisy = [[x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise), label] for x, y, label in points]
    rng.shuffle(noisy)
    return [[x, y] for x, y, _ in noisy], [label for _, _, label in noisy]


def _angles(n: int, stop: float) -> list[float]:
    """``n`` evenly spaced angles from 0 to ``stop``, both ends included."""
    return [stop * i / (n - 1) if n > 1 else 0.0 for i in range(n)]


def moons(n: int = 100, noise: float = 0.1, seed: int | None = 0) -> Dataset:
    """Two interleaving half circles: class 0 the upper moon, class 1 the lower one.

    The upper moon is ``(cos t, sin t)`` and the lower ``(1 - cos t, 0.5 - sin t)`` for ``t`` in
    ``[0, pi]`` (scikit-learn's ``make_moons``), with ``n // 2`` points in class 0 and the rest
    in class 1. No straight line separates them; a small MLP does.

    >>> X, y = moons(4, noise=0.0)
    >>> sorted((round(a, 3), round(b, 3), c) for (a, b), c in zip(X, y))
    [(-1.0, 0.0, 0), (0.0, 0.5, 1), (1.0, 0.0, 0), (2.0, 0.5, 1)]
    """
    _check("moons", n, noise)
    rng = random.Random(seed)
    n0 = n // 2
    upper = [(math.cos(t), math.sin(t), 0) for t in _angles(n0, math.pi)]
    lower = [(1.0 - math.cos(t), 0.5 - math.sin(t), 1) for t in _angles(n - n0, math.pi)]
    return _finish(rng, upper + lower, noise)


def circles(n: int = 100, noise: float = 0.05, seed: int | None = 0, factor: float = 0.5) -> Dataset:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (0 < factor < 1).

    >>> X, y = circles(8, noise=0.0)
    >>> sorted({(round(math.hypot(a, b), 6), c) for (a, b), c in zip(X, y)})
    [(0.5, 1), (1.0, 0)]
    """
    _check("circles", n, noise)
    if not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"circles: factor (inner radius / outer radius) must be between 0 and 1, got {factor!r}")
    rng = random.Random(seed)
    n0 = n // 2
    # endpoint excluded: 0 and 2 pi are the same point
    outer = [(math.cos(2 * math.pi * i / n0), math.sin(2 * math.pi * i / n0), 0) for i in range(n0)]
    n1 = n - n0
    inner = [(factor * math.cos(2 * math.pi * i / n1), factor * math.sin(2 * math.pi * i / n1), 1) for i in range(n1)]
    return _finish(rng, outer + inner, noise)


def spirals(n: int = 100, noise: float = 0.05, seed: int | None = 0, turns: float = 1.0) -> Dataset:
    """Two interleaved spirals, one per class, each making ``turns`` turns out from the centre.

    Point ``i`` of a spiral sits at radius ``r = i / m`` and angle ``2 pi turns r`` (plus pi for
    class 1). A hard one: it needs more epochs and neurons than the moons.

    >>> X, y = spirals(10, noise=0.0)
    >>> max(math.hypot(a, b) for a, b in X) <= 1.0
    True
    """
    _check("spirals", n, noise)
    if not isinstance(turns, numbers.Real) or not 0 < turns <= 10:
        raise ValueError(f"spirals: turns must be a number in (0, 10], got {turns!r}")
    rng = random.Random(seed)
    points = []
    for label, count in ((0, n // 2), (1, n - n // 2)):
        for i in range(count):
            r = (i + 1) / count
            angle = 2 * math.pi * turns * r + math.pi * label
            points.append((r * math.cos(angle), r * math.sin(angle), label))
    return _finish(rng, points, noise)


def xor(n: int = 100, noise: float = 0.0, seed: int | None = 0) -> Dataset:
    """Points uniform in the square ``[-1, 1]^2``; class 1 where ``x0`` and ``x1`` have opposite signs.

    The classic problem one neuron cannot solve. The label is decided before the noise is added,
    so with ``noise > 0`` points near the axes cross over.

    >>> X, y = xor(200, seed=1)
    >>> all((a > 0) != (b > 0) for (a, b), c in zip(X, y) if c == 1)
    True
    """
    _check("xor", n, noise)
    rng = random.Random(seed)
    points = []
    for _ in range(n):
        a, b = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        points.append((a, b, int((a > 0) != (b > 0))))
    return _finish(rng, points, noise)


DATASETS: dict[str, Callable[..., Dataset]] = {"moons": moons, "circles": circles, "spirals": spirals, "xor": xor}
"""The datasets by name, as the ``train`` command offers them."""
