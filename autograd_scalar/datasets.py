"""Datasets: toy 2-D problems made from a seed in pure Python, the 8x8 digits, and a train/test split.

Each toy function returns ``(X, y)``: ``X`` a list of ``[x0, x1]`` points (floats) and ``y`` a list
of class labels 0 and 1 (ints; ``0..k-1`` for ``spirals(classes=k)``), shuffled. All randomness
comes from one ``random.Random(seed)``, so the same arguments give the same data on every machine.
``digits()`` is real data: scikit-learn's bundled 1,797 handwritten digits (no download), through
the ``datasets`` extra. ``train_test_split`` holds out a stratified, seeded test set.

>>> X, y = moons(100, noise=0.1, seed=0)
>>> len(X), len(X[0]), sorted(set(y)), y.count(1)
(100, 2, [0, 1], 50)
>>> moons(100, noise=0.1, seed=0) == (X, y)
True
"""

from __future__ import annotations

import functools
import math
import numbers
import random
from collections.abc import Callable, Sequence
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


def spirals(n: int = 100, noise: float = 0.05, seed: int | None = 0, turns: float = 1.0, classes: int = 2
            ) -> Dataset:
    """Interleaved spirals, one per class, each making ``turns`` turns out from the centre.

    Point ``i`` of a spiral sits at radius ``r = i / m`` and angle ``2 pi turns r``, plus
    ``2 pi k / classes`` for class ``k`` (for two classes: plus pi for class 1). A hard one: it
    needs more epochs and neurons than the moons. With ``classes=3`` it is a problem for
    ``cross_entropy`` and an MLP with one output per class. The classes get ``n // classes``
    points each, the last ones one more when ``classes`` does not divide ``n``.

    >>> X, y = spirals(10, noise=0.0)
    >>> max(math.hypot(a, b) for a, b in X) <= 1.0
    True
    >>> X, y = spirals(150, classes=3)
    >>> sorted(set(y)), [y.count(k) for k in range(3)]
    ([0, 1, 2], [50, 50, 50])
    """
    _check("spirals", n, noise)
    if not isinstance(turns, numbers.Real) or not 0 < turns <= 10:
        raise ValueError(f"spirals: turns must be a number in (0, 10], got {turns!r}")
    if isinstance(classes, bool) or not isinstance(classes, int) or not 2 <= classes <= n:
        raise ValueError(f"spirals: classes must be an int from 2 to n ({n}), got {classes!r}")
    rng = random.Random(seed)
    points = []
    for label in range(classes):
        count = n // classes + (label >= classes - n % classes)
        for i in range(count):
            r = (i + 1) / count
            angle = 2 * math.pi * turns * r + 2 * math.pi * label / classes
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


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "spirals3": functools.partial(spirals, classes=3),
    "xor": xor,
}
"""The toy datasets by name, as the ``train`` command offers them (``spirals3``: three classes).
Each is called as ``make(n, noise=..., seed=...)``; ``digits`` is separate, as it has neither."""

DATASETS_EXTRA = "pip install 'autograd-scalar[datasets]'"


def digits() -> Dataset:
    """scikit-learn's 8x8 handwritten digits: 1,797 images of the digits 0 to 9, about 180 of each.

    Each image is a list of 64 pixel intensities, row by row (pixel ``(r, c)`` at ``8 * r + c``),
    scaled from scikit-learn's 0..16 to 0..1; each label is the digit (an int). The data ships
    inside scikit-learn, so nothing is downloaded; it comes in scikit-learn's order, so split it
    with ``train_test_split``. Needs the ``datasets`` extra (``pip install 'autograd-scalar[datasets]'``).

    >>> X, y = digits()
    >>> len(X), len(X[0]), sorted(set(y)) == list(range(10))
    (1797, 64, True)
    >>> min(min(x) for x in X), max(max(x) for x in X)
    (0.0, 1.0)
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(f"digits: needs scikit-learn ({DATASETS_EXTRA}): {error}") from None
    bunch = load_digits()
    return [[v / 16.0 for v in row] for row in bunch.data.tolist()], [int(t) for t in bunch.target.tolist()]


def train_test_split(X: Sequence[Any], y: Sequence[Any], test_fraction: float = 0.2, seed: int | None = 0
                     ) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """``(X_train, X_test, y_train, y_test)``: hold out ``test_fraction`` of each class, at random.

    Stratified: each class gives ``round(test_fraction * count)`` of its samples to the test set,
    at least one and never all, so both sets hold every class in about the proportions of the
    whole (a class with a single sample stays in training). Seeded: the samples of each class are
    shuffled by one ``random.Random(seed)``, then each set is shuffled by it too, so the classes
    are mixed; plain Python arithmetic, so the same on every machine. Samples are the objects of
    ``X`` and ``y``, not copies. The order of the returned lists follows scikit-learn's.

    >>> X, y = [[float(i)] for i in range(10)], [0] * 5 + [1] * 5
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=0)
    >>> len(X_train), len(X_test), sorted(y_test)
    (8, 2, [0, 1])
    >>> train_test_split(X, y, 0.2, seed=0) == (X_train, X_test, y_train, y_test)
    True
    """
    if len(X) != len(y) or len(X) < 2:
        raise ValueError(f"train_test_split: {len(X)} samples and {len(y)} labels; need equal counts of at least 2")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must be a number between 0 and 1, got {test_fraction!r}")
    rng = random.Random(seed)
    by_class: dict[Any, list[int]] = {}
    for i, label in enumerate(y):
        by_class.setdefault(label, []).append(i)
    train: list[int] = []
    test: list[int] = []
    for indices in by_class.values():                      # classes in order of first appearance
        rng.shuffle(indices)
        held = min(len(indices) - 1, max(1, round(test_fraction * len(indices))))
        test += indices[:held]
        train += indices[held:]
    rng.shuffle(train)
    rng.shuffle(test)
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]
