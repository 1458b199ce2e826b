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
from typing import Any, TextIO, Union

from . import losses
from .engine import Value
from .nn import MLP, Module
from .optim import Optimizer

Output = Union[Value, list]
LossFunction = Callable[[list, list], Value]

PLOT_EXTRA = "pip install 'autograd-scalar[plot]'"


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
    """What ``fit`` measured: one entry per epoch, the mean training loss and accuracy (0 to 1)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


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


def evaluate(model: Module, X: Sequence[Sequence[float]], y: Sequence[Any], loss: str | LossFunction = "bce"
             ) -> tuple[float, float]:
    """``(loss, accuracy)`` of ``model`` on the whole of ``X, y``, changing nothing.

    >>> model = MLP(1, [1], seed=0)
    >>> model.layers[0].neurons[0].w[0].data = 1.0          # score = x
    >>> evaluate(model, [[-2.0], [3.0], [0.5]], [0, 1, 0], "hinge")[1]   # 0.5 is on the wrong side
    0.6666666666666666
    """
    outputs = [model(x) for x in X]
    return _loss_function(loss)(outputs, list(y)).data, accuracy(outputs, y)


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
) -> History:
    """Train ``model`` on ``X, y`` for ``epochs`` passes; returns the ``History`` of loss and accuracy.

    ``loss`` is a name from ``LOSSES`` (``"bce"``, ``"hinge"``, ``"mse"``, ``"cross_entropy"``) or a
    function ``loss(outputs, targets) -> Value``. With ``batch_size`` (default: the whole set) each
    epoch visits the samples in an order shuffled by ``random.Random(seed)``, one batch per step.
    The recorded loss and accuracy of an epoch are those of its batches, measured before each
    batch's step. ``callback(epoch, loss, accuracy)`` runs after every epoch (the progress bar).

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
    rng = random.Random(seed)
    order = list(range(len(X)))
    history = History()
    for epoch in range(1, epochs + 1):
        if batch_size < len(X):
            rng.shuffle(order)
        total_loss = correct = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
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


def grid_scores(model: MLP, xs: Any, ys: Any) -> Any:
    """The model's outputs at every point of the grid ``xs`` × ``ys``, computed with NumPy.

    The same arithmetic as calling the model, on arrays, and without building a graph: a
    decision-boundary plot needs thousands of forward passes and no gradients. Returns an array of
    shape ``(len(ys), len(xs))`` for one output, ``(len(ys), len(xs), k)`` for ``k`` outputs.
    """
    import numpy as np

    gx, gy = np.meshgrid(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    h = np.stack([gx.ravel(), gy.ravel()], axis=1)
    activations = {
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0.0),
        "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
        "linear": lambda z: z,
    }
    for weights, biases, activation in _layer_arrays(model):
        h = activations[activation](h @ weights.T + biases)
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


def plot_training(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    history: History,
    path: str,
    *,
    title: str = "",
    resolution: int = 200,
) -> None:
    """Save a PNG with the loss and accuracy curves (left) and the decision boundary (right).

    The boundary panel shades each point of the plane by the class the model predicts, with the
    line where the predicted class changes drawn in black, and the training points on top.
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
    colors = ["#c62828", "#1f5fa8", "#1b9e77", "#7570b3", "#e7298a"]  # class 0 red, class 1 blue, as the shading

    fig = Figure(figsize=(12, 5.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.15])

    epochs = np.arange(1, len(history.loss) + 1)
    left.plot(epochs, history.loss, color="black", lw=2, label="loss")
    left.set_xlabel("epoch")
    left.set_ylabel("training loss")
    left.set_title("Training loss and accuracy")
    left.grid(alpha=0.3)
    acc_axis = left.twinx()
    acc_axis.plot(epochs, 100 * np.asarray(history.accuracy), color=colors[1], lw=1.5, label="accuracy")
    acc_axis.set_ylabel("training accuracy (%)", color=colors[1])
    acc_axis.set_ylim(0, 101)
    acc_axis.tick_params(axis="y", colors=colors[1])
    handles = left.get_legend_handles_labels()[0] + acc_axis.get_legend_handles_labels()[0]
    left.legend(handles, ["loss", "accuracy"], loc="center right")

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
    right.set_xlim(xs[0], xs[-1])
    right.set_ylim(ys[0], ys[-1])
    right.set_aspect("equal")
    right.set_xlabel("x0")
    right.set_ylabel("x1")
    right.set_title("Decision boundary (black line) and training points")
    right.legend(loc="upper right", framealpha=0.9)
    if title:
        fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.savefig(path)


def parse_hidden(text: str) -> list[int]:
    """``"16,16"`` -> ``[16, 16]``: the hidden layer sizes of the ``train`` command.

    >>> parse_hidden("16, 8")
    [16, 8]
    """
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(n < 1 for n in sizes):
        raise ValueError(f"--hidden: expected positive layer sizes separated by commas, like 16,16; got {text!r}")
    return sizes


def train_command(args: Any, stream: TextIO | None = None) -> int:
    """The ``autograd-scalar train`` command: data, model, ``fit`` with a progress bar, save, plot."""
    from .datasets import DATASETS
    from .optim import SGD, Adam

    out = sys.stdout if stream is None else stream
    if args.plot:
        _require_matplotlib()
    hidden = parse_hidden(args.hidden)
    X, y = DATASETS[args.dataset](args.points, noise=args.noise, seed=args.seed)
    model = MLP(2, [*hidden, 1], activation=args.activation, seed=args.seed)
    if args.optimizer == "adam":
        if args.momentum is not None:
            raise ValueError("--momentum applies to --optimizer sgd only (adam keeps its own running averages)")
        optimizer = Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        momentum = 0.9 if args.momentum is None else args.momentum
        optimizer = SGD(model.parameters(), lr=args.lr, momentum=momentum, weight_decay=args.weight_decay)
    batch = args.batch_size or len(X)
    print(
        f"Training {model} on {args.dataset} ({len(X)} points, noise {args.noise:g}, seed {args.seed}): "
        f"{len(model.parameters())} parameters, {args.loss} loss, {args.optimizer} lr {args.lr:g}, "
        f"batch {batch}, {args.epochs} epochs",
        file=out,
    )
    started = time.perf_counter()
    history = fit(model, X, y, args.loss, optimizer, args.epochs, batch_size=batch, seed=args.seed,
                  callback=ProgressBar(args.epochs, stream=out))
    seconds = time.perf_counter() - started
    final_loss, final_accuracy = evaluate(model, X, y, args.loss)
    print(f"final: loss {final_loss:.4f}, training accuracy {100 * final_accuracy:.1f}% "
          f"({round(final_accuracy * len(X))}/{len(X)}), {seconds:.1f}s", file=out)
    if args.out:
        model.save(args.out)
        print(f"saved the model to {args.out}", file=out)
    if args.plot:
        title = (f"{short_name(model)} on {args.dataset}: {100 * final_accuracy:.1f}% training accuracy "
                 f"after {args.epochs} epochs")
        plot_training(model, X, y, history, args.plot, title=title)
        print(f"saved the plot to {args.plot}", file=out)
    return 0
