"""The step-through API: its steps are backward()'s steps, with the published numbers.

Pins down: the trace visits nodes in backward()'s order and replaying it gives bit for bit the
.grad values of backward() on hypothesis-drawn graphs (so the float additions happen in the same
order); tracing touches no .grad; the CS231n neuron and Mazur's network carry their published
numbers at each step; a node used twice by one operation (a*a) receives two contributions; the
rule in words for every rule; the naive recursive pass goes wrong exactly where a node is passed
on early; the transcript that `autograd-scalar step` prints when piped, and the README section that shows it.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_scalar import Value
from autograd_scalar.cli import main
from autograd_scalar.engine import topological_order
from autograd_scalar.examples import sigmoid_neuron
from autograd_scalar.rules import RULES
from autograd_scalar.stepthrough import (
    example,
    fmt_num,
    format_transcript,
    mazur_network,
    naive_backward,
    replay,
    rule_words,
    show_steps,
    trace_backward,
    trace_forward,
)
from autograd_scalar.testing.ops import random_expression
from autograd_scalar.testing.strategies import expressions

ROOT = Path(__file__).resolve().parent.parent


def _bits(values):
    return [v.hex() for v in values]


def _build(seed: int):
    """The same random graph, built twice from fresh leaves: one for backward(), one for the trace."""
    expression, inputs = random_expression(random.Random(seed), max_nodes=14, max_inputs=3)
    return [expression(*(Value(x) for x in inputs)) for _ in range(2)]


def _replay_equals_backward(by_backward, by_trace):
    by_backward.backward()
    steps = trace_backward(by_trace)
    order = topological_order(by_trace)
    assert all(node.grad == 0.0 for node in order)  # tracing alone changes nothing
    assert [s.node for s in steps] == list(reversed(order))
    replay(steps)
    assert _bits(n.grad for n in order) == _bits(n.grad for n in topological_order(by_backward))
    # and again: both accumulate the same way
    by_backward.backward()
    replay(steps)
    assert _bits(n.grad for n in order) == _bits(n.grad for n in topological_order(by_backward))


@settings(max_examples=300)
@given(expressions(max_nodes=20))
def test_replaying_the_trace_gives_backwards_grads_bit_for_bit(drawn):
    _replay_equals_backward(drawn(*drawn.leaves()), drawn(*drawn.leaves()))


@given(st.integers(0, 2**32 - 1))
def test_replay_equals_backward_on_seeded_random_graphs(seed):
    _replay_equals_backward(*_build(seed))


@given(st.integers(0, 2**32 - 1))
def test_each_upstream_is_the_running_sum_of_what_arrived(seed):
    _, root = _build(seed)
    for step in trace_backward(root):
        if step.index == 0:
            assert step.upstream == 1.0 and step.incoming == ()
            continue
        running = None
        for c in step.incoming:
            assert c.parent is step.node
            assert c.before == (0.0 if running is None else running)
            running = c.contribution if running is None else running + c.contribution
            assert c.after.hex() == running.hex()
            assert c.contribution.hex() == (c.local * c.upstream).hex()
        assert step.upstream.hex() == running.hex()


def test_the_order_of_additions_is_backwards_order():
    # x receives 0.1, 0.2 and 0.3 (times its upstream 1.0): (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3) in floats,
    # so only the same order of += gives the same last bit.
    x, y = Value(1.0, label="x"), Value(1.0, label="y")
    out = (x * 0.3 + x * 0.2) + x * 0.1
    steps = trace_backward(out)
    arrived = [c.contribution for c in steps[-1].incoming]
    assert sorted(arrived) == [0.1, 0.2, 0.3]
    in_order = (arrived[0] + arrived[1]) + arrived[2]
    assert in_order != (arrived[2] + arrived[1]) + arrived[0]  # the order is visible in the last bit
    replay(steps)
    twin = Value(1.0)
    ((twin * 0.3 + twin * 0.2) + twin * 0.1).backward()
    assert x.grad.hex() == twin.grad.hex() == in_order.hex()
    assert y.grad == 0.0


def test_apply_true_adds_like_backward():
    a, b = example("mazur"), example("mazur")
    a.backward()
    trace_backward(b, apply=True)
    assert _bits(n.grad for n in topological_order(a)) == _bits(n.grad for n in topological_order(b))


def test_cs231n_neuron_steps_carry_the_published_numbers():
    f, leaves = sigmoid_neuron()
    steps = trace_backward(f)
    by_name = {s.name: s for s in steps}
    assert steps[0].name == "f" and steps[0].upstream == 1.0
    assert fmt_num(by_name["z"].upstream) == "0.1966"  # into the linear part
    sigmoid_rule = steps[0].contributions[0]
    assert sigmoid_rule.words == "d sigmoid(x)/dx = out * (1 - out)" and fmt_num(sigmoid_rule.local) == "0.1966"
    expected = {"x0": "0.3932", "x1": "-0.5898", "w0": "-0.1966", "w1": "-0.3932", "w2": "0.1966"}
    assert {name: fmt_num(by_name[name].upstream) for name in expected} == expected
    # the bias: local derivative 1, so its gradient is 1 × the upstream gradient ("1 * activation")
    bias = next(c for c in by_name["z"].contributions if c.parent is leaves["w2"])
    assert (bias.words, bias.local, bias.contribution) == ("d(a + b)/db = 1", 1.0, by_name["z"].upstream)
    w0 = next(c for c in by_name["w0*x0"].contributions if c.parent is leaves["w0"])
    assert w0.equation == "w0.grad += x0 × (w0*x0).grad = -1.0 × 0.1966 = -0.1966"
    assert (w0.before, fmt_num(w0.after)) == (0.0, "-0.1966")
    assert all(v.grad == 0.0 for v in leaves.values())


def test_a_times_a_plus_a_sends_two_contributions_that_sum_to_7():
    y = example("branch")
    steps = trace_backward(y)
    a = steps[-1].node
    square = steps[1]
    assert square.name == "a*a"
    assert [(c.parent, c.position, c.contribution) for c in square.contributions] == [(a, 0, 3.0), (a, 1, 3.0)]
    assert [(c.before, c.after) for c in square.contributions] == [(1.0, 4.0), (4.0, 7.0)]
    last = steps[-1]
    assert [c.consumer.op for c in last.incoming] == ["add", "mul", "mul"]
    assert sum(c.contribution for c in last.incoming) == last.upstream == 7.0
    assert "a.grad = 1.0 + 3.0 + 3.0 = 7.0: it is used 3 times by 2 operations (y, a*a)" in str(last)


def test_mazur_network_published_numbers():
    total, leaves = mazur_network()
    assert round(total.data, 9) == 0.298371109
    grads = {s.name: s.upstream for s in trace_backward(total)}
    assert round(grads["w5"], 9) == 0.082167041
    assert round(grads["w1"], 9) == 0.000438568
    assert round(grads["out_o1"], 8) == 0.74136507  # dE/dout_o1 = out_o1 - target_o1
    # out_h1 feeds both output units: its step adds two contributions
    step = next(s for s in trace_backward(total) if s.name == "out_h1")
    assert [c.consumer.parents[0].label for c in step.incoming] == ["w7", "w5"]
    assert round(grads["out_h1"], 9) == 0.036350306


def test_rule_words_for_every_rule():
    for op, rule in RULES.items():
        words = rule_words(op)
        assert len(words) == len(rule.inputs) == len(rule.words)
        for name, word, text in zip(rule.inputs, rule.words, words):
            assert text.startswith("d") and text.endswith(f"/d{name} = {word}")
    assert rule_words("tanh") == ("d tanh(x)/dx = 1 - out**2",)
    assert rule_words("div") == ("d(a/b)/da = 1/b", "d(a/b)/db = -out/b")


def test_formulas_use_the_graphs_names():
    x = Value(0.5, label="x")
    w = Value(2.0, label="w")
    steps = trace_backward((x * w) ** 3)
    power = steps[0].contributions[0]
    assert power.formula == "3 * (x*w)**(3-1)" and power.local == 3 * 1.0**2
    assert steps[1].contributions[0].formula == "w"
    forward = trace_forward((x * w) ** 3)
    assert [s.text for s in forward][-1] == "(x*w)**3 = 1.0**3.0 = 1.0"


def test_labels_with_control_characters_are_shown_escaped():
    x = Value(1.0, label="x\n\x1b[2J")
    text = format_transcript(x * 2)
    assert "\x1b" not in text and "x\\n\\x1b[2J" in text


def test_unnamed_leaves_and_clashing_labels_get_distinct_names():
    a, b = Value(1.0), Value(2.0, label="t")
    c = Value(3.0, label="t")
    names = [s.name for s in trace_forward(a * b + c)]
    assert len(set(names)) == len(names)


def test_trace_errors_name_the_operation():
    with pytest.raises(TypeError, match="trace_backward: expected a Value"):
        trace_backward(3.0)
    x = Value(0.0, label="x")
    with pytest.raises(ZeroDivisionError, match=r"trace_backward: the local derivative of sqrt\(x\)"):
        trace_backward(x.sqrt())
    with pytest.raises(ValueError, match="example: unknown example 'nope'"):
        example("nope")


def test_naive_pass_is_wrong_where_a_node_is_passed_on_early():
    c = example("naive")
    result = naive_backward(c)
    by_name = {name: node for node, name in result.names.items()}
    a = by_name["a"]
    assert (result.naive[a], result.real[a]) == (6.0, 4.0)
    assert result.wrong == [a]
    early = [v for v in result.visits if v.early]
    assert [(v.name, v.grad, v.heard_from, v.uses) for v in early] == [("b", 1.0, 1, 2)]
    assert all(node.grad == 0.0 for node in result.names)
    text = str(result)
    assert "b.grad = 1.0, passes it on   <-- too early: 1 of its 2 uses" in text
    assert "a  naive       6.0   backward()       4.0   WRONG" in text


def test_naive_pass_agrees_where_no_interior_node_branches():
    result = naive_backward(sigmoid_neuron()[0])
    assert result.wrong == [] and not any(v.early for v in result.visits)


def test_naive_pass_refuses_huge_graphs():
    x = Value(1.0)
    for _ in range(250):
        x = x + 1.0
    with pytest.raises(ValueError, match="naive_backward: .* at most 200 nodes, got 251"):
        naive_backward(x)


def test_transcript_of_the_sigmoid_neuron():
    text = format_transcript(sigmoid_neuron()[0])
    lines = text.splitlines()
    assert lines[2] == "Forward pass (topological order: each node after its inputs)"
    assert "  f = sigmoid(z) = sigmoid(1.0) = 0.7311" in lines
    assert "Step 1 of 10: f = 0.7311: its gradient f.grad = 1.0" in lines
    assert any(line.startswith("  z.grad += (f * (1 - f)) × f.grad = 0.1966 × 1.0 = 0.1966") for line in lines)
    assert any(line.startswith("  w2.grad += 1 × z.grad = 1.0 × 0.1966 = 0.1966") for line in lines)
    assert "Step 9 of 10: x0 = -1.0 is an input of the graph: x0.grad = 0.3932, final" in lines


def test_cli_prints_the_transcript_when_not_a_terminal(capsys):
    assert main(["step", "sigmoid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Backpropagation through the CS231n neuron")
    assert "w0.grad += x0 × (w0*x0).grad = -1.0 × 0.1966 = -0.1966" in out
    assert main(["step", "naive", "--naive"]) == 0
    assert "a  naive       6.0   backward()       4.0   WRONG" in capsys.readouterr().out


def test_cli_steps_through_a_users_expression(capsys):
    assert main(["step", "--expr", "tanh(x*w+b)", "--set", "x=1,w=2,b=-1"]) == 0
    out = capsys.readouterr().out
    assert "Step 1 of 6: tanh(x*w + b) = 0.7616: its gradient (tanh(x*w + b)).grad = 1.0" in out
    assert "x.grad += w × (x*w).grad = 2.0 × 0.41997 = 0.8399" in out  # the printed numbers add up
    assert main(["step", "--expr", "__import__('os')", "--set", ""]) == 2
    assert "autograd-scalar step:" in capsys.readouterr().err


def test_cli_through_a_pipe():
    done = subprocess.run([sys.executable, "-m", "autograd_scalar", "step", "branch"],
                          capture_output=True, text=True, encoding="utf-8", timeout=60, check=True)
    assert done.stdout == format_transcript(example("branch"), title=(
        "Backpropagation through y = a*a + a at a = 3: a feeds two operations, so its gradient is a sum (7)")) + "\n"


def _readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## See backprop step by step")
    return text[start : text.index("\n## ", start + 1)]


def test_readme_transcript_is_what_the_command_prints(capsys):
    block = re.search(r"```text\n(.*?)```", _readme_section(), re.S).group(1).splitlines()
    assert block[0] == "$ autograd-scalar step sigmoid | cat"
    main(["step", "sigmoid"])
    printed = capsys.readouterr().out
    shown = [line for line in block[1:] if line and line != "..."]
    assert len(shown) > 10 and all(line in printed.splitlines() for line in shown)
    assert (ROOT / "docs" / "step_transcript.txt").read_text(encoding="utf-8") == printed
    assert (ROOT / "docs" / "step_page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    code = re.search(r"```python\n(.*?)```", _readme_section(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own README's code, not user input
    assert namespace["c"].words == "d(a*b)/da = b" and fmt_num(namespace["c"].contribution) == "-0.1966"
    assert (tmp_path / "backprop.html").exists()
    out = capsys.readouterr().out
    assert "w0.grad += x0 × (w0*x0).grad = -1.0 × 0.1966 = -0.1966" in out and "WRONG" in out


def test_notebook_reprs():
    result = naive_backward(example("naive"))
    markup = result._repr_html_()
    assert markup.startswith("<pre>") and "WRONG" in markup
    evil = Value(1.0, label="<b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in naive_backward(evil * evil)._repr_html_()
    pretty = require_module("IPython.lib.pretty", "pip install ipython").pretty
    assert pretty(result) == str(result)
    assert pretty(show_steps(example("branch"))) == format_transcript(example("branch"))


def test_names_keep_pythons_precedence():
    x, y = Value(1.5, label="x"), Value(0.5, label="y")
    cases = {
        (x**2) ** 3: "(x**2)**3", x ** (y**2): "x**y**2", 2 ** (x + y): "2**(x + y)", (-x) ** 2: "(-x)**2",
        x - (y - x): "x - (y - x)", (x - y) - x: "x - y - x", x / (y * x): "x/(y*x)", -(x**2): "-x**2",
        (x - y) - (x - y): "x - y - (x - y)#3",
    }
    for node, text in cases.items():
        assert trace_forward(node)[-1].name == text


@given(expressions(max_nodes=10))
def test_formula_names_mean_what_they_say(drawn):
    # our own generated names (not user input) are evaluated to check their parentheses
    leaves = drawn.leaves()
    env = {leaf.label: leaf for leaf in leaves}
    for name in ("exp", "log", "tanh", "sigmoid", "relu", "sqrt", "sin", "cos"):
        env[name] = (lambda op: lambda v: getattr(v, op)())(name)
    env["abs"] = abs
    for step in trace_forward(drawn(*leaves)):
        if step.node.op and not re.search(r"\bn\d+\b|#", step.name):
            assert eval(step.name, {"__builtins__": {}}, env).data == pytest.approx(step.node.data, rel=1e-12)


def test_cli_writes_the_page(tmp_path, capsys):
    assert main(["step", "branch", "--naive", "--html", str(tmp_path / "page.html")]) == 0
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "Why the order matters" in page
    assert main(["step", "branch", "--html", str(tmp_path / "missing" / "page.html")]) == 2
    assert "autograd-scalar step:" in capsys.readouterr().err
