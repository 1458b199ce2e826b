"""datasets: moons, circles, spirals (two or three classes) and xor have the promised shape, classes and
geometry, are the same for the same seed (and leave the global random generator alone), and refuse bad
arguments; digits() is scikit-learn's 8x8 digits, scaled to 0..1, with an ImportError naming the extra;
train_test_split is stratified, disjoint and complete, seeded, and the same on every machine."""

from __future__ import annotations

import math
import random
import sys

import pytest
from conftest import require_module

from autograd_scalar.datasets import DATASETS, circles, digits, moons, spirals, train_test_split, xor


@pytest.mark.parametrize("name", DATASETS)
def test_shape_labels_and_reproducibility(name):
    make = DATASETS[name]
    random.seed(5)
    state = random.getstate()
    X, y = make(101, noise=0.1, seed=3)
    assert random.getstate() == state
    assert len(X) == len(y) == 101
    assert all(len(p) == 2 and all(isinstance(v, float) and math.isfinite(v) for v in p) for p in X)
    assert set(y) == ({0, 1, 2} if name == "spirals3" else {0, 1}) and all(type(label) is int for label in y)
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
    (lambda: spirals(10, classes=1), r"spirals: classes must be an int from 2 to n \(10\), got 1"),
    (lambda: spirals(4, classes=5), "got 5"),
    (lambda: spirals(10, classes=3.0), "got 3.0"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_three_spirals_are_one_arm_rotated_by_a_third_of_a_turn():
    X, y = spirals(150, noise=0.0, seed=0, classes=3)
    assert [y.count(k) for k in range(3)] == [50, 50, 50]
    assert max(math.hypot(a, b) for a, b in X) == pytest.approx(1.0)
    arms = [[(a, b) for (a, b), label in zip(X, y) if label == k] for k in range(3)]
    c, s = math.cos(2 * math.pi / 3), math.sin(2 * math.pi / 3)
    for k in (1, 2):
        # sorted by radius, point i of arm k is point i of arm k - 1 turned by 2 pi / 3
        previous, current = (sorted(arm, key=lambda p: math.hypot(*p)) for arm in (arms[k - 1], arms[k]))
        for (a, b), (p, q) in zip(previous, current):
            assert math.hypot(c * a - s * b - p, s * a + c * b - q) < 1e-12


def test_spirals_with_classes_not_dividing_n_gives_the_last_classes_one_more():
    _, y = spirals(11, classes=3)
    assert [y.count(k) for k in range(3)] == [3, 4, 4]


# ---- digits -----------------------------------------------------------------------------------

def test_digits_is_scikit_learns_bundle_scaled_to_0_1():
    sklearn_datasets = require_module("sklearn.datasets", "pip install 'autograd-scalar[datasets]'")
    X, y = digits()
    bunch = sklearn_datasets.load_digits()
    assert len(X) == len(y) == 1797 and all(len(x) == 64 for x in X)
    assert all(type(v) is float for x in X for v in x) and all(type(label) is int for label in y)
    assert y == bunch.target.tolist()
    assert X[5] == [v / 16 for v in bunch.data[5].tolist()]
    assert {y.count(k) for k in range(10)} <= set(range(174, 184))
    assert min(min(x) for x in X) == 0.0 and max(max(x) for x in X) == 1.0


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)                 # import sklearn -> ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"digits: needs scikit-learn \(pip install 'autograd-scalar\[datasets\]'\)"):
        digits()


# ---- train_test_split -----------------------------------------------------------------------

def _labelled(counts):
    y = [label for label, count in counts.items() for _ in range(count)]
    return [[float(i), float(i % 7)] for i in range(len(y))], y


def test_split_is_disjoint_complete_and_keeps_samples_with_their_labels():
    X, y = _labelled({0: 40, 1: 25, 2: 35})
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=3)
    assert len(X_train) == len(y_train) and len(X_test) == len(y_test)
    assert sorted(map(tuple, X_train + X_test)) == sorted(map(tuple, X))
    truth = {tuple(x): label for x, label in zip(X, y)}
    assert all(truth[tuple(x)] == label for x, label in zip(X_train + X_test, y_train + y_test))
    assert all(a is b for a, b in zip(sorted(X_train, key=id), sorted((x for x in X if x in X_train), key=id)))


def test_split_is_stratified():
    X, y = _labelled({0: 40, 1: 25, 2: 35, "seven": 10})
    _, _, y_train, y_test = train_test_split(X, y, 0.2, seed=0)
    assert {label: y_test.count(label) for label in (0, 1, 2, "seven")} == {0: 8, 1: 5, 2: 7, "seven": 2}
    assert {label: y_train.count(label) for label in (0, 1, 2, "seven")} == {0: 32, 1: 20, 2: 28, "seven": 8}
    assert y_test != sorted(y_test, key=str) or len(set(y_test)) == 1   # classes mixed, not in blocks


def test_split_keeps_every_class_in_both_sets_when_it_can():
    X, y = _labelled({0: 30, 1: 2, 2: 1})
    _, _, y_train, y_test = train_test_split(X, y, 0.1, seed=0)
    assert (y_train.count(1), y_test.count(1)) == (1, 1)            # round(0.2) = 0, but at least one
    assert (y_train.count(2), y_test.count(2)) == (1, 0)            # a single sample stays in training
    _, _, y_train, y_test = train_test_split(X, y, 0.9, seed=0)
    assert (y_train.count(0), y_test.count(0)) == (3, 27)
    assert (y_train.count(1), y_test.count(1)) == (1, 1)            # never all of a class


def test_split_is_seeded_and_leaves_the_global_generator_alone():
    X, y = _labelled({0: 50, 1: 50})
    random.seed(1)
    state = random.getstate()
    first = train_test_split(X, y, 0.3, seed=7)
    assert random.getstate() == state
    assert train_test_split(X, y, 0.3, seed=7) == first
    assert train_test_split(X, y, 0.3, seed=8) != first


PINNED_TEST = [1, 6, 2]


def test_split_is_the_same_on_every_machine():
    # random.Random(seed) and its shuffle are plain integer arithmetic (Mersenne Twister), the same
    # on every platform and Python version since 3.2: this split was computed once and pinned
    X = list(range(12))
    y = [i % 3 for i in X]
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=0)
    assert (X_test, y_test) == (PINNED_TEST, [x % 3 for x in PINNED_TEST])
    assert sorted(X_train + X_test) == X


@pytest.mark.parametrize("call, message", [
    (lambda: train_test_split([[1.0]] * 3, [0, 1], 0.2), "train_test_split: 3 samples and 2 labels"),
    (lambda: train_test_split([[1.0]], [0], 0.2), "need equal counts of at least 2"),
    (lambda: train_test_split([[1.0]] * 4, [0, 1] * 2, 1.0), "test_fraction must be a number between 0 and 1, got 1.0"),
    (lambda: train_test_split([[1.0]] * 4, [0, 1] * 2, 0), "got 0"),
    (lambda: train_test_split([[1.0]] * 4, [0, 1] * 2, "0.2"), "got '0.2'"),
    (lambda: train_test_split([[1.0]] * 4, [0, 1] * 2, float("nan")), "got nan"),
])
def test_split_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
