"""Backpropagation, one node and one ``+=`` at a time.

``trace_backward(root)`` returns the steps that ``root.backward()`` performs, in its order
(``reversed(topological_order(root))``), computed with the same rule table on the same floats:
for each node, the gradient that arrived from its consumers (the *upstream* gradient), and for
each of its inputs the rule in words (``d(a*b)/da = b``), the local derivative's value, the
contribution ``local × upstream``, and the input's gradient before and after the ``+=``.
Replaying the steps (:func:`replay`) gives exactly, bit for bit, the ``.grad`` values that
``backward()`` gives; a property test holds the two together.

>>> from autograd_scalar import Value
>>> a = Value(3.0, label="a")
>>> y = a * a + a
>>> steps = trace_backward(y)
>>> print(steps[1])                       # the a*a node sends two contributions to a
Step 2 of 3: out = a*a = 9.0, out.grad = 1.0
  rule: d(a*b)/da = b, d(a*b)/db = a   (a = a, b = a)
  a.grad += a × out.grad = 3.0 × 1.0 = 3.0      a.grad: 1.0 → 4.0
  a.grad += a × out.grad = 3.0 × 1.0 = 3.0      a.grad: 4.0 → 7.0
>>> a.grad                                # tracing changed no gradient
0.0

The same steps drive the terminal view (``autograd-scalar step``), the notebook view
(:func:`show_steps`) and the web page (:func:`export_html`). :func:`compare_naive` shows why the
order matters: a naive recursive pass that passes a gradient on as soon as it receives one
gets the wrong answer wherever a node feeds several others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from .engine import Value, describe, topological_order
from .rules import RULES

# How each operation reads, over its inputs (named as in Rule.inputs), and how tightly it binds:
# an operand that binds more loosely than its operation is put in parentheses.
_TEMPLATES: dict[str, tuple[str, int]] = {
    "add": ("{a} + {b}", 1),
    "sub": ("{a} - {b}", 1),
    "mul": ("{a}*{b}", 2),
    "div": ("{a}/{b}", 2),
    "neg": ("-{x}", 3),
    "pow": ("{x}**{c}", 4),
    "rpow": ("{c}**{x}", 4),
    "vpow": ("{a}**{b}", 4),
}
_ATOM = 9  # a leaf, a label, a number or a function call: never needs parentheses
_MAX_NAME = 24  # an unlabelled node whose expression is longer is called n<index>
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def fmt_num(x: float, digits: int = 4) -> str:
    """A number as the step-through shows it: ``digits`` significant digits, ``.0`` on integers.

    >>> fmt_num(-1.0), fmt_num(0.19661193324148185), fmt_num(7.0), fmt_num(1e-12)
    ('-1.0', '0.1966', '7.0', '1e-12')
    """
    text = f"{x:.{digits}g}"
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


def rule_expression(op: str) -> str:
    """The operation written over its inputs' names, as the rule table names them.

    >>> rule_expression("mul"), rule_expression("tanh"), rule_expression("rpow")
    ('a*b', 'tanh(x)', 'c**x')
    """
    rule = RULES[op]
    if op in _TEMPLATES:
        return _TEMPLATES[op][0].format(**{name: name for name in rule.inputs})
    return f"{rule.symbol}({', '.join(rule.inputs)})"


def rule_words(op: str) -> tuple[str, ...]:
    """Each local derivative of ``op`` in words, one per input.

    >>> rule_words("mul")
    ('d(a*b)/da = b', 'd(a*b)/db = a')
    >>> rule_words("tanh")
    ('d tanh(x)/dx = 1 - out**2',)
    """
    rule = RULES[op]
    expr = rule_expression(op)
    head = f"d({expr})" if op in _TEMPLATES else f"d {expr}"
    return tuple(f"{head}/d{name} = {word}" for name, word in zip(rule.inputs, rule.words))


class _Names:
    """Readable, unique names for the nodes of one graph.

    A labelled node is called by its label; an unlabelled one by its expression over its inputs'
    names (``w0*x0``) while that stays short, else ``n<index>`` (its place in the forward order).
    A name already taken gets ``#<index>`` appended. Control characters are shown escaped, so a
    label cannot move the terminal's cursor.
    """

    def __init__(self, order: Sequence[Value]) -> None:
        self.index: dict[Value, int] = {node: i for i, node in enumerate(order)}
        self.name: dict[Value, str] = {}
        self.level: dict[Value, int] = {}
        taken: set[str] = set()
        for i, node in enumerate(order):
            if node.label:
                name, level = _CONTROL.sub(lambda m: repr(m.group())[1:-1], node.label), _ATOM
            elif not node.op:
                name, level = f"n{i}", _ATOM
            else:
                name, level = self.expression(node)
                if len(name) > _MAX_NAME:
                    name, level = f"n{i}", _ATOM
            if name in taken:  # a second node with the same label or formula: tell them apart
                name, level = (f"{name}#{i}" if level == _ATOM else f"({name})#{i}"), _ATOM
            taken.add(name)
            self.name[node] = name
            self.level[node] = level

    def operand(self, arg: Any, op_level: int, right: bool = False) -> str:
        """An input's name inside an expression of binding ``op_level``, parenthesised if needed."""
        if arg.__class__ is float:
            text, level = f"{arg:g}", _ATOM if arg >= 0 else 3
        else:
            text, level = self.name[arg], self.level[arg]
        if level < op_level or (right and level == op_level and op_level in (1, 2)):
            return f"({text})"
        return text

    def expression(self, node: Value) -> tuple[str, int]:
        """``node``'s operation written over its inputs' names, and how tightly it binds."""
        names = RULES[node.op].inputs
        if node.op in _TEMPLATES:
            template, level = _TEMPLATES[node.op]
            # ** groups to the right: a base that is itself a power needs parentheses, an exponent does not
            parts = {n: self.operand(a, level + (level == 4 and i == 0), i == 1)
                     for i, (n, a) in enumerate(zip(names, node.args))}
            return template.format(**parts), level
        inner = ", ".join(self.operand(a, 0) for a in node.args)
        return f"{RULES[node.op].symbol}({inner})", _ATOM

    def in_formula(self, node: Value) -> str:
        """The name as it appears before ``.grad``: parenthesised unless it is a plain name."""
        name = self.name[node]
        return name if self.level[node] == _ATOM else f"({name})"


def _with_numbers(node: Value, digits: int) -> str:
    """``node``'s operation over its inputs' values: ``2.0 × (-1.0)``, ``sigmoid(1.0)``."""
    values = [fmt_num(a if a.__class__ is float else a.data, digits) for a in node.args]
    values = [f"({v})" if v.startswith("-") and node.op in _TEMPLATES else v for v in values]
    names = RULES[node.op].inputs
    if node.op == "mul":
        return f"{values[0]} × {values[1]}"
    if node.op in _TEMPLATES:
        return _TEMPLATES[node.op][0].format(**dict(zip(names, values)))
    return f"{RULES[node.op].symbol}({', '.join(values)})"


@dataclass(frozen=True)
class ForwardStep:
    """One node of the forward pass: its value and how it was computed."""

    index: int
    """The node's place in ``topological_order(root)`` (``v{index}`` in the SVG)."""
    node: Value
    name: str
    text: str
    """``w0*x0 = 2.0 × (-1.0) = -2.0``; for an input ``x0 = -1.0 (input)``."""

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Contribution:
    """One ``parent.grad += local × upstream`` of a backward step."""

    consumer: Value
    """The node whose step sends this contribution."""
    parent: Value
    """The input that receives it."""
    position: int
    """Which argument of ``consumer`` the parent is (``a*a`` sends from positions 0 and 1)."""
    words: str
    """The rule in words, ``d(a*b)/da = b``."""
    formula: str
    """The local derivative with the graph's names, ``x0`` for ``w0`` in ``w0*x0``."""
    local: float
    upstream: float
    contribution: float
    """``local * upstream``, computed exactly as ``backward()`` computes it."""
    before: float
    """The parent's gradient in this pass before the ``+=`` (0.0 before its first contribution)."""
    after: float
    """The parent's gradient after the ``+=``."""
    equation: str
    """``w0.grad += x0 × out.grad = -1.0 × 0.1966 = -0.1966``."""
    change: str
    """``w0.grad: 0.0 → -0.1966``."""

    def __str__(self) -> str:
        return f"{self.equation}      {self.change}"


@dataclass(frozen=True)
class BackwardStep:
    """One node of the backward pass: what arrived (``upstream``) and what it sends on."""

    index: int
    """The step's place in the backward pass (0 for the root)."""
    topo_index: int
    """The node's place in ``topological_order(root)`` (``v{topo_index}`` in the SVG)."""
    total: int
    """The number of steps in the pass."""
    node: Value
    name: str
    upstream: float
    """``d root / d node``: complete here, because every consumer of the node came before."""
    incoming: tuple[Contribution, ...]
    """What the node's consumers sent it, in the order they sent it; empty for the root."""
    contributions: tuple[Contribution, ...]
    """What the node sends to each of its inputs (none for an input of the graph)."""
    lines: tuple[str, ...] = field(repr=False)

    def __str__(self) -> str:
        return "\n".join(self.lines)


def trace_forward(root: Value, *, digits: int = 4) -> list[ForwardStep]:
    """The forward evaluation order (``topological_order``): each node's value and how it was computed.

    >>> from autograd_scalar import Value
    >>> x, w = Value(-1.0, label="x"), Value(2.0, label="w")
    >>> for step in trace_forward((x * w).tanh()):
    ...     print(step)
    x = -1.0   (input)
    w = 2.0   (input)
    x*w = (-1.0) × 2.0 = -2.0
    tanh(x*w) = tanh(-2.0) = -0.964
    """
    _check_root("trace_forward", root)
    order = topological_order(root)
    names = _Names(order)
    steps = []
    for i, node in enumerate(order):
        name = names.name[node]
        if not node.op:
            text = f"{name} = {fmt_num(node.data, digits)}   (input)"
        else:
            expr, _ = names.expression(node)
            head = name if expr == name else f"{name} = {expr}"
            text = f"{head} = {_with_numbers(node, digits)} = {fmt_num(node.data, digits)}"
        steps.append(ForwardStep(i, node, name, text))
    return steps


def trace_backward(root: Value, *, apply: bool = False, digits: int = 4) -> list[BackwardStep]:
    """The steps of ``root.backward()``, in its order, without changing any ``.grad``.

    Each step names the node, its upstream gradient and, per input, the rule in words, the local
    derivative, the contribution ``local × upstream`` and the input's gradient before and after
    the ``+=``. The numbers come from the same rules on the same floats as ``backward()``, and the
    additions happen in the same order, so :func:`replay` reproduces ``backward()`` exactly.
    With ``apply=True`` the gradients are also added to ``.grad``, as ``backward()`` would.

    >>> from autograd_scalar import Value
    >>> x, w = Value(-1.0, label="x"), Value(2.0, label="w")
    >>> steps = trace_backward(x * w)
    >>> [(s.name, s.upstream) for s in steps]
    [('x*w', 1.0), ('w', -1.0), ('x', 2.0)]
    >>> c = steps[0].contributions[0]
    >>> c.words, c.formula, c.local, c.contribution
    ('d(a*b)/da = b', 'w', 2.0, 2.0)
    """
    _check_root("trace_backward", root)
    order = topological_order(root)
    names = _Names(order)
    grads: dict[Value, float] = {root: 1.0}
    received: dict[Value, list[Contribution]] = {}
    steps: list[BackwardStep] = []
    total = len(order)
    for index, node in enumerate(reversed(order)):
        upstream = grads.pop(node)
        incoming = tuple(received.pop(node, ()))
        sent = []
        if node.args:
            floats = [a if a.__class__ is float else a.data for a in node.args]
            locals_ = _local_derivatives(node, floats)
            words = rule_words(node.op)
            for position, (arg, local) in enumerate(zip(node.args, locals_)):
                if arg.__class__ is float:
                    continue  # a constant: no gradient, as in backward()
                contribution = local * upstream
                before = grads.get(arg, 0.0)
                after = grads[arg] + contribution if arg in grads else contribution
                grads[arg] = after
                item = _contribution(names, node, arg, position, words[position], local, upstream,
                                     contribution, before, after, digits)
                sent.append(item)
                received.setdefault(arg, []).append(item)
        steps.append(_backward_step(names, index, total, node, upstream, incoming, tuple(sent), digits))
    if apply:
        replay(steps)
    return steps


def replay(steps: Iterable[BackwardStep]) -> None:
    """Add each step's gradient into its node's ``.grad``: what ``backward()`` does, step by step.

    >>> from autograd_scalar import Value
    >>> a = Value(3.0, label="a")
    >>> replay(trace_backward(a * a + a)); a.grad
    7.0
    """
    for step in steps:
        step.node.grad += step.upstream


def _check_root(where: str, root: Any) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"{where}: expected a Value (the output of a graph), got {root!r}")


def _local_derivatives(node: Value, floats: list[float]) -> tuple:
    try:
        return RULES[node.op].local(node.data, *floats)
    except (ZeroDivisionError, OverflowError, ValueError) as error:
        formulas = ", ".join(rule_words(node.op))
        raise type(error)(
            f"trace_backward: the local derivative of {describe(node)} = {node.data!r} "
            f"({formulas}) cannot be evaluated here: {error}"
        ) from error


def _contribution(names: _Names, node: Value, arg: Value, position: int, words: str, local: float,
                  upstream: float, contribution: float, before: float, after: float,
                  digits: int) -> Contribution:
    rule = RULES[node.op]
    bound = {name: a for name, a in zip(rule.inputs, node.args)}
    word = rule.words[position]

    def substitute(match: re.Match) -> str:
        token = match.group()
        if token in bound:
            value = bound[token]
            return f"{value:g}" if value.__class__ is float else names.in_formula(value)
        return token

    formula = re.sub(r"\b[a-z]\b", substitute, word)
    target = names.in_formula(arg)
    f = lambda x: fmt_num(x, digits)  # noqa: E731
    factor = formula if re.fullmatch(r"[\w.()#]+", formula) else f"({formula})"
    equation = f"{target}.grad += {factor} × out.grad = {f(local)} × {f(upstream)} = {f(contribution)}"
    change = f"{target}.grad: {f(before)} → {f(after)}"
    return Contribution(node, arg, position, words, formula, local, upstream, contribution, before, after,
                        equation, change)


def _backward_step(names: _Names, index: int, total: int, node: Value, upstream: float,
                   incoming: tuple[Contribution, ...], sent: tuple[Contribution, ...], digits: int) -> BackwardStep:
    f = lambda x: fmt_num(x, digits)  # noqa: E731
    name = names.name[node]
    lines = []
    if not node.op:
        lines.append(f"Step {index + 1} of {total}: {name} = {f(node.data)} is an input of the graph: "
                     f"{names.in_formula(node)}.grad = {f(upstream)}, final")
    else:
        expr, _ = names.expression(node)
        shown = name if expr == name else f"{name} = {expr}"
        lines.append(f"Step {index + 1} of {total}: out = {shown} = {f(node.data)}, out.grad = {f(upstream)}")
    if not incoming:
        lines.append("  out.grad = 1.0: the seed, d out/d out = 1")
    elif len(incoming) > 1:
        consumers = []
        for c in incoming:
            if c.consumer not in consumers:
                consumers.append(c.consumer)
        users = ", ".join(names.name[c] for c in consumers)
        if len(consumers) == 1:
            why = f"it is used {len(incoming)} times by {users}, and the contributions add up"
        elif len(consumers) == len(incoming):
            why = f"it is used once each by {len(consumers)} operations ({users}), and their contributions add up"
        else:
            why = (f"it is used {len(incoming)} times by {len(consumers)} operations ({users}), "
                   "and their contributions add up")
        lines.append(f"  {names.in_formula(node)}.grad = {' + '.join(f(c.contribution) for c in incoming)} = "
                     f"{f(upstream)}: {why}")
    if sent:
        rule = RULES[node.op]
        operands = ", ".join(f"{n} = {a:g}" if a.__class__ is float else f"{n} = {names.name[a]}"
                             for n, a in zip(rule.inputs, node.args))
        lines.append(f"  rule: {', '.join(rule_words(node.op))}   ({operands})")
        width = max(len(c.equation) for c in sent)
        lines.extend(f"  {c.equation:<{width}}      {c.change}" for c in sent)
    return BackwardStep(index, names.index[node], total, node, name, upstream, incoming, sent, tuple(lines))


# ---- why the order matters: a naive recursive pass ------------------------------------------------


@dataclass(frozen=True)
class NaiveVisit:
    """One time the naive pass passed a node's gradient on."""

    node: Value
    name: str
    grad: float
    """The node's gradient when it was passed on (the naive pass sends all of it, every time)."""
    heard_from: int
    """How many of the node's uses had sent their contribution by then."""
    uses: int
    """How many uses the node has in the graph (an input used twice by ``a*a`` counts twice)."""

    @property
    def early(self) -> bool:
        """Whether the node passed its gradient on before every use had added its part."""
        return bool(self.node.op) and self.heard_from < self.uses


@dataclass(frozen=True)
class NaiveComparison:
    """The naive recursive pass beside the real one, on the same graph."""

    visits: tuple[NaiveVisit, ...]
    naive: dict[Value, float]
    """The gradients the naive pass ends with, by node."""
    real: dict[Value, float]
    """The gradients ``backward()`` gives (from :func:`trace_backward`; no ``.grad`` is touched)."""
    names: dict[Value, str]

    @property
    def wrong(self) -> list[Value]:
        """The nodes whose naive gradient differs from the real one, in forward order."""
        return [node for node in self.names if self.naive[node] != self.real[node]]

    def __str__(self) -> str:
        return format_naive(self)

    def _repr_html_(self) -> str:  # a notebook cell shows the comparison as text, escaped
        import html

        return f"<pre>{html.escape(format_naive(self))}</pre>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython in a terminal
        printer.text(format_naive(self))


def naive_backward(root: Value) -> NaiveComparison:
    """Run the naive "pass it on as soon as you get it" recursion beside the real backward pass.

    The naive pass gives each input its contribution and at once recurses into that input,
    sending on the input's *whole* gradient so far. A node that feeds several others is then
    passed on before all of them have added their part, and its earlier part is sent again:
    the inputs below it get the wrong gradient. ``backward()`` avoids this by visiting nodes in
    reverse topological order, so a node is passed on once, when its gradient is complete.

    >>> from autograd_scalar import Value
    >>> a = Value(1.0, label="a")
    >>> b = a + a; b.label = "b"
    >>> c = b + b; c.label = "c"
    >>> result = naive_backward(c)
    >>> result.naive[a], result.real[a]
    (6.0, 4.0)
    """
    _check_root("naive_backward", root)
    order = topological_order(root)
    if len(order) > 200:
        raise ValueError(f"naive_backward: the naive pass can take exponential time; "
                         f"use a graph of at most 200 nodes, got {len(order)!r}")
    names = _Names(order)
    uses = {node: 0 for node in order}
    for node in order:
        for arg in node.parents:
            uses[arg] += 1
    heard = {node: 0 for node in order}
    naive = {node: 0.0 for node in order}
    visits: list[NaiveVisit] = []
    naive[root] = 1.0

    def visit(node: Value) -> None:
        if len(visits) >= 10_000:
            raise ValueError(f"naive_backward: more than {len(visits)!r} visits; the graph is too branched to show")
        visits.append(NaiveVisit(node, names.name[node], naive[node], heard[node], uses[node]))
        if not node.args:
            return
        floats = [a if a.__class__ is float else a.data for a in node.args]
        for arg, local in zip(node.args, _local_derivatives(node, floats)):
            if arg.__class__ is float:
                continue
            naive[arg] += local * naive[node]
            heard[arg] += 1
            visit(arg)  # the naive step: recurse at once, with whatever arg.grad is now

    visit(root)
    real = {step.node: step.upstream for step in trace_backward(root)}
    return NaiveComparison(tuple(visits), naive, real, {node: names.name[node] for node in order})


def format_naive(result: NaiveComparison, digits: int = 4) -> str:
    """The naive pass's visits, the early ones marked, and its gradients beside the real ones."""
    f = lambda x: fmt_num(x, digits)  # noqa: E731
    lines = ["A naive recursive backward pass: each node passes its gradient on as soon as it gets one",
             "(node.grad += local * out.grad, then at once the same for that node's inputs).", ""]
    for i, v in enumerate(result.visits, 1):
        mark = ""
        if v.early:
            mark = f"   <-- too early: {v.heard_from} of its {v.uses} uses have sent their part"
        elif v.heard_from > v.uses:
            mark = f"   <-- counted twice: {v.heard_from} contributions for its {v.uses} uses"
        action = "passes it on" if v.node.op else "(an input)"
        target = v.name if re.fullmatch(r"[\w.#]+", v.name) else f"({v.name})"
        lines.append(f"  visit {i:>2}: {target}.grad = {f(v.grad)}, {action}{mark}")
    real_order = ", ".join(f"{result.names[node]} ({f(grad)})" for node, grad in result.real.items())
    lines += ["", f"backward() visits each node once, after all its consumers: {real_order}.",
              "", "Result:"]
    width = max(len(n) for n in result.names.values())
    for node, name in result.names.items():
        naive, real = result.naive[node], result.real[node]
        verdict = "ok" if naive == real else "WRONG"
        lines.append(f"  {name:<{width}}  naive {f(naive):>9}   backward() {f(real):>9}   {verdict}")
    wrong = result.wrong
    if wrong:
        lines += ["", f"{len(wrong)} gradient{'s' * (len(wrong) > 1)} wrong: a node was passed on before all of "
                  "its consumers had added their part, and its early part was sent again later."]
    else:
        lines += ["", "No gradient differs here: every node that passes a gradient on is used once, so no part "
                  "arrives late (a node used several times that is an input passes nothing on)."]
    return "\n".join(lines)


# ---- the transcript, and the example graphs ----------------------------------------------------------


def format_transcript(root: Value, *, naive: bool = False, digits: int = 4, title: str | None = None) -> str:
    """The whole step-through as plain text: the forward pass, then every backward step.

    What ``autograd-scalar step`` prints when its output is not a terminal, ready to paste into
    a forum answer. ``naive=True`` appends the naive recursive pass (see :func:`naive_backward`).

    >>> from autograd_scalar import Value
    >>> x = Value(0.5, label="x")
    >>> print(format_transcript(x.tanh(), title="tanh"))
    tanh
    <BLANKLINE>
    Forward pass (topological order: each node after its inputs)
      x = 0.5   (input)
      tanh(x) = tanh(0.5) = 0.4621
    <BLANKLINE>
    Backward pass (reverse topological order: each node after all its consumers)
    Step 1 of 2: out = tanh(x) = 0.4621, out.grad = 1.0
      out.grad = 1.0: the seed, d out/d out = 1
      rule: d tanh(x)/dx = 1 - out**2   (x = x)
      x.grad += (1 - out**2) × out.grad = 0.7864 × 1.0 = 0.7864      x.grad: 0.0 → 0.7864
    <BLANKLINE>
    Step 2 of 2: x = 0.5 is an input of the graph: x.grad = 0.7864, final
    """
    forward = trace_forward(root, digits=digits)
    backward = trace_backward(root, digits=digits)
    parts = [title or f"Backpropagation through {forward[-1].name}", ""]
    parts.append("Forward pass (topological order: each node after its inputs)")
    parts += ["  " + step.text for step in forward]
    parts += ["", "Backward pass (reverse topological order: each node after all its consumers)"]
    parts.append("\n\n".join(str(step) for step in backward))
    if naive:
        parts += ["", "", format_naive(naive_backward(root), digits)]
    return "\n".join(parts)


def branch_example() -> Value:
    """``y = a*a + a`` at ``a = 3``: ``a`` feeds two operations, ``dy/da = 2a + 1 = 7``."""
    a = Value(3.0, label="a")
    y = a * a + a
    y.label = "y"
    return y


def naive_example() -> Value:
    """``b = a + a; c = b + b`` at ``a = 1``: the naive recursive pass gives ``dc/da = 6``, not 4."""
    a = Value(1.0, label="a")
    b = a + a
    b.label = "b"
    c = b + b
    c.label = "c"
    return c


def mazur_network() -> tuple[Value, dict[str, Value]]:
    """Matt Mazur's "A Step by Step Backpropagation Example": a 2-2-2 sigmoid network.

    Inputs 0.05, 0.10; targets 0.01, 0.99; weights w1..w8 = 0.15 0.20 0.25 0.30 0.40 0.45 0.50
    0.55; biases b1 = 0.35 (both hidden units) and b2 = 0.60 (both outputs);
    ``E_total = sum 1/2 (target - out)**2``. Returns ``(E_total, {name: leaf})``.

    >>> E, leaves = mazur_network()
    >>> E.backward()
    >>> round(E.data, 9), round(leaves["w5"].grad, 9), round(leaves["w1"].grad, 9)
    (0.298371109, 0.082167041, 0.000438568)
    """
    names = ["i1", "i2", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2"]
    numbers = [0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55, 0.35, 0.60]
    leaves = {name: Value(number, label=name) for name, number in zip(names, numbers)}
    i1, i2, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2 = leaves.values()

    def labelled(node: Value, label: str) -> Value:
        node.label = label
        return node

    out_h1 = labelled(labelled(w1 * i1 + w2 * i2 + b1, "net_h1").sigmoid(), "out_h1")
    out_h2 = labelled(labelled(w3 * i1 + w4 * i2 + b1, "net_h2").sigmoid(), "out_h2")
    out_o1 = labelled(labelled(w5 * out_h1 + w6 * out_h2 + b2, "net_o1").sigmoid(), "out_o1")
    out_o2 = labelled(labelled(w7 * out_h1 + w8 * out_h2 + b2, "net_o2").sigmoid(), "out_o2")
    e_o1 = labelled(0.5 * (0.01 - out_o1) ** 2, "E_o1")
    e_o2 = labelled(0.5 * (0.99 - out_o2) ** 2, "E_o2")
    return labelled(e_o1 + e_o2, "E_total"), leaves


EXAMPLES = {
    "sigmoid": "the CS231n neuron f = sigmoid(w0*x0 + w1*x1 + w2)",
    "mazur": "Matt Mazur's 2-2-2 sigmoid network, E = sum 1/2 (target - out)**2",
    "branch": "y = a*a + a at a = 3: a feeds two operations, so its gradient is a sum (7)",
    "naive": "b = a + a; c = b + b at a = 1: where a naive recursive pass goes wrong",
}


def example(name: str) -> Value:
    """One of the graphs of ``autograd-scalar step NAME`` (see :data:`EXAMPLES`), freshly built.

    >>> example("branch").data
    12.0
    """
    if name == "sigmoid":
        from .cli import sigmoid_neuron

        return sigmoid_neuron()[0]
    if name == "mazur":
        return mazur_network()[0]
    if name == "branch":
        return branch_example()
    if name == "naive":
        return naive_example()
    raise ValueError(f"example: unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")


# ---- the notebook and the web page ---------------------------------------------------------------------

PathLike = Union[str, Path]


class StepView:
    """The step-through page of one graph, for a notebook cell (``_repr_html_``) or a file.

    In Jupyter (classic Notebook and JupyterLab, trusted) its buttons and arrow keys step through
    the forward and backward passes on the drawn graph. Where scripts do not run (an untrusted
    notebook, GitHub) the same output shows the graph with its final gradients and every step as
    a static list.
    """

    def __init__(self, root: Value, *, title: str | None = None, digits: int = 4, max_nodes: int = 500) -> None:
        _check_root("show_steps", root)
        self.root = root
        self.title = title
        self.digits = digits
        self.max_nodes = max_nodes

    def _repr_html_(self) -> str:
        from .stepthrough_html import page_fragment

        return page_fragment(self.root, title=self.title, digits=self.digits, max_nodes=self.max_nodes)

    def __str__(self) -> str:
        return format_transcript(self.root, title=self.title, digits=self.digits)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython in a terminal: the transcript
        printer.text(str(self))

    def save(self, path: PathLike) -> Path:
        """Write the self-contained page to ``path`` (see :func:`export_html`)."""
        return export_html(self.root, path, title=self.title, digits=self.digits, max_nodes=self.max_nodes)


def show_steps(root: Value, *, title: str | None = None, digits: int = 4, max_nodes: int = 500) -> StepView:
    """The step-through of ``root``'s graph, for display in a notebook cell.

    >>> from autograd_scalar import Value
    >>> x = Value(0.5, label="x")
    >>> view = show_steps(x.tanh())
    >>> "x.grad += (1 - out**2) × out.grad" in view._repr_html_()
    True
    """
    return StepView(root, title=title, digits=digits, max_nodes=max_nodes)


def export_html(root: Value, path: PathLike, *, title: str | None = None, digits: int = 4,
                naive: bool = False, max_nodes: int = 500) -> Path:
    """Write the step-through of ``root``'s graph as one self-contained HTML file; return its path.

    Inline SVG, CSS and script; nothing loads from the network (a Content-Security-Policy forbids
    it). Buttons and the arrow keys step through the forward pass, then the backward pass, with
    the gradients filling in on the graph. Without scripts, the page shows the graph with its
    final gradients and every step as a list. ``naive=True`` adds the naive recursive pass beside
    the real one (see :func:`naive_backward`). A graph of more than ``max_nodes`` values is refused
    (a ValueError): its drawing would be unreadable, and slow to lay out. No ``.grad`` is changed.

    >>> import tempfile, os
    >>> from autograd_scalar import Value
    >>> x = Value(0.5, label="x")
    >>> path = export_html(x.tanh(), os.path.join(tempfile.mkdtemp(), "tanh.html"))
    >>> "Content-Security-Policy" in path.read_text(encoding="utf-8")
    True
    """
    from .stepthrough_html import page_document

    _check_root("export_html", root)
    path = Path(path)
    page = page_document(root, title=title, digits=digits, naive=naive, max_nodes=max_nodes)
    path.write_text(page, encoding="utf-8")
    return path
