"""The command line checks every path and option before the work starts (#15): a problem is exit
status 2 and one line ``autograd-scalar CMD: --option: problem`` on stderr, never a traceback, and
nothing trained, drawn or written; every size states its limit; the same kind of error exits the
same way from every command; an expression that starts with '-' is given a way through."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autograd_scalar import arguments, cli
from autograd_scalar.arguments import MAX_EPOCHS, MAX_LAYER, MAX_POINTS, Parser, UsageError, check, parse_hidden
from autograd_scalar.serialize import MAX_PARAMETERS


def refused(argv, capsys, tmp_path, monkeypatch):
    """Run the command in an empty folder; it must exit 2 with one line, print nothing else, write nothing."""
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    try:
        code = cli.main(argv)
    except SystemExit as exit:                                  # argparse's own errors
        code = exit.code
    captured = capsys.readouterr()
    assert code == 2, (argv, captured)
    assert captured.out == "" and captured.err.count("\n") == 1, captured
    assert "Traceback" not in captured.err
    assert sorted(os.listdir(tmp_path)) == before
    return captured.err


TRAIN = [
    (["--lr", "1e308"], "--lr: must be at most 10, got 1e+308"),
    (["--lr", "inf"], "--lr: must be a finite number, got inf"),
    (["--lr", "nan"], "--lr: must be a finite number, got nan"),
    (["--lr", "0"], "--lr: must be more than 0, got 0.0"),
    (["--optimizer", "sgd", "--momentum", "1e300"], "--momentum: must be below 1, got 1e+300"),
    (["--optimizer", "sgd", "--momentum", "1"], "--momentum: must be below 1, got 1.0"),
    (["--optimizer", "sgd", "--momentum", "-0.5"], "--momentum: must be at least 0"),
    (["--noise", "1e200"], "--noise: must be at most 10, got 1e+200"),
    (["--weight-decay", "-1"], "--weight-decay: must be at least 0"),
    (["--epochs", str(10**23)], f"--epochs: {10**23} is more than the limit of {MAX_EPOCHS:,}"),
    (["--epochs", "-1"], "--epochs: must be at least 0, got -1"),
    (["--points", str(10**11)], f"--points: {10**11} is more than the limit of {MAX_POINTS:,}"),
    (["--points", "0"], "--points: must be at least 1, got 0"),
    (["--hidden", "100000"], f"--hidden: a layer of 100,000 neurons is more than the limit of {MAX_LAYER:,}"),
    (["--hidden", str(10**20)], "--hidden: a layer of 100,000,000,000,000,000,000 neurons is more than the limit"),
    (["--hidden", "5000,5000"], f"--hidden: MLP(2, [5000, 5000, 1]) has 25,025,001 parameters, more than the "
                                f"limit of {MAX_PARAMETERS:,}"),
    (["--hidden", "2000", "--points", "10000"], "--batch-size: a step over 10,000 samples of a 8,001-parameter "
                                                "model is more than the limit"),
    (["--hidden", "16,,16"], "--hidden: expected positive layer sizes separated by commas, like 16,16; got '16,,16'"),
    (["--hidden", "16,"], "got '16,'"),
    (["--hidden", ",16"], "got ',16'"),
    (["--hidden", "1_6"], "got '1_6'"),
    (["--hidden", "٣"], "got '٣'"),
    (["--hidden", "0"], "got '0'"),
    (["--hidden", "16,x"], "got '16,x'"),
    (["--out", "."], "--out: '.' is a folder; give a file name inside it"),
    (["--out", "/nonexistent/x.json"], "--out: the folder '/nonexistent' does not exist"),
    (["--out", "/dev/full"], "--out: '/dev/full' is not a regular file (a device or a pipe)"),
    (["--out", ""], "--out: needs a file name"),
    (["--out", "/etc/passwd/x.json"], "--out: '/etc/passwd' is a file, not a folder"),
    (["--plot", "."], "--plot: '.' is a folder"),
    (["--plot", "/nonexistent/p.png"], "--plot: the folder '/nonexistent' does not exist"),
    (["--plot", "p.txt"], "--plot: cannot tell the format of 'p.txt'; use a .png, .svg or .pdf name"),
    (["--epochs", "x"], "--epochs: invalid int value: 'x'"),
    (["--lr", "1e999x"], "--lr: invalid float value: '1e999x'"),
    (["--dataset", "mnist"], "--dataset: invalid choice: 'mnist'"),
    (["--no-such-option"], "unrecognized arguments: --no-such-option"),
]


@pytest.mark.parametrize("argv, message", TRAIN, ids=[" ".join(argv) for argv, _ in TRAIN])
def test_train_refuses_before_training(argv, message, capsys, tmp_path, monkeypatch):
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    err = refused(["train", *argv], capsys, tmp_path, monkeypatch)
    assert err.startswith("autograd-scalar train: ") and message in err, err


def test_a_folder_without_write_permission_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(arguments.os, "access", lambda path, mode: False)
    err = refused(["train", "--out", str(tmp_path / "m.json")], capsys, tmp_path, monkeypatch)
    assert "--out: cannot write in the folder" in err and "permission denied" in err


STEP = [
    (["--expr", "x*2", "--set", "x=1", "--digits", "-1"], "--digits: must be at least 1, got -1"),
    (["--expr", "x*2", "--set", "x=1", "--digits", "-100"], "--digits: must be at least 1, got -100"),
    (["--expr", "x*2", "--set", "x=1", "--digits", "2147483648"], "--digits: 2147483648 is more than the limit of 17"),
    (["--expr", "x*2", "--set", "x=1", "--digits", "0"], "--digits: must be at least 1, got 0"),
    (["sigmoid", "--html", "/nonexistent/page.html"], "--html: the folder '/nonexistent' does not exist"),
    (["sigmoid", "--html", "."], "--html: '.' is a folder"),
    (["--expr", "x+", "--set", "x=1"], "is not a valid expression"),
    (["--expr", "-x*2"], "--expr: expected one argument; an expression that starts with '-' is written --expr='-x*2'"),
]


@pytest.mark.parametrize("argv, message", STEP, ids=[" ".join(argv) for argv, _ in STEP])
def test_step_refuses_before_stepping(argv, message, capsys, tmp_path, monkeypatch):
    err = refused(["step", *argv], capsys, tmp_path, monkeypatch)
    assert err.startswith("autograd-scalar step: ") and message in err, err


GRAPH = [
    (["x", "--set", "x=1", "-o", "."], "--output: '.' is a folder"),
    (["x", "--set", "x=1", "-o", "/nonexistent/g.svg"], "--output: the folder '/nonexistent' does not exist"),
    (["x", "--set", "x=1", "-o", "g.gif"], "--output: cannot tell the format of 'g.gif'; use a .svg, .png or .dot"),
    (["x", "--set", "x=1", "--max-nodes", "0"], "--max-nodes: must be at least 1, got 0"),
    (["x+", "--set", "x=1"], "is not a valid expression"),
    (["-x*2", "--set", "x=1"], "an expression that starts with '-' goes after '--'"),
    (["--set", "x=1", "-x*2"], "an expression that starts with '-' goes after '--'"),
]


@pytest.mark.parametrize("argv, message", GRAPH, ids=[" ".join(argv) for argv, _ in GRAPH])
def test_graph_refuses_before_drawing(argv, message, capsys, tmp_path, monkeypatch):
    err = refused(["graph", *argv], capsys, tmp_path, monkeypatch)
    assert err.startswith("autograd-scalar graph: ") and message in err, err


def test_an_expression_that_starts_with_minus_goes_after_double_dash(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["graph", "--set", "x=3", "-o", "neg.dot", "--", "-x*2"]) == 0
    assert "data -6" in (tmp_path / "neg.dot").read_text()


def test_the_same_parse_error_exits_the_same_from_every_command(capsys, tmp_path, monkeypatch):
    graph = refused(["graph", "x*", "--set", "x=1"], capsys, tmp_path, monkeypatch)
    step = refused(["step", "--expr", "x*", "--set", "x=1"], capsys, tmp_path, monkeypatch)
    assert graph.split(": ", 1)[1] == step.split(": ", 1)[1]


def test_the_installed_command_refuses_without_a_traceback(tmp_path):
    # The real entry point, from a folder outside the repository.
    for argv in (["train", "--lr", "1e308"], ["train", "--out", "/nonexistent/x.json"],
                 ["step", "--expr", "x", "--set", "x=1", "--digits", "-1"]):
        result = subprocess.run([sys.executable, "-m", "autograd_scalar", *argv], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stdout == "" and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []


def test_parse_hidden_is_strict():
    assert parse_hidden("16,16") == [16, 16] and parse_hidden(" 8 ") == [8] and parse_hidden("16, 8") == [16, 8]
    assert parse_hidden(str(MAX_LAYER)) == [MAX_LAYER]
    for bad in ("", " ", "16,,16", "16,", ",16", "1_6", "٣", "１６", "+16", "-1", "0", "1e3", "16;16", "16 16"):
        with pytest.raises(ValueError, match="--hidden: expected positive layer sizes"):
            parse_hidden(bad)


def test_the_checks_accept_the_defaults_and_the_largest_sizes():
    parser = cli.build_parser()
    check(parser.parse_args(["train"]))
    check(parser.parse_args(["train", "--epochs", str(MAX_EPOCHS), "--points", "1000", "--hidden", "16",
                             "--lr", "10", "--optimizer", "sgd", "--momentum", "0.999", "--noise", "10"]))
    check(parser.parse_args(["step", "--digits", "17"]))
    check(parser.parse_args(["graph", "x", "--max-nodes", "10000"]))


# ---- generated command lines: the checks pass only values inside the limits ------------------------


def test_generated_command_lines_are_refused_in_one_line_or_within_the_limits(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    numbers = ["0", "1", "-1", "0.5", "1e308", "-1e308", "1e-308", "nan", "inf", "-inf", "1e999", str(10**23),
               "2147483648", "x", "", " 1", "1_0", "٣", "0x10", "16,16", "16,,16", "99999", "100001"]
    paths = [str(tmp_path), str(tmp_path / "m.json"), "/nonexistent/m.json", "/dev/full", "/dev/null", "p.txt",
             str(tmp_path / "p.png"), "", "/"]
    options = {
        "train": {"--points": numbers, "--noise": numbers, "--hidden": numbers, "--lr": numbers,
                  "--momentum": numbers, "--weight-decay": numbers, "--epochs": numbers, "--batch-size": numbers,
                  "--seed": numbers, "--out": paths, "--plot": paths},
        "step": {"--digits": numbers, "--html": paths},
        "graph": {"--max-nodes": numbers, "--output": paths},
    }
    parser = cli.build_parser()

    @settings(max_examples=400, database=None)
    @given(st.sampled_from(sorted(options)).flatmap(
        lambda command: st.tuples(st.just(command),
                                  st.lists(st.sampled_from(sorted(options[command])), max_size=4, unique=True)
                                  .flatmap(lambda names: st.tuples(*[st.tuples(st.just(n),
                                                                               st.sampled_from(options[command][n]))
                                                                     for n in names])))))
    def run(case):
        command, pairs = case
        argv = [command] + (["x"] if command == "graph" else []) + [f"{name}={value}" for name, value in pairs]
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit:
            assert exit.code == 2
            return
        try:
            check(args)
        except UsageError as error:
            assert str(error).startswith("--") and "\n" not in str(error)
            return
        given_values = vars(args)
        for name in ("lr", "noise", "momentum", "weight_decay"):
            value = given_values.get(name)
            assert value is None or (value == value and abs(value) <= arguments.MAX_LR), (argv, value)
        for name, limit in (("points", MAX_POINTS), ("epochs", MAX_EPOCHS)):
            assert given_values.get(name) is None or 0 <= given_values[name] <= limit
        if given_values.get("digits") is not None:
            assert 1 <= given_values["digits"] <= 17
        for name in ("out", "plot", "html", "output"):
            path = given_values.get(name)
            if path is not None:
                assert os.path.isdir(os.path.dirname(os.path.abspath(path))) and not os.path.isdir(path)
                assert not os.path.exists(path) or os.path.isfile(path)

    run()


def test_the_parser_reports_argparse_errors_on_one_line(capsys):
    parser = Parser(prog="autograd-scalar demo")
    parser.add_argument("--n", type=int)
    with pytest.raises(SystemExit) as exit:
        parser.parse_args(["--n", "x"])
    assert exit.value.code == 2
    assert capsys.readouterr().err == "autograd-scalar demo: --n: invalid int value: 'x'\n"


def test_the_readme_train_command_writes_to_the_current_folder(tmp_path, monkeypatch):
    # The finding: it wrote docs/decision_boundary.png, so it died after training outside the repository.
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(autograd-scalar train .*?)```", readme, re.S)
    assert block, "README has no train command"
    argv = shlex.split(block.group(1).replace("\\\n", " "))[1:]
    monkeypatch.chdir(tmp_path)                                   # an empty folder outside the repository
    args = cli.build_parser().parse_args(argv)
    check(args)
    for path in (args.out, args.plot):
        assert path and os.path.dirname(path) == "", path


def test_a_disk_that_fills_up_while_saving_keeps_the_previous_model(capsys, tmp_path, monkeypatch):
    # Checked paths can still fail at the end (a full disk): one line, exit 1, the old file intact.
    from autograd_scalar import atomic

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.json").write_text("old")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    assert cli.main(["train", "--points", "10", "--hidden", "2", "--epochs", "1", "--out", "m.json"]) == 1
    err = capsys.readouterr().err
    assert err == "autograd-scalar train: [Errno 28] No space left on device\n"
    assert (tmp_path / "m.json").read_text() == "old" and os.listdir(tmp_path) == ["m.json"]


def test_a_failed_write_exits_1_from_every_command(capsys, tmp_path, monkeypatch):
    # The paths pass the checks; the disk fills up while writing: exit 1, one line, for graph and step alike.
    from autograd_scalar import atomic

    monkeypatch.chdir(tmp_path)

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    for argv in (["graph", "x*x", "--set", "x=2", "-o", "g.dot"], ["step", "sigmoid", "--html", "page.html"]):
        assert cli.main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.endswith(": [Errno 28] No space left on device\n") and err.count("\n") == 1, err
    assert os.listdir(tmp_path) == []
