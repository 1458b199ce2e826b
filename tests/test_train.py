"""train: the fit loop (batches, shuffling, history, callback), accuracy, the progress bar (in place
on a terminal, plain lines when piped), the NumPy grid used for plots, the plot itself, and the
``autograd-scalar train`` command, including its documented default run reaching >= 97 % on moons."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest

from autograd_scalar import Value, cli
from autograd_scalar.datasets import moons, train_test_split, xor
from autograd_scalar.nn import MLP
from autograd_scalar.optim import SGD, Adam
from autograd_scalar.train import (
    History,
    ProgressBar,
    accuracy,
    evaluate,
    fit,
    grid_scores,
    parse_hidden,
    plot_training,
    predict,
)

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but \t and \n


class CountingSGD(SGD):
    steps = 0

    def step(self) -> None:
        self.steps += 1
        super().step()


def test_fit_records_one_entry_per_epoch_and_learns():
    X, y = xor(40, seed=0)
    model = MLP(2, [8, 1], seed=0)
    seen = []
    history = fit(model, X, y, "bce", Adam(model.parameters(), lr=0.1), 40,
                  callback=lambda epoch, loss, acc: seen.append((epoch, loss, acc)))
    assert len(history.loss) == len(history.accuracy) == 40
    assert [e for e, _, _ in seen] == list(range(1, 41))
    assert seen[-1][1:] == (history.loss[-1], history.accuracy[-1])
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert evaluate(model, X, y, "bce")[1] >= 0.9


def test_fit_takes_one_step_per_batch_and_shuffles_by_seed():
    X, y = moons(30, seed=0)

    def run(seed):
        model = MLP(2, [4, 1], seed=0)
        optimizer = CountingSGD(model.parameters(), lr=0.1)
        fit(model, X, y, "hinge", optimizer, 3, batch_size=8, seed=seed)
        return optimizer.steps, model.state_dict()

    steps, state = run(seed=1)
    assert steps == 3 * 4                              # batches of 8, 8, 8, 6
    assert run(seed=1) == (steps, state)               # same seed, same shuffles, same result
    assert run(seed=2)[1] != state


def test_full_batch_mean_loss_matches_the_loss_of_all_samples():
    X, y = moons(20, seed=1)
    model = MLP(2, [4, 1], seed=0)
    loss_before, acc_before = evaluate(model, X, y, "bce")
    history = fit(model, X, y, "bce", SGD(model.parameters(), lr=0.0), 1)
    assert history.loss == [pytest.approx(loss_before, abs=1e-15)]
    assert history.accuracy == [acc_before]


def test_fit_accepts_a_loss_function_and_multi_class_outputs():
    X, y = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 2]
    model = MLP(2, [6, 3], seed=0)
    from autograd_scalar.losses import softmax_cross_entropy

    history = fit(model, X, y, softmax_cross_entropy, Adam(model.parameters(), lr=0.1), 40)
    assert history.accuracy[-1] == 1.0
    assert [predict(model(x)) for x in X] == y


@pytest.mark.parametrize("kwargs, message", [
    (dict(loss="l1"), "unknown loss 'l1'; choose one of bce, hinge, mse, cross_entropy"),
    (dict(y=[0]), "2 inputs and 1 labels"),
    (dict(epochs=-1), "epochs must be an int >= 0, got -1"),
    (dict(batch_size=0), "batch_size must be a positive int, got 0"),
])
def test_fit_bad_arguments(kwargs, message):
    model = MLP(2, [1], seed=0)
    args = dict(X=[[0.0, 0.0], [1.0, 1.0]], y=[0, 1], loss="bce", optimizer=SGD(model.parameters(), lr=0.1), epochs=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        fit(model, **args)


def test_predict_and_accuracy():
    assert predict(Value(1e-9)) == 1 and predict(Value(0.0)) == 0
    assert predict([Value(0.0), Value(-1.0), Value(3.0)]) == 2
    assert accuracy([Value(1.0), Value(-1.0), Value(-1.0), Value(2.0)], [1, 0, 1, 1]) == 0.75
    with pytest.raises(ValueError, match="2 outputs and 1 labels"):
        accuracy([Value(1.0), Value(2.0)], [1])


def test_progress_bar_when_piped_prints_plain_lines():
    out = io.StringIO()
    bar = ProgressBar(100, stream=out, width=20)
    for epoch in range(1, 101):
        bar(epoch, 1.0 / epoch, epoch / 100)
    text = out.getvalue()
    assert not CONTROL.search(text)
    lines = text.splitlines()
    assert len(lines) == 11                            # epoch 1, then every 10th
    assert lines[0].startswith("epoch   1/100 [") and "loss 1.0000" in lines[0] and "acc   1.0%" in lines[0]
    assert lines[-1].startswith("epoch 100/100 [####################]  loss 0.0100  acc 100.0%")


def test_progress_bar_on_a_terminal_redraws_in_place():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    bar = ProgressBar(5, stream=out, width=10)
    for epoch in range(1, 6):
        bar(epoch, 0.5, 0.5)
    text = out.getvalue()
    assert text.count("\r") == 5 and text.count("\n") == 1 and text.endswith("\n")
    assert "epoch 3/5 [######....]" in text


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_grid_scores_equal_the_model_outputs(activation):
    require_numpy()
    model = MLP(2, [5, 4, 1], activation=activation, seed=2)
    xs, ys = [-1.0, 0.0, 0.5], [2.0, -0.25]
    scores = grid_scores(model, xs, ys)
    assert scores.shape == (2, 3)
    for i, b in enumerate(ys):
        for j, a in enumerate(xs):
            assert scores[i, j] == pytest.approx(model([a, b]).data, abs=1e-12)
    multi = MLP(2, [3, 2], seed=0)
    assert grid_scores(multi, xs, ys)[1, 2].tolist() == pytest.approx([v.data for v in multi([0.5, -0.25])])


def require_numpy():
    from conftest import require_module

    return require_module("numpy", "pip install 'autograd-scalar[plot]'")


def test_plot_training_writes_a_png(tmp_path):
    from conftest import require_module

    require_module("matplotlib", "pip install 'autograd-scalar[plot]'")
    X, y = moons(30, seed=0)
    model = MLP(2, [4, 1], seed=0)
    history = History(loss=[0.7, 0.5, 0.3], accuracy=[0.5, 0.8, 0.9])
    path = tmp_path / "plot.png"
    plot_training(model, X, y, history, str(path), title="test", resolution=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    height, width = imread(path).shape[:2]
    assert (width, height) == (1200, 520)
    with pytest.raises(ValueError, match="needs a model with 2 inputs, got 3"):
        plot_training(MLP(3, [1], seed=0), X, y, history, str(path))


def test_parse_hidden():
    assert parse_hidden("16,16") == [16, 16] and parse_hidden(" 8 ") == [8]
    for bad in ("", "16,x", "0", "-4,4"):
        with pytest.raises(ValueError, match="--hidden: expected positive layer sizes"):
            parse_hidden(bad)


# ---- the command ----------------------------------------------------------------------------

def test_documented_defaults():
    from autograd_scalar.train import _with_defaults

    args = _with_defaults(cli.build_parser().parse_args(["train"]))
    assert args.test_fraction == 0.2
    assert (args.dataset, args.points, args.noise, args.hidden, args.activation) == ("moons", 100, 0.1, "16,16", "tanh")
    assert (args.loss, args.optimizer, args.lr, args.epochs, args.batch_size, args.seed) == (None, "adam", 0.05, 100,
                                                                                            0, 0)   # None: bce


def test_train_command_small_run(tmp_path, capsys):
    path = tmp_path / "model.json"
    code = cli.main(["train", "--points", "40", "--hidden", "6", "--epochs", "12", "--lr", "0.1",
                     "--out", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert not CONTROL.search(out)
    assert out.startswith("Training MLP(2, [6, 1], activation='tanh', output_activation='linear') on moons (40 points")
    assert "epoch 12/12 [" in out
    final = re.search(r"final: training loss (\S+), training accuracy (\S+)% \((\d+)/32\); "
                      r"held-out loss (\S+), held-out accuracy (\S+)% \((\d+)/8\)", out)
    assert final, out
    model = MLP.load(path)
    X_train, X_test, y_train, y_test = train_test_split(*moons(40, noise=0.1, seed=0), 0.2, seed=0)
    loss, acc = evaluate(model, X_train, y_train, "bce")
    assert f"{loss:.4f}" == final.group(1) and f"{100 * acc:.1f}" == final.group(2)
    loss, acc = evaluate(model, X_test, y_test, "bce")
    assert f"{loss:.4f}" == final.group(4) and f"{100 * acc:.1f}" == final.group(5)
    assert f"saved the model to {path}" in out


def test_train_command_sgd_hinge_relu_on_xor(capsys):
    code = cli.main(["train", "--dataset", "xor", "--points", "40", "--hidden", "8", "--activation", "relu",
                     "--loss", "hinge", "--optimizer", "sgd", "--lr", "0.05", "--epochs", "3", "--batch-size", "10"])
    out = capsys.readouterr().out
    assert code == 0
    assert "hinge loss, sgd lr 0.05, batch 10, 3 epochs" in out and "final: training loss" in out


def test_train_command_bad_hidden(capsys):
    assert cli.main(["train", "--hidden", "16,x", "--epochs", "1"]) == 2
    captured = capsys.readouterr()
    assert "autograd-scalar train: --hidden: expected positive layer sizes" in captured.err
    assert "epoch" not in captured.out


def test_train_command_without_matplotlib_names_the_extra(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)           # import matplotlib -> ImportError
    assert cli.main(["train", "--epochs", "1", "--plot", str(tmp_path / "p.png")]) == 1
    captured = capsys.readouterr()
    assert "pip install 'autograd-scalar[plot]'" in captured.err
    assert captured.out == ""                                       # refused before training
    assert not (tmp_path / "p.png").exists()


def test_train_command_piped_through_a_real_process():
    result = subprocess.run(
        [sys.executable, "-m", "autograd_scalar", "train", "--points", "20", "--hidden", "3", "--epochs", "4"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not CONTROL.search(result.stdout)
    assert [line.split("[")[0].strip() for line in result.stdout.splitlines() if line.startswith("epoch")] == [
        "epoch 1/4", "epoch 2/4", "epoch 3/4", "epoch 4/4"]


def test_default_run_reaches_97_percent_on_moons(tmp_path, capsys):
    """The README's command with the documented defaults (about 10 s here)."""
    from conftest import require_module

    require_module("matplotlib", "pip install 'autograd-scalar[plot]'")
    model_path, plot_path = tmp_path / "model.json", tmp_path / "plot.png"
    code = cli.main(["train", "--dataset", "moons", "--hidden", "16,16", "--epochs", "100", "--optimizer", "adam",
                     "--seed", "0", "--out", str(model_path), "--plot", str(plot_path)])
    out = capsys.readouterr().out
    assert code == 0
    printed = float(re.search(r"training accuracy (\S+)%", out).group(1))
    assert printed >= 97.0
    X, y = moons(100, noise=0.1, seed=0)
    assert evaluate(MLP.load(model_path), X, y, "bce")[1] >= 0.97
    assert json.loads(model_path.read_text(encoding="utf-8"))["architecture"]["nouts"] == [16, 16, 1]
    assert plot_path.read_bytes()[:4] == b"\x89PNG"


def test_train_momentum_with_adam_is_refused_not_ignored(capsys):
    """#16: --momentum used to be silently ignored with --optimizer adam."""
    assert cli.main(["train", "--optimizer", "adam", "--momentum", "0.5", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "--momentum: applies to --optimizer sgd only" in err and "Traceback" not in err and "epoch" not in err


def test_step_set_without_expr_is_refused(capsys):
    """#16: step --set x=1 without --expr used to be ignored with no message."""
    assert cli.main(["step", "--set", "x=1"]) == 2
    err = capsys.readouterr().err
    assert err == "autograd-scalar step: --set: gives values to the names of --expr; it needs --expr\n"


# ---- held-out data, k classes, digits plots (#17) ----------------------------------------------

def test_fit_with_validation_records_held_out_loss_and_accuracy_each_epoch():
    from autograd_scalar.datasets import spirals, train_test_split

    X, y = spirals(60, classes=3, seed=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=0)
    model = MLP(2, [8, 3], seed=0)
    measured = []
    history = fit(model, X_train, y_train, "cross_entropy", Adam(model.parameters(), lr=0.05), epochs=6,
                  batch_size=15, validation=(X_test, y_test),
                  callback=lambda *_: measured.append(evaluate(model, X_test, y_test, "cross_entropy")))
    assert len(history.val_loss) == len(history.val_accuracy) == 6
    assert list(zip(history.val_loss, history.val_accuracy)) == measured        # after each epoch's last step
    assert all(0.0 <= a <= 1.0 for a in history.val_accuracy)
    # the held-out samples are only looked at: training is the same without them
    alone = MLP(2, [8, 3], seed=0)
    fit(alone, X_train, y_train, "cross_entropy", Adam(alone.parameters(), lr=0.05), epochs=6, batch_size=15)
    assert alone.state_dict() == model.state_dict()
    assert fit(alone, X_train, y_train, "cross_entropy", SGD(alone.parameters(), lr=0.1), 1).val_loss == []


@pytest.mark.parametrize("validation, message", [
    ([[0.0, 1.0]], r"validation must be a pair \(X_test, y_test\), got \[\[0.0, 1.0\]\]"),
    (([[0.0, 1.0]], [0, 1]), "validation has 1 inputs and 2 labels"),
    (([], []), "validation has 0 inputs and 0 labels"),
])
def test_fit_bad_validation(validation, message):
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="fit: " + message):
        fit(model, [[0.0, 1.0]], [1], "bce", SGD(model.parameters(), lr=0.1), 1, validation=validation)


def test_confusion_matrix_counts_each_true_and_predicted_pair():
    from autograd_scalar.train import confusion_matrix

    predicted = [0, 2, 2, 1, 0, 2, 1, 1]
    labels = [0, 2, 1, 1, 2, 2, 1, 0]
    matrix = confusion_matrix(predicted, labels)
    assert matrix == [[sum(p == j and t == i for p, t in zip(predicted, labels)) for j in range(3)] for i in range(3)]
    assert [sum(row) for row in matrix] == [labels.count(k) for k in range(3)]
    assert sum(matrix[k][k] for k in range(3)) == sum(p == t for p, t in zip(predicted, labels))
    assert confusion_matrix([1], [1], classes=4) == [[0] * 4, [0, 1, 0, 0], [0] * 4, [0] * 4]
    for args, message in [(([0, 1], [0]), "2 predictions and 1 labels"), (([0, -1], [0, 1]), "got -1"),
                          (([0, True], [0, 1]), "got True"), (([0, 3], [0, 1], 3), "class 3 does not fit in 3")]:
        with pytest.raises(ValueError, match="confusion_matrix: .*" + message):
            confusion_matrix(*args)


def test_output_array_equals_the_model_outputs():
    require_numpy()
    from autograd_scalar.train import output_array

    model = MLP(5, [6, 4], activation="relu", seed=3)
    X = [[(i * j % 7) / 3 - 1 for j in range(5)] for i in range(9)]
    expected = [[v.data for v in model.forward(x)] for x in X]
    got = output_array(model, X).tolist()
    assert max(abs(a - b) for row, other in zip(got, expected) for a, b in zip(row, other)) <= 1e-12


def _pixels_near(path, hex_colour, tolerance=0.08):
    from matplotlib.image import imread

    image = imread(path)[:, :, :3]
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return int((abs(image - rgb).max(axis=2) < tolerance).sum())


def test_plot_training_shades_k_classes_and_draws_held_out_points(tmp_path):
    from conftest import require_module

    require_module("matplotlib", "pip install 'autograd-scalar[plot]'")
    from autograd_scalar.datasets import spirals
    from autograd_scalar.train import CLASS_COLORS

    X, y = spirals(90, classes=3, seed=0)
    model = MLP(2, [8, 3], seed=0)
    history = History(loss=[1.1, 0.9], accuracy=[0.4, 0.5], val_loss=[1.2, 1.0], val_accuracy=[0.3, 0.4])
    two, three = tmp_path / "two.png", tmp_path / "three.png"
    plot_training(model, X[:60], y[:60], history, str(three), resolution=60, test=(X[60:], y[60:]))
    binary = MLP(2, [8, 1], seed=0)
    plot_training(binary, X[:60], [int(label == 1) for label in y[:60]], History([0.7], [0.5]), str(two),
                  resolution=60)
    assert _pixels_near(three, CLASS_COLORS[2]) > 50                # the third class's markers
    assert _pixels_near(two, CLASS_COLORS[2]) == 0


def test_plot_digits_draws_curves_confusion_matrix_and_the_wrong_images(tmp_path):
    from conftest import require_module

    require_module("matplotlib", "pip install 'autograd-scalar[plot]'")
    from matplotlib.image import imread

    from autograd_scalar.train import plot_digits

    rows = [[float((i + k) % 3 == 0) for k in range(16)] for i in range(30)]   # 4x4 "images"
    labels = [i % 3 for i in range(30)]
    model = MLP(16, [5, 3], seed=0)
    path = tmp_path / "digits.png"
    plot_digits(model, rows, labels, History([1.0, 0.8], [0.3, 0.5], [1.1, 0.9], [0.3, 0.4]), str(path),
                title="tiny", shape=(4, 4))
    assert imread(path).shape[:2] == (560, 1700)
    with pytest.raises(ValueError):                                   # images of the wrong size
        plot_digits(model, [[0.0] * 16] * 2, [0, 1], History(), str(tmp_path / "bad.png"), shape=(8, 8))


def test_version_is_the_packages():
    from pathlib import Path

    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
    result = subprocess.run([sys.executable, "-m", "autograd_scalar", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"autograd-scalar {version}\n", "")


def test_train_command_three_spirals_defaults_to_cross_entropy_with_one_output_per_class(tmp_path, capsys):
    from autograd_scalar.datasets import spirals

    path = tmp_path / "model.json"
    code = cli.main(["train", "--dataset", "spirals3", "--points", "45", "--hidden", "6", "--epochs", "5",
                     "--test-fraction", "0.2", "--out", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "MLP(2, [6, 3]" in out and "36 for training, 9 held out" in out and "cross_entropy loss" in out
    model = MLP.load(path)
    X_train, X_test, y_train, y_test = train_test_split(*spirals(45, noise=0.1, seed=0, classes=3), 0.2, seed=0)
    test_loss, test_accuracy = evaluate(model, X_test, y_test, "cross_entropy")
    assert f"held-out loss {test_loss:.4f}, held-out accuracy {100 * test_accuracy:.1f}% " in out


def test_train_command_test_fraction_zero_trains_on_everything(capsys):
    assert cli.main(["train", "--points", "20", "--hidden", "3", "--epochs", "2", "--test-fraction", "0"]) == 0
    out = capsys.readouterr().out
    assert "held" not in out and re.search(r"training accuracy \S+% \(\d+/20\); ", out)


@pytest.mark.parametrize("argv, message", [
    (["--test-fraction", "1"], "--test-fraction: expected a number from 0 (hold out nothing) to below 1, got 1.0"),
    (["--test-fraction", "-0.1"], "got -0.1"),
    (["--dataset", "spirals3", "--loss", "hinge"], "--loss hinge scores two classes; spirals3 has 3: use --loss "
                                                   "cross_entropy"),
    (["--dataset", "digits", "--noise", "0.2"], "--noise applies to the toy datasets, not to digits"),
])
def test_train_command_refuses_in_one_line(argv, message, capsys):
    assert cli.main(["train", "--epochs", "1", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("autograd-scalar train: ") and captured.err.count("\n") == 1
    assert message in captured.err and "epoch" not in captured.out


def test_train_command_digits_short_run_and_its_plot(tmp_path, capsys):
    from conftest import require_module

    require_module("sklearn", "pip install 'autograd-scalar[datasets]'")
    require_module("matplotlib", "pip install 'autograd-scalar[plot]'")
    from matplotlib.image import imread

    plot = tmp_path / "digits.png"
    code = cli.main(["train", "--dataset", "digits", "--hidden", "2", "--epochs", "1", "--batch-size", "0",
                     "--lr", "0.1", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("Training MLP(64, [2, 10], activation='tanh', output_activation='linear') on digits "
                          "(1797 8x8 images, seed 0; 1438 for training, 359 held out)")
    assert "cross_entropy loss" in out and re.search(r"held-out accuracy \S+% \(\d+/359\)", out)
    assert imread(plot).shape[:2] == (560, 1700)


def test_digits_with_the_defaults_reaches_95_percent_held_out(tmp_path, capsys):
    """The README's digits command, compiled (about 4 s here): >= 95 % on the 359 held-out images."""
    from conftest import require_module

    require_module("sklearn", "pip install 'autograd-scalar[datasets]'")
    from autograd_scalar.datasets import digits

    path = tmp_path / "digits.json"
    assert cli.main(["train", "--dataset", "digits", "--loss", "cross_entropy", "--out", str(path)]) == 0
    out = capsys.readouterr().out
    assert "MLP(64, [32, 10]" in out and "adam lr 0.01, batch 32, 10 epochs" in out
    printed = re.search(r"held-out accuracy (\S+)% \((\d+)/359\)", out)
    assert printed and float(printed.group(1)) >= 95.0
    _, X_test, _, y_test = train_test_split(*digits(), 0.2, seed=0)
    assert evaluate(MLP.load(path), X_test, y_test, "cross_entropy", compile=False)[1] == int(printed.group(2)) / 359


def test_train_command_digits_without_scikit_learn_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)                # import sklearn -> ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert cli.main(["train", "--dataset", "digits", "--epochs", "1"]) == 1
    captured = capsys.readouterr()
    assert "autograd-scalar train: digits: needs scikit-learn (pip install 'autograd-scalar[datasets]')" in captured.err
    assert captured.out == "" and captured.err.count("\n") == 1


def test_train_output_says_what_the_epoch_figures_are(capsys):
    """#16: an epoch line's accuracy (batches, before each step) and 'final' (the trained model) are labelled."""
    assert cli.main(["train", "--points", "40", "--hidden", "4", "--epochs", "3", "--batch-size", "8"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == ProgressBar.LEGEND and "before its step" in lines[1] and "'final'" in lines[1]
    assert lines[2].startswith("epoch 1/3") and lines[-1].startswith("final: training loss")
