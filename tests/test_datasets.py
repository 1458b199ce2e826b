"""datasets: moons, circles, spirals and xor have the promised shape, classes and geometry, are the
same for the same seed (and leave the global random generator alone), and refuse bad arguments."""

from __future__ import annotations

import math
import random

import pytest

from autograd_scalar.datasets import DATASETS, circles, moons, spirals, xor


@pytest.mark.parametrize("name", DATASETS)
def test_shape_labels_and_reproducibility(name):
    make = DATASETS[name]
    random.seed(5)
    state = random.getstate()
    X, y = make(101, noise=0.1, seed=3)
    assert random.getstate() == state
    assert len(X) == len(y) == 101
    assert all(len(p) == 2 and all(isinstance(v, float) and math.isfinite(v) for v in p) for p in X)
    assert set(y) == {0, 1} and all(type(label) is int for label in y)
    assert make(101, noise=0.1, seed=3) == (X, y)
    assert make(101, noise=0.1, seed=4) != (X, y)
    assert y[:20] != sorted(y[:20])                           # shuffled, not all of class 0 first


@pytest.mark.parametrize("make", [moons, circles, spirals])
def test_classes_are_balanced(make):
    _, y = make(101, seed=0)
    assert (y.count(0), y.count(1)) == (50, 51)


def test_moons_geometry_without_noise():
    X, y = moons(40, noise=0.0, seed=0)
    for (a, b), label in zip(X, y):
        if label == 0:                                        # upper moon: unit circle, y >= 0
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:                                                 # lower moon: centred (1, 0.5), y <= 0.5
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_noise_is_gaussian_with_the_requested_standard_deviation():
    # the noise draws consume the generator alike whatever their scale, so the same seed gives the
    # same order, and the difference of the two datasets is the noise itself
    (clean, y0), (noisy, y1) = moons(2000, noise=0.0, seed=1), moons(2000, noise=0.2, seed=1)
    assert y0 == y1
    offsets = [n - c for p, q in zip(noisy, clean) for n, c in zip(p, q)]
    mean = sum(offsets) / len(offsets)
    std = math.sqrt(sum((d - mean) ** 2 for d in offsets) / len(offsets))
    assert abs(mean) < 0.01 and std == pytest.approx(0.2, rel=0.03)


def test_circles_radii():
    X, y = circles(60, noise=0.0, seed=0, factor=0.3)
    assert {(round(math.hypot(a, b), 9), label) for (a, b), label in zip(X, y)} == {(1.0, 0), (0.3, 1)}


def test_spirals_interleave():
    X, y = spirals(200, noise=0.0, seed=0)
    assert max(math.hypot(a, b) for a, b in X) == pytest.approx(1.0)
    # each point of class 1 is its class-0 twin rotated by pi: the two arms never cross
    zeros = {(round(a, 9), round(b, 9)) for (a, b), label in zip(X, y) if label == 0}
    ones = {(round(-a, 9), round(-b, 9)) for (a, b), label in zip(X, y) if label == 1}
    assert zeros == ones


def test_xor_labels_follow_the_signs():
    X, y = xor(300, seed=2)
    assert all(label == int((a > 0) != (b > 0)) for (a, b), label in zip(X, y))
    assert all(-1 <= v <= 1 for p in X for v in p)
    assert 100 < y.count(1) < 200


@pytest.mark.parametrize("call, message", [
    (lambda: moons(1), "moons: n must be an int >= 2"),
    (lambda: circles(10.0), "circles: n must be an int >= 2 .* got 10.0"),
    (lambda: spirals(10, noise=-0.1), "spirals: noise must be a finite number >= 0, got -0.1"),
    (lambda: xor(10, noise=float("inf")), "xor: noise must be a finite number >= 0, got inf"),
    (lambda: circles(10, factor=1.5), "factor .* must be between 0 and 1, got 1.5"),
    (lambda: spirals(10, turns=0), "turns must be a number in"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
