"""Every equation the step-through prints adds up from its printed numbers, at its printed precision.

Pins down, on hypothesis-drawn graphs and on every worked example (grouped MLP sample included):
each forward line ``name = expr = <numbers> = result``, each ``+=`` line ``= local × upstream =
contribution``, each ``before → after`` (``before + contribution``), each group's ``+= part`` with its
``before → after``, and each sum ``grad = t1 + t2 + ... = total``, re-evaluated from the digits shown,
rounds to the result shown. Also that every printed number is the true value to its printed precision,
and the names a learner would otherwise confuse: no rule uses a placeholder (``a``, ``b``, ``out``).
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re

from hypothesis import given, settings

from autograd_scalar.examples import EXAMPLES, example
from autograd_scalar.steptrace import _place, agrees, build_views, fit_digits, fmt_num, trace
from autograd_scalar.testing.strategies import expressions

NUMBER = r"\(?-?\d[\d.]*(?:e[-+]?\d+)?\)?"
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow}
_CALLS = {"tanh": math.tanh, "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs, "sin": math.sin,
          "cos": math.cos, "relu": lambda x: max(x, 0.0), "sigmoid": lambda x: 1 / (1 + math.exp(-x))}


def _evaluate(text: str) -> float:
    """Our own printed arithmetic (numbers, + - × / **, and the functions), evaluated without eval."""
    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALLS:
            return _CALLS[node.func.id](*map(walk, node.args))
        raise ValueError(f"not printed arithmetic: {ast.dump(node)}")

    return walk(ast.parse(text.replace("×", "*"), mode="eval"))


def _number(text: str) -> str:
    return text.strip("()")


class Checked:
    count = 0


def check_lines(lines: list[str]) -> int:
    """Check every equation among ``lines``; return how many were checked."""
    checked = 0
    for line in lines:
        line = line.strip()
        m = re.search(rf"= ({NUMBER}) × ({NUMBER}) = ({NUMBER})(?:\s+.+?\.grad: ({NUMBER}) → ({NUMBER}))?$", line)
        if m and ".grad +=" in line:
            local, upstream, result = (_number(g) for g in m.groups()[:3])
            assert agrees(float(local) * float(upstream), result), line
            if m.group(4):
                assert agrees(float(_number(m.group(4))) + float(result), _number(m.group(5))), line
            checked += 1
            continue
        m = re.fullmatch(rf".+?\.grad \+= ({NUMBER})\s+.+?\.grad: ({NUMBER}) → ({NUMBER})", line)
        if m:  # a group sends its part
            part, before, after = (_number(g) for g in m.groups())
            assert agrees(float(before) + float(part), after), line
            checked += 1
            continue
        m = re.fullmatch(rf".+?\.grad = ({NUMBER}(?: \+ {NUMBER})+) = ({NUMBER}): it is used .*", line)
        if m:
            terms = [float(_number(t)) for t in m.group(1).split(" + ")]
            # evaluated as code would, left to right in floats (exact sums differ where terms cancel)
            assert agrees(functools.reduce(operator.add, terms), _number(m.group(2))), line
            checked += 1
            continue
        assert ".grad +=" not in line and ": it is used" not in line, f"an equation the test cannot read: {line}"
        parts = line.split(" = ")
        if len(parts) >= 3 and "(input)" not in line and ".grad" not in line and ":" not in line:
            try:
                value = _evaluate(parts[-2])
            except (ValueError, SyntaxError):
                continue  # the expression in names, not numbers
            assert agrees(value, parts[-1]), line
            checked += 1
    return checked


def check_graph(root) -> int:
    t = trace(root)
    lines = [step.text for step in t.forward]
    for step in t.backward:
        lines += step.lines
        for c in step.contributions:
            assert agrees(c.contribution, re.search(rf"= ({NUMBER})$", c.equation).group(1)), c.equation
    for view in build_views(t, max_nodes=10_000):
        for frame in view.frames:
            lines += [frame.head, *frame.lines, *(f"{e}      {ch}" for e, ch in frame.sends)]
    for line in lines:  # names are the graph's: no rule-table placeholder survives
        assert not re.search(r"\bout\.grad\b|\(a = |\bd\(a\*b\)", line), line
    return check_lines(lines)


COUNTS = {"drawn graphs": 0, "equations": 0}


@settings(max_examples=400, deadline=None)
@given(expressions(max_nodes=20))
def test_printed_equations_add_up_on_drawn_graphs(drawn):
    checked = check_graph(drawn(*drawn.leaves()))
    COUNTS["drawn graphs"] += 1
    COUNTS["equations"] += checked


def test_printed_equations_add_up_in_every_example():
    total = 0
    for name in EXAMPLES:
        checked = check_graph(example(name))
        assert checked > 3, name
        total += checked
    assert total > 1000  # the MLP sample alone prints over a thousand


def test_the_lecture_complaint_is_gone():
    # 2.0 × 0.42 = 0.8399 read as an engine error; the factor now carries the digit the product needs
    from autograd_scalar.expr import parse_assignments, parse_expression

    root, _ = parse_expression("tanh(x*w+b)", parse_assignments("x=1,w=2,b=-1"))
    lines = [line for step in trace(root).backward for line in step.lines]
    assert any("x.grad += w × (x*w).grad = 2.0 × 0.41997 = 0.8399" in line for line in lines)
    assert check_lines(lines) == 5  # one per +=


def test_a_broken_equation_is_caught():
    # the checker itself: the old printing would fail it
    assert not agrees(2.0 * 0.42, "0.8399") and agrees(2.0 * 0.41997, "0.8399")
    try:
        check_lines(["x.grad += w × (x*w).grad = 2.0 × 0.42 = 0.8399      x.grad: 0.0 → 0.8399"])
    except AssertionError:
        pass
    else:
        raise AssertionError("the checker accepted 2.0 × 0.42 = 0.8399")


def test_numbers_keep_their_short_exact_form_or_show_their_digits():
    assert [fmt_num(x) for x in (7.0, 0.5, -3.0, 1e-12, 0.41997, 0.19661193324148185, 1234.5)] == [
        "7.0", "0.5", "-3.0", "1e-12", "0.4200", "0.1966", "1234"]
    assert _place("0.4200") == 1e-4 and _place("7.0") == 0.1 and _place("1.235e+05") == 100.0
    f = fit_digits(lambda f: agrees(float(f(-6.0)) + float(f(6.8813735870195432)), f(0.8813735870195432)), 4,
                   anchor=0.8813735870195432)
    assert (f(-6.0), f(6.8813735870195432), f(0.8813735870195432)) == ("-6.0", "6.8814", "0.8814")


def test_zz_report_case_counts(capsys):
    with capsys.disabled():
        print(f"\n[numbers] {COUNTS['drawn graphs']} drawn graphs, {COUNTS['equations']} printed equations checked")
