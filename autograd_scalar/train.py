"""Training: the ``fit`` loop, a plain-text progress bar, and the loss / decision-boundary plot.

``fit`` is the loop every learner writes once by hand: for each batch, forward, loss,
``zero_grad()``, ``backward()``, ``step()``. It records the loss and accuracy of every epoch.
The ``autograd-scalar train`` command is this module with a dataset, a progress bar and a plot.

>>> from autograd_scalar.datasets import xor
>>> from autograd_scalar.nn import MLP
>>> from autograd_scalar.optim import Adam
>>> X, y = xor(40, seed=0)
>>> model = MLP(2, [8, 1], seed=0)
>>> history = fit(model, X, y, "bce", Adam(model.parameters(), lr=0.1), epochs=60)
>>> history.loss[-1] < history.loss[0] / 10, history.accuracy[-1]
(True, 1.0)
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, Union

from . import losses
from .arguments import check_train, parse_hidden
from .atomic import atomic_file
from .engine import Value
from .nn import MLP, Module
from .optim import Optimizer

Output = Union[Value, list]
LossFunction = Callable[[list, list], Value]

PLOT_EXTRA = "pip install 'autograd-scalar[plot]'"


def _save_figure(fig: Any, path: Any) -> None:
    """``fig.savefig`` through ``autograd_scalar.atomic`` (a failed write keeps the old file), in the
    format the suffix names (PNG without one)."""
    with atomic_file(path, "wb") as file:
        fig.savefig(file, format=Path(path).suffix.lstrip(".").lower() or "png")


def _hinge(scores: list, labels: list) -> Value:
    # fit takes class labels 0/1; the hinge loss wants -1/+1.
    return losses.hinge(scores, [2 * y - 1 if y in (0, 1) else y for y in labels])


LOSSES: dict[str, LossFunction] = {
    "bce": losses.binary_cross_entropy,
    "hinge": _hinge,
    "mse": losses.mse,
    "cross_entropy": losses.softmax_cross_entropy,
}
"""Loss names ``fit`` accepts. ``bce`` and ``hinge`` want one output (a score; class 1 when > 0)
and labels 0/1; ``cross_entropy`` wants one output per class and labels ``0..K-1``."""


@dataclass
class History:
    """What ``fit`` measured: one entry per epoch, the mean training loss and accuracy (0 to 1).

    With ``fit(..., validation=(X_test, y_test))``, also ``val_loss`` and ``val_accuracy``: the
    loss and accuracy on those held-out samples after each epoch's last step (empty without).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)


def predict(output: Output) -> int:
    """The class a model's output votes for: ``score > 0`` for one output, else the largest output.

    >>> predict(Value(0.3)), predict(Value(-2.0)), predict([Value(0.1), Value(0.7), Value(0.2)])
    (1, 0, 1)
    """
    if isinstance(output, Value):
        return int(output.data > 0.0)
    scores = [o.data if isinstance(o, Value) else float(o) for o in output]
    return max(range(len(scores)), key=scores.__getitem__)


def accuracy(outputs: Sequence[Output], labels: Sequence[int]) -> float:
    """The fraction of ``outputs`` whose ``predict`` equals the label (labels 0/1, or ``0..K-1``).

    >>> accuracy([Value(1.0), Value(-1.0), Value(2.0)], [1, 0, 0])
    0.6666666666666666
    """
    if len(outputs) != len(labels) or not labels:
        raise ValueError(f"accuracy: {len(outputs)} outputs and {len(labels)} labels; need equal, non-zero counts")
    return sum(predict(o) == y for o, y in zip(outputs, labels)) / len(labels)


def _loss_function(loss: str | LossFunction) -> LossFunction:
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"fit: unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a function")
    return LOSSES[loss]


def evaluate(model: Module, X: Sequence[Sequence[float]], y: Sequence[Any], loss: str | LossFunction = "bce",
             compile: bool = True,  # noqa: A002 - as fit's
             ) -> tuple[float, float]:
    """``(loss, accuracy)`` of ``model`` on the whole of ``X, y``, changing nothing.

    >>> model = MLP(1, [1], seed=0)
    >>> model.layers[0].neurons[0].w[0].data = 1.0          # score = x
    >>> evaluate(model, [[-2.0], [3.0], [0.5]], [0, 1, 0], "hinge")[1]   # 0.5 is on the wrong side
    0.6666666666666666
    """
    compiled = _CompiledLoss.make(model, loss) if compile and len(X) == len(y) and len(y) else None
    targets = compiled.targets(list(y)) if compiled is not None else None
    rows = _CompiledLoss.rows(X) if targets is not None else None
    if compiled is not None and targets is not None and rows is not None:  # the same numbers, forward only
        return compiled.measure(rows, targets, y)
    outputs = [model(x) for x in X]
    return _loss_function(loss)(outputs, list(y)).data, accuracy(outputs, y)


class _CompiledLoss:
    """``fit``'s compiled path: one sample's loss traced once (``ag.compile``), for the training steps
    and, forward only, for the held-out evaluation. Bit for bit what the loss functions give.

    The target is an input of the compiled function: a float (``bce``, ``mse``; ``hinge``'s -1/+1),
    or a one-hot row for ``cross_entropy``, where ``row[label]`` becomes ``sum(onehot * row)``: the same
    number (the other terms are zeros), the same gradients (zeros added first change no bit).
    """

    def __init__(self, model: MLP, loss: str) -> None:
        from .compiler import CompiledFunction

        self.loss = loss
        self.classes = model.nouts[-1]
        term = _sample_loss(model, loss)
        self.train = CompiledFunction(term, _aux=True)
        self.evaluate = CompiledFunction(term, _aux=True, _forward_only=True)

    @staticmethod
    def make(model: Module, loss: str | LossFunction) -> _CompiledLoss | None:
        """The compiled path where model and loss allow it: an MLP and a named loss it fits."""
        if not isinstance(model, MLP) or not isinstance(loss, str) or loss not in LOSSES:
            return None
        if (model.nouts[-1] == 1) != (loss != "cross_entropy"):
            return None  # the interpreter gives the loss's own error
        return _CompiledLoss(model, loss)

    def targets(self, y: list) -> list | None:
        """Each label as the compiled function's input; None where a label needs the interpreter."""
        import numbers

        if any(isinstance(t, bool) or not isinstance(t, numbers.Real) for t in y):
            return None
        dummy: list = [Value(0.0)] * len(y) if self.classes == 1 else [[Value(0.0)] * self.classes] * len(y)
        _loss_function(self.loss)(dummy, y)  # bad labels: the loss's own error, before any step
        if self.loss == "hinge":
            return [float(2 * t - 1 if t in (0, 1) else t) for t in y]
        if self.loss == "cross_entropy":
            return [[float(k == t) for k in range(self.classes)] for t in y]
        return [float(t) for t in y]

    @staticmethod
    def rows(X: Sequence[Any]) -> list[list[float]] | None:
        """Each input as a list of floats; None unless every entry is a plain int or float (a bool, a
        NumPy number or a Value is left to the interpreter, which decides what it means)."""
        try:
            if all(v.__class__ in (float, int) for x in X for v in x):
                return [[float(v) for v in x] for x in X]
        except TypeError:  # an input that is not a sequence
            pass
        return None

    def measure(self, rows: list[list[float]], targets: list, labels: Sequence[Any]) -> tuple[float, float]:
        """``(mean loss, accuracy)`` over ``rows``, forward only: what ``evaluate`` gives, no ``.grad`` touched."""
        value = self.evaluate.mean(rows, targets)
        outs = self.evaluate.last_outputs
        return value, sum(self.predicted(o) == t for o, t in zip(outs, labels)) / len(labels)

    @staticmethod
    def predicted(output: Any) -> int:
        """``predict`` for the compiled path's outputs: a tuple of floats (or, interpreted, Values)."""
        if not isinstance(output, tuple):
            return predict(output)
        if len(output) == 1:
            return int(output[0] > 0.0)
        return max(range(len(output)), key=output.__getitem__)


def _sample_loss(model: MLP, loss: str) -> Callable[[Any, Any], tuple[Value, Any]]:
    """``(x, target) -> (the loss of that sample, the model's output)``, as the loss functions build it."""
    if loss == "mse":
        def term(x: Any, t: Any) -> tuple[Value, Any]:
            out = model(x)
            return (out - t) ** 2, out
    elif loss == "bce":
        def term(x: Any, t: Any) -> tuple[Value, Any]:
            z = model(x)
            return losses._softplus(z) - t * z, z  # t * z is -0.0 or 0.0 for t == 0: no bit changes
    elif loss == "hinge":
        def term(x: Any, t: Any) -> tuple[Value, Any]:
            s = model(x)
            return (1.0 - t * s).relu(), s
    else:
        def term(x: Any, onehot: Any) -> tuple[Value, Any]:
            row = model(x)
            m = losses._shift(row)
            exps = [(z - m).exp() for z in row]
            picked = [t * z for t, z in zip(onehot, row)]
            return sum(exps[1:], exps[0]).log() + m - sum(picked[1:], picked[0]), row
    return term


def fit(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    loss: str | LossFunction,
    optimizer: Optimizer,
    epochs: int,
    *,
    batch_size: int | None = None,
    seed: int | None = 0,
    callback: Callable[[int, float, float], None] | None = None,
    validation: tuple[Sequence[Sequence[float]], Sequence[Any]] | None = None,
    compile: bool = True,  # noqa: A002 - the name the issue and the CLI's --no-compile use
) -> History:
    """Train ``model`` on ``X, y`` for ``epochs`` passes; returns the ``History`` of loss and accuracy.

    ``loss`` is a name from ``LOSSES`` (``"bce"``, ``"hinge"``, ``"mse"``, ``"cross_entropy"``) or a
    function ``loss(outputs, targets) -> Value``. With ``batch_size`` (default: the whole set) each
    epoch visits the samples in an order shuffled by ``random.Random(seed)``, one batch per step.
    The recorded loss and accuracy of an epoch are those of its batches, measured before each
    batch's step. ``callback(epoch, loss, accuracy)`` runs after every epoch (the progress bar).
    ``validation=(X_test, y_test)``, samples the model does not train on, are evaluated after every
    epoch into ``history.val_loss`` and ``history.val_accuracy``: how well it does on data it has
    not seen, which training accuracy alone cannot tell.

    With ``compile=True`` (the default) an MLP with a named loss trains on the compiled path
    (``ag.compile``: each sample's forward and backward written out as Python, traced once), the
    interpreter otherwise; both give the same ``History`` and parameters, bit for bit.

    >>> from autograd_scalar.optim import SGD
    >>> model = MLP(1, [1], seed=0)                  # one linear neuron: y = w x + b
    >>> X, y = [[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0]
    >>> h = fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=500)
    >>> [round(p.data, 4) for p in model.parameters()]
    [2.0, 1.0]
    """
    loss_fn = _loss_function(loss)
    X, y = list(X), list(y)
    if len(X) != len(y) or not X:
        raise ValueError(f"fit: {len(X)} inputs and {len(y)} labels; need equal, non-zero counts")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    batch_size = len(X) if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"fit: batch_size must be a positive int, got {batch_size!r}")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise ValueError(f"fit: validation must be a pair (X_test, y_test), got {validation!r}")
        X_val, y_val = list(validation[0]), list(validation[1])
        if len(X_val) != len(y_val) or not X_val:
            raise ValueError(f"fit: validation has {len(X_val)} inputs and {len(y_val)} labels; "
                             "need equal, non-zero counts")
    compiled = _CompiledLoss.make(model, loss) if compile else None
    if compiled is not None:
        T = compiled.targets(y)
        T_val = compiled.targets(y_val) if validation is not None and T is not None else []
        rows = _CompiledLoss.rows(X)
        rows_val = _CompiledLoss.rows(X_val) if T_val else []
        if T is None or T_val is None or rows is None or rows_val is None:
            compiled = None
    rng = random.Random(seed)
    order = list(range(len(X)))
    history = History()
    for epoch in range(1, epochs + 1):
        if batch_size < len(X):
            rng.shuffle(order)
        total_loss = correct = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            if compiled is not None:
                optimizer.zero_grad()
                batch_loss = compiled.train.mean([rows[i] for i in batch], [T[i] for i in batch])
                optimizer.step()
                total_loss += batch_loss * len(batch)
                outs = compiled.train.last_outputs
                correct += sum(compiled.predicted(o) == y[i] for o, i in zip(outs, batch))
                continue
            outputs = [model(X[i]) for i in batch]
            targets = [y[i] for i in batch]
            loss_value = loss_fn(outputs, targets)
            optimizer.zero_grad()
            loss_value.backward()
            optimizer.step()
            total_loss += loss_value.data * len(batch)
            correct += sum(predict(o) == t for o, t in zip(outputs, targets))
        history.loss.append(total_loss / len(X))
        history.accuracy.append(correct / len(X))
        if validation is not None:
            if compiled is not None:
                val_loss, val_accuracy = compiled.measure(rows_val, T_val, y_val)
            else:
                val_loss, val_accuracy = evaluate(model, X_val, y_val, loss_fn)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
        if callback is not None:
            callback(epoch, history.loss[-1], history.accuracy[-1])
    return history


class ProgressBar:
    """``epoch  40/100 [############..................]  loss 0.2315  acc  89.0%  3.1s``.

    On a terminal the line is redrawn in place (with ``\\r``); when the output is piped or
    redirected, it prints a plain line every tenth of the run instead, with no control characters.

    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(4, stream=out, width=8)
    >>> for epoch in range(1, 5):
    ...     bar(epoch, 1.0 / epoch, 0.25 * epoch)
    >>> print(out.getvalue().splitlines()[-1])
    epoch 4/4 [########]  loss 0.2500  acc 100.0%  ...s
    """

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = total
        self.stream = sys.stdout if stream is None else stream
        self.width = width
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self.every = max(1, math.ceil(total / 10))
        self.started = time.perf_counter()

    def line(self, epoch: int, loss: float, acc: float) -> str:
        filled = round(self.width * epoch / self.total) if self.total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        digits = len(str(self.total))
        elapsed = time.perf_counter() - self.started
        return f"epoch {epoch:>{digits}}/{self.total} [{bar}]  loss {loss:.4f}  acc {100 * acc:5.1f}%  {elapsed:.1f}s"

    LEGEND = ("(epoch lines: training loss and accuracy over the epoch's batches, each batch measured before"
              " its step; 'final' measures the trained model)")
    """What the epoch figures are, printed once before them: why the last epoch line and 'final' differ."""

    def __call__(self, epoch: int, loss: float, acc: float) -> None:
        last = epoch == self.total
        if self.live:
            self.stream.write("\r" + self.line(epoch, loss, acc) + ("\n" if last else ""))
        elif epoch == 1 or epoch % self.every == 0 or last:
            self.stream.write(self.line(epoch, loss, acc) + "\n")
        self.stream.flush()


def _layer_arrays(model: MLP) -> list[tuple[Any, Any, str]]:
    import numpy as np

    return [
        (
            np.array([[w.data for w in n.w] for n in layer.neurons]),
            np.array([n.b.data for n in layer.neurons]),
            layer.activation,
        )
        for layer in model.layers
    ]


def output_array(model: MLP, X: Any) -> Any:
    """The model's outputs for every row of ``X``, computed with NumPy: an array ``(len(X), k)``.

    The same arithmetic as calling the model, on arrays, and without building a graph: plots need
    thousands of forward passes and no gradients.
    """
    import numpy as np

    h = np.asarray(X, dtype=float).reshape(len(X), model.nin)
    activations = {
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0.0),
        "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
        "linear": lambda z: z,
    }
    for weights, biases, activation in _layer_arrays(model):
        h = activations[activation](h @ weights.T + biases)
    return h


def grid_scores(model: MLP, xs: Any, ys: Any) -> Any:
    """The model's outputs at every point of the grid ``xs`` × ``ys``, computed with NumPy.

    Returns an array of shape ``(len(ys), len(xs))`` for one output, ``(len(ys), len(xs), k)`` for
    ``k`` outputs (``output_array`` on the grid's points).
    """
    import numpy as np

    gx, gy = np.meshgrid(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    h = output_array(model, np.stack([gx.ravel(), gy.ravel()], axis=1))
    shape = gx.shape if h.shape[1] == 1 else (*gx.shape, h.shape[1])
    return h.reshape(shape)


def short_name(model: MLP) -> str:
    """``MLP 2-16-16-1 (tanh)``: a model's shape for titles.

    >>> short_name(MLP(2, [16, 16, 1], seed=0))
    'MLP 2-16-16-1 (tanh)'
    """
    return f"MLP {'-'.join(str(n) for n in [model.nin, *model.nouts])} ({model.activation})"


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as error:
        raise ImportError(f"plotting needs matplotlib and numpy ({PLOT_EXTRA}): {error}") from None


CLASS_COLORS = ["#c62828", "#1f5fa8", "#1b9e77", "#7570b3", "#e6ab02", "#e7298a", "#66a61e", "#a6761d",
                "#17becf", "#666666"]
"""One colour per class in plots: class 0 red and class 1 blue (as the two-class shading), then eight more."""


def _draw_history(left: Any, history: History, color: str) -> None:
    """Loss (black, left axis) and accuracy (``color``, right axis) per epoch; held-out ones dashed."""
    import numpy as np

    epochs = np.arange(1, len(history.loss) + 1)
    held_out = bool(history.val_loss)
    left.plot(epochs, history.loss, color="black", lw=2, label="training loss")
    if held_out:
        left.plot(epochs, history.val_loss, color="black", lw=1.5, ls="--", label="held-out loss")
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    left.set_title("Loss and accuracy" + (" (dashed: held-out)" if held_out else ""))
    left.grid(alpha=0.3)
    acc_axis = left.twinx()
    acc_axis.plot(epochs, 100 * np.asarray(history.accuracy), color=color, lw=1.5, label="training accuracy")
    if held_out:
        acc_axis.plot(epochs, 100 * np.asarray(history.val_accuracy), color=color, lw=1.5, ls="--",
                      label="held-out accuracy")
    acc_axis.set_ylabel("accuracy (%)", color=color)
    acc_axis.set_ylim(0, 101)
    acc_axis.tick_params(axis="y", colors=color)
    handles, names = left.get_legend_handles_labels()
    more_handles, more_names = acc_axis.get_legend_handles_labels()
    left.legend(handles + more_handles, names + more_names, loc="center right")


def plot_training(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    history: History,
    path: str,
    *,
    title: str = "",
    resolution: int = 200,
    test: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None,
) -> None:
    """Save a PNG with the loss and accuracy curves (left) and the decision boundary (right).

    The boundary panel shades each point of the plane by the class the model predicts, one colour
    per class, with the line where the predicted class changes drawn in black, and the training
    points on top (filled); ``test=(X_test, y_test)`` adds the held-out points (hollow).
    Needs matplotlib (``pip install 'autograd-scalar[plot]'``); it uses the Agg renderer directly,
    so it works without a display and leaves pyplot's state alone.
    """
    _require_matplotlib()
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    if model.nin != 2:
        raise ValueError(f"plot_training: a decision boundary needs a model with 2 inputs, got {model.nin}")
    points = np.asarray(X, dtype=float)
    labels = np.asarray(y)
    colors = CLASS_COLORS

    fig = Figure(figsize=(12, 5.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.15])

    _draw_history(left, history, colors[1])

    pad = 0.5
    xs = np.linspace(points[:, 0].min() - pad, points[:, 0].max() + pad, resolution)
    ys = np.linspace(points[:, 1].min() - pad, points[:, 1].max() + pad, resolution)
    scores = grid_scores(model, xs, ys)
    classes = int(labels.max()) + 1 if labels.size else 2
    if scores.ndim == 2:
        # one output: shade by confidence, sigmoid(score), and draw the line score = 0
        shade = 1.0 / (1.0 + np.exp(-np.clip(scores, -50, 50)))
        filled = right.contourf(xs, ys, shade, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.4, vmin=0, vmax=1)
        right.contour(xs, ys, scores, levels=[0.0], colors="black", linewidths=2)
        colorbar = fig.colorbar(filled, ax=right, shrink=0.8, ticks=[0, 0.25, 0.5, 0.75, 1])
        colorbar.set_label("P(class 1) = sigmoid(score)")
    else:
        predicted = scores.argmax(axis=2)
        classes = max(classes, scores.shape[2])
        cmap = ListedColormap([colors[k % len(colors)] for k in range(classes)])
        right.contourf(xs, ys, predicted, levels=np.arange(classes + 1) - 0.5, cmap=cmap, alpha=0.3)
        right.contour(xs, ys, predicted, levels=np.arange(classes) + 0.5, colors="black", linewidths=1.5)
    markers = "os^Dv"
    for k in range(classes):
        chosen = labels == k
        right.scatter(points[chosen, 0], points[chosen, 1], s=30, c=colors[k % len(colors)],
                      marker=markers[k % len(markers)], edgecolors="white", linewidths=0.7, label=f"class {k}")
    if test is not None:
        test_points, test_labels = np.asarray(test[0], dtype=float).reshape(-1, 2), np.asarray(test[1])
        for k in range(classes):
            chosen = test_labels == k
            right.scatter(test_points[chosen, 0], test_points[chosen, 1], s=34, facecolors="none",
                          edgecolors=colors[k % len(colors)], marker=markers[k % len(markers)], linewidths=1.4,
                          label=f"class {k}, held out" if chosen.any() else None)
    right.set_xlim(xs[0], xs[-1])
    right.set_ylim(ys[0], ys[-1])
    right.set_aspect("equal")
    right.set_xlabel("x0")
    right.set_ylabel("x1")
    right.set_title("Decision boundary (black line) and training points" + ("; hollow: held out" if test else ""))
    right.legend(loc="upper right", framealpha=0.9)
    if title:
        fig.suptitle(title, fontsize=13, fontweight="bold")
    _save_figure(fig, path)


def confusion_matrix(predicted: Sequence[int], labels: Sequence[int], classes: int | None = None) -> list[list[int]]:
    """``matrix[true][guess]``: how many samples of class ``true`` the model put in class ``guess``.

    The diagonal holds the correct answers; every other cell is a kind of mistake. ``classes``
    defaults to one more than the largest class seen.

    >>> confusion_matrix(predicted=[0, 1, 1, 2], labels=[0, 1, 2, 2])
    [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    """
    if len(predicted) != len(labels):
        raise ValueError(f"confusion_matrix: {len(predicted)} predictions and {len(labels)} labels; need equal counts")
    seen = [*predicted, *labels]
    bad = next((k for k in seen if isinstance(k, bool) or not isinstance(k, int) or k < 0), None)
    if bad is not None:
        raise ValueError(f"confusion_matrix: classes are ints 0..k-1, got {bad!r}")
    classes = max(seen, default=-1) + 1 if classes is None else classes
    if seen and max(seen) >= classes:
        raise ValueError(f"confusion_matrix: class {max(seen)!r} does not fit in {classes!r} classes")
    matrix = [[0] * classes for _ in range(classes)]
    for guess, true in zip(predicted, labels):
        matrix[true][guess] += 1
    return matrix


def draw_confusion_matrix(ax: Any, matrix: Sequence[Sequence[int]], title: str = "Confusion matrix") -> None:
    """Draw ``matrix`` (from ``confusion_matrix``) on a matplotlib ``Axes``: counts in every non-empty cell.

    Rows are the true classes, columns the predicted ones; the shading is on a log scale, so that
    the few mistakes off the diagonal show beside the many correct answers on it.
    """
    import numpy as np
    from matplotlib.colors import LogNorm

    counts = np.asarray(matrix, dtype=float)
    k = counts.shape[0]
    ax.imshow(np.where(counts > 0, counts, np.nan), cmap="Blues", norm=LogNorm(vmin=0.5, vmax=max(1.0, counts.max())))
    for true in range(k):
        for guess in range(k):
            if counts[true, guess]:
                on_diagonal = true == guess
                ax.text(guess, true, f"{int(counts[true, guess])}", ha="center", va="center", fontsize=9,
                        color="white" if on_diagonal else "#c62828", fontweight="normal" if on_diagonal else "bold")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)


def draw_images(fig: Any, images: Sequence[Sequence[float]], captions: Sequence[str], shape: tuple[int, int] = (8, 8),
                columns: int = 6, cmap: str = "gray_r", symmetric: bool = False) -> list:
    """Draw each image (a flat list of ``rows * cols`` pixels, row by row) in a grid on ``fig``.

    ``fig`` is a matplotlib ``Figure`` or ``SubFigure``; returns the axes. With ``symmetric`` the
    colour scale is centred on 0 (for gradients: ``cmap="RdBu_r"``, red positive, blue negative).
    """
    import numpy as np

    count = max(1, len(images))
    rows = math.ceil(count / columns)
    axes = np.atleast_1d(fig.subplots(rows, min(columns, count), squeeze=False).ravel())
    for ax in axes:
        ax.set_axis_off()
    for ax, image, caption in zip(axes, images, captions):
        pixels = np.asarray(image, dtype=float).reshape(shape)
        if symmetric:
            bound = float(np.abs(pixels).max()) or 1.0
            ax.imshow(pixels, cmap=cmap, vmin=-bound, vmax=bound, interpolation="nearest")
        else:
            ax.imshow(pixels, cmap=cmap, vmin=0.0, vmax=max(1.0, float(pixels.max())), interpolation="nearest")
        ax.set_title(caption, fontsize=9)
    return list(axes)


def plot_digits(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    history: History,
    path: str,
    *,
    title: str = "",
    shape: tuple[int, int] = (8, 8),
    max_images: int = 24,
) -> None:
    """Save a PNG for an image classifier: loss and accuracy curves, the confusion matrix of the model
    on ``X, y`` (pass the held-out set), and a grid of up to ``max_images`` images it gets wrong.

    Each wrong image is captioned ``true 3, said 8``. Needs matplotlib (``pip install
    'autograd-scalar[plot]'``); drawn with the Agg renderer, so it needs no display.
    """
    _require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scores = output_array(model, X)
    predicted = [int(row.argmax()) if len(row) > 1 else int(row[0] > 0.0) for row in scores]
    labels = [int(label) for label in y]
    classes = max(model.nouts[-1], max(labels) + 1)
    wrong = [i for i, (guess, true) in enumerate(zip(predicted, labels)) if guess != true]

    fig = Figure(figsize=(17, 5.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    curves, matrix, grid = fig.subfigures(1, 3, width_ratios=[1, 0.9, 1.1])
    _draw_history(curves.subplots(), history, CLASS_COLORS[1])
    correct = len(labels) - len(wrong)
    draw_confusion_matrix(matrix.subplots(), confusion_matrix(predicted, labels, classes),
                          f"Confusion matrix: {correct}/{len(labels)} right ({100 * correct / len(labels):.1f}%)")
    shown = wrong[:max_images]
    if shown:
        columns = min(6, max(2, math.ceil(math.sqrt(len(shown)))))
        draw_images(grid, [X[i] for i in shown], [f"true {labels[i]}, said {predicted[i]}" for i in shown], shape,
                    columns=columns)
        some = f"{len(shown)} of the {len(wrong)}" if len(shown) < len(wrong) else f"The {len(wrong)}"
        grid.suptitle(f"{some} images it gets wrong")
    else:
        grid.text(0.5, 0.5, "no image is misclassified", ha="center", va="center", fontsize=14)
    if title:
        fig.suptitle(title, fontsize=13, fontweight="bold")
    _save_figure(fig, path)


TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "toy": {"points": 100, "noise": 0.1, "hidden": "16,16", "lr": 0.05, "epochs": 100, "batch_size": 0},
    "digits": {"hidden": "32", "lr": 0.01, "epochs": 10, "batch_size": 32},
}
"""The ``train`` command's defaults for the toy datasets and for the digits (which have no points or noise)."""


def _with_defaults(args: Any) -> Any:
    """``args`` with every option left unset filled from ``TRAIN_DEFAULTS`` for its dataset."""
    defaults = TRAIN_DEFAULTS["digits" if args.dataset == "digits" else "toy"]
    if args.dataset == "digits":
        for option in ("points", "noise"):
            if getattr(args, option, None) is not None:
                raise ValueError(f"--{option} applies to the toy datasets, not to digits (1,797 images as they are)")
    for name, value in defaults.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    return args


def _split(args: Any, X: list, y: list) -> tuple[list, list, list, list]:
    from .datasets import train_test_split

    fraction = args.test_fraction
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction < 1:
        raise ValueError(f"--test-fraction: expected a number from 0 (hold out nothing) to below 1, got {fraction!r}")
    if fraction == 0:
        return X, [], y, []
    return train_test_split(X, y, fraction, seed=args.seed)


def train_command(args: Any, stream: TextIO | None = None) -> int:
    """The ``autograd-scalar train`` command: data, split, model, ``fit`` with a progress bar, save, plot."""
    from .datasets import DATASETS, digits
    from .optim import SGD, Adam

    out = sys.stdout if stream is None else stream
    if args.plot:
        _require_matplotlib()
    args = _with_defaults(args)
    check_train(args)  # sizes, numbers and paths, before any work
    hidden = parse_hidden(args.hidden)
    if args.dataset == "digits":
        X, y = digits()
        described = f"{len(X)} 8x8 images"
    else:
        X, y = DATASETS[args.dataset](args.points, noise=args.noise, seed=args.seed)
        described = f"{len(X)} points, noise {args.noise:g}"
    classes = len(set(y))
    loss = args.loss or ("bce" if classes == 2 else "cross_entropy")
    if loss != "cross_entropy" and classes != 2:
        raise ValueError(f"--loss {loss} scores two classes; {args.dataset} has {classes}: use --loss cross_entropy")
    X_train, X_test, y_train, y_test = _split(args, X, y)
    outputs = classes if loss == "cross_entropy" else 1
    model = MLP(len(X[0]), [*hidden, outputs], activation=args.activation, seed=args.seed)
    if args.optimizer == "adam":  # check_train has refused --momentum here
        optimizer = Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        momentum = 0.9 if args.momentum is None else args.momentum
        optimizer = SGD(model.parameters(), lr=args.lr, momentum=momentum, weight_decay=args.weight_decay)
    batch = args.batch_size or len(X_train)
    compiled = not getattr(args, "no_compile", False) and _CompiledLoss.make(model, loss) is not None
    held = f"; {len(X_train)} for training, {len(X_test)} held out" if X_test else ""
    print(
        f"Training {model} on {args.dataset} ({described}, seed {args.seed}{held}): "
        f"{len(model.parameters())} parameters, {loss} loss, {args.optimizer} lr {args.lr:g}, "
        f"batch {batch}, {args.epochs} epochs, "
        + ("compiled (ag.compile; --no-compile for the interpreter)" if compiled else "on the interpreter"),
        file=out,
    )
    print(ProgressBar.LEGEND, file=out)
    started = time.perf_counter()
    history = fit(model, X_train, y_train, loss, optimizer, args.epochs, batch_size=batch, seed=args.seed,
                  callback=ProgressBar(args.epochs, stream=out), validation=(X_test, y_test) if X_test else None,
                  compile=compiled)
    seconds = time.perf_counter() - started
    train_loss, train_accuracy = evaluate(model, X_train, y_train, loss, compile=compiled)
    report = (f"final: training loss {train_loss:.4f}, training accuracy {100 * train_accuracy:.1f}% "
              f"({round(train_accuracy * len(X_train))}/{len(X_train)})")
    if X_test:
        test_loss, test_accuracy = evaluate(model, X_test, y_test, loss, compile=compiled)
        report += (f"; held-out loss {test_loss:.4f}, held-out accuracy {100 * test_accuracy:.1f}% "
                   f"({round(test_accuracy * len(X_test))}/{len(X_test)})")
    print(f"{report}; {seconds:.1f}s", file=out)
    if args.out:
        model.save(args.out)
        print(f"saved the model to {args.out}", file=out)
    if args.plot:
        measured = f"{100 * train_accuracy:.1f}% training accuracy"
        if X_test:
            measured += f", {100 * test_accuracy:.1f}% held out"
        title = f"{short_name(model)} on {args.dataset}: {measured} after {args.epochs} epochs"
        if args.dataset == "digits":
            shown = (X_test, y_test) if X_test else (X_train, y_train)
            plot_digits(model, *shown, history, args.plot, title=title)
        else:
            plot_training(model, X_train, y_train, history, args.plot, title=title,
                          test=(X_test, y_test) if X_test else None)
        print(f"saved the plot to {args.plot}", file=out)
    return 0
