"""The trace of one backward pass: computed once, rendered by every view of the step-through.

:func:`trace` returns a :class:`Trace`: the graph's order (``topological_order(root)``, one sort),
a name for every node, each forward step, each backward step (in ``backward()``'s order, with the
upstream gradient, and for each input the rule, the local derivative, the contribution
``local × upstream`` and the input's gradient before and after the ``+=``), and the groups (see
:mod:`autograd_scalar.scopes`). The text transcript, the terminal, the notebook and the web page
only render it. Replaying the steps (:func:`replay`) gives exactly, bit for bit, the ``.grad``
values that ``backward()`` gives; a property test holds the two together.

Three promises the views keep, each held by a test:

- **Names that cannot collide.** Everything is written in the graph's own names: the rule of
  ``x*w`` reads ``d(x*w)/dx = w``, and the gradient that arrived is ``(x*w).grad``, never a
  placeholder such as ``a`` or ``out`` that a user's label could also be. Every name is drawn on
  its node's box.
- **Numbers that add up.** Each printed equation, evaluated from its printed numbers, gives its
  printed result to the precision printed: a number is shown with ``digits`` significant digits,
  more where fewer would not add up (``2.0 × 0.41997 = 0.83994``, not ``2.0 × 0.42 = 0.8399``), and
  in its short exact form when it has one (``7.0``, ``0.5``).
- **One numbering per view.** Steps carry no number of their own; each view numbers its frames.

>>> from autograd_scalar import Value
>>> a = Value(3.0, label="a")
>>> y = a * a + a
>>> steps = trace_backward(y)
>>> print(steps[1])                       # the a*a node sends two contributions to a
a*a = 9.0: its gradient (a*a).grad = 1.0
  rule: d(a*a)/da = a, for each of its two factors
  a.grad += a × (a*a).grad = 3.0 × 1.0 = 3.0      a.grad: 1.0 → 4.0
  a.grad += a × (a*a).grad = 3.0 × 1.0 = 3.0      a.grad: 4.0 → 7.0
>>> a.grad                                # tracing changed no gradient
0.0
"""

from __future__ import annotations

import functools
import heapq
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from .engine import Value, describe, topological_order
from .rules import RULES
from .scopes import Group, find_groups

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
_LOOSE = 0  # a label that is not a plain name (``x1*w1``): parenthesised wherever it is an operand
_MAX_NAME = 24  # an unlabelled node whose expression is longer is called n<index>
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_PLAIN = re.compile(r"[A-Za-z_][\w.]*(#\d+)?")

# Each operation on plain floats, to check that printed numbers give the printed result.
_FLOAT_OPS: dict[str, Callable[..., float]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "neg": lambda x: -x, "pow": lambda x, c: x**c, "rpow": lambda c, x: c**x, "vpow": lambda a, b: a**b,
    "exp": math.exp, "log": math.log, "tanh": math.tanh, "relu": lambda x: max(x, 0.0), "sqrt": math.sqrt,
    "abs": abs, "sin": math.sin, "cos": math.cos,
    "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x)),
}


# ---- numbers that add up ---------------------------------------------------------------------------


def fmt_num(x: float, digits: int = 4) -> str:
    """A number as the step-through shows it: exact and short when it has at most ``digits`` significant
    digits, else rounded to ``digits`` significant digits, trailing zeros kept (they are digits shown).

    >>> fmt_num(-1.0), fmt_num(0.19661193324148185), fmt_num(7.0), fmt_num(1e-12), fmt_num(0.41997)
    ('-1.0', '0.1966', '7.0', '1e-12', '0.4200')
    """
    x = x + 0.0  # -0.0 shows as 0.0
    short = repr(x)
    mantissa = short.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0").rstrip("0")
    if len(mantissa) <= digits:
        return short
    text = f"{x:#.{digits}g}"
    return text[:-1] if text.endswith(".") else text


def _place(text: str) -> float:
    """The value of one unit in the last digit of a printed number: ``0.1966`` -> 1e-4, ``7.0`` -> 0.1."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def agrees(value: float, text: str) -> bool:
    """Whether ``value`` rounds to the printed ``text`` at the precision ``text`` shows.

    >>> agrees(2.0 * 0.4200, "0.8399"), agrees(2.0 * 0.41997, "0.83994"), agrees(3.0 + 4.0, "7.0")
    (False, True, True)
    """
    try:
        shown = float(text)
    except ValueError:
        return False
    return abs(value - shown) <= 0.5 * _place(text) * (1 + 1e-9) + 4e-16 * abs(value)


def fit_digits(check: Callable[[Callable[[float], str]], bool], digits: int,
               anchor: float | None = None, result: float | None = None) -> Callable[[float], str]:
    """The formatter with the fewest digits (``digits`` significant digits or more) under which ``check`` holds.

    ``check(f)`` prints its numbers with ``f`` and tells whether the equation adds up. For a sum,
    pass its result as ``anchor``: every number may then be printed to the decimal place of the
    result's last digit (``-6.0 + 6.8814 = 0.8814``), which is how sums are checked by hand. For a
    product, pass its result as ``result``: the factors may then carry one digit more than the
    result (``2.0 × 0.41997 = 0.8399``), since rounding a factor is multiplied by the other. With
    17 significant digits every float prints exactly, so the search always ends.

    >>> f = fit_digits(lambda f: agrees(float(f(2.0)) * float(f(0.41997)), f(2.0 * 0.41997)), 4)
    >>> f(0.41997), f(2.0 * 0.41997)
    ('0.41997', '0.83994')
    >>> f = fit_digits(lambda f: agrees(float(f(2.0)) * float(f(0.41997)), f(2.0 * 0.41997)), 4, result=0.83994)
    >>> f(0.41997), f(2.0 * 0.41997)
    ('0.41997', '0.8399')
    """
    for d in range(max(1, digits), 18):
        candidates = [lambda x, d=d: fmt_num(x, d)]
        if result is not None:
            candidates.append(lambda x, d=d: fmt_num(x, d if x == result else d + 1))
        if anchor is not None:
            shown = fmt_num(anchor, d)
            if "e" not in shown.lower():
                decimals = len(shown.partition(".")[2])
                candidates.append(lambda x, k=decimals, d=d: _fixed(x, k, d))
        for formatter in candidates:
            try:
                if check(formatter):
                    return formatter
            except (ArithmeticError, ValueError):
                pass
    return lambda x: fmt_num(x, 17)


def _fixed(x: float, decimals: int, digits: int) -> str:
    """``x`` to ``decimals`` decimal places (its short form when that is exact), but never fewer than
    ``digits`` significant digits for a number too small for that place."""
    x = x + 0.0
    short = repr(x)
    if "e" not in short and len(short.partition(".")[2]) <= max(decimals, 1):
        return short
    if x != 0.0 and abs(x) < 10.0 ** -decimals:
        return fmt_num(x, digits)
    return f"{x:.{decimals}f}"


def _factor(text: str) -> str:
    """A printed number as a factor or a later term: ``(-1.0)`` for a negative one."""
    return f"({text})" if text.startswith("-") else text


# ---- names -------------------------------------------------------------------------------------------


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
    """Each local derivative of ``op`` in the rule table's own terms, one per input.

    >>> rule_words("mul")
    ('d(a*b)/da = b', 'd(a*b)/db = a')
    >>> rule_words("tanh")
    ('d tanh(x)/dx = 1 - out**2',)
    """
    rule = RULES[op]
    expr = rule_expression(op)
    head = f"d({expr})" if op in _TEMPLATES else f"d {expr}"
    return tuple(f"{head}/d{name} = {word}" for name, word in zip(rule.inputs, rule.words))


def shown_text(text: str) -> str:
    """``text`` with control characters, lone surrogates and non-characters written as escapes.

    >>> shown_text("a\\nb"), shown_text("\\ud800")
    ('a\\\\nb', '\\\\ud800')
    """
    return _UNSHOWABLE.sub(lambda m: repr(m.group())[1:-1], text)


class _Names:
    """Readable, unique names for the nodes of one graph.

    A labelled node is called by its label; an unlabelled one by its expression over its inputs'
    names (``w0*x0``) while that stays short, else ``n<index>`` (its place in the forward order).
    A name already taken gets ``#<index>`` appended. Control characters and lone surrogates are
    shown escaped, so a label cannot move the terminal's cursor or break a page.
    """

    def __init__(self, order: Sequence[Value], hints: dict[Value, str] | None = None) -> None:
        self.index: dict[Value, int] = {node: i for i, node in enumerate(order)}
        self.name: dict[Value, str] = {}
        self.level: dict[Value, int] = {}
        taken: set[str] = set()
        hints = hints or {}
        for i, node in enumerate(order):
            if not node.label and node in hints:  # a neuron's output is called by the neuron's name
                name, level = shown_text(hints[node]), _ATOM
            elif node.label:
                name = shown_text(node.label)
                level = _ATOM if _PLAIN.fullmatch(name) else _LOOSE
                if level == _LOOSE and node.op and self.expression(node)[0] == name:
                    level = self.expression(node)[1]  # "x1*w1" labelling x1*w1 binds like the product
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
        return name if self.level[node] == _ATOM and _PLAIN.fullmatch(name) else f"({name})"

    def local_formula(self, node: Value, position: int) -> str:
        """The local derivative of ``node`` by its input ``position``, in the graph's names.

        The rule table writes ``out * (1 - out)`` for sigmoid; here it reads ``f * (1 - f)``.
        """
        rule = RULES[node.op]
        bound = dict(zip(rule.inputs, node.args))

        def substitute(match: re.Match) -> str:
            token = match.group()
            if token == "out":
                return self.in_formula(node)
            value = bound[token]
            return f"{value:g}" if value.__class__ is float else self.in_formula(value)

        tokens = "|".join(["out", *rule.inputs])
        return re.sub(rf"\b(?:{tokens})\b", substitute, rule.words[position])

    def rule_line(self, node: Value) -> str:
        """The rule of ``node`` in the graph's names: ``d(x*w)/dx = w, d(x*w)/dw = x``."""
        expr, level = self.expression(node)
        head = f"d({expr})" if node.op in _TEMPLATES else f"d {expr}"
        parts, seen = [], set()
        for position, arg in enumerate(node.args):
            if arg.__class__ is float:
                continue
            uses = sum(1 for a in node.args if a is arg)
            if uses > 1:
                if arg in seen:
                    continue
                seen.add(arg)
                formulas = {self.local_formula(node, p) for p, a in enumerate(node.args) if a is arg}
                if len(formulas) == 1:
                    parts.append(f"{head}/d{self.in_formula(arg)} = {formulas.pop()}, for each of its two "
                                 f"{'factors' if node.op == 'mul' else 'operands'}")
                    continue
                parts.extend(f"{head}/d{self.in_formula(arg)} = {self.local_formula(node, p)} "
                             f"(as operand {p + 1})" for p, a in enumerate(node.args) if a is arg)
                continue
            parts.append(f"{head}/d{self.in_formula(arg)} = {self.local_formula(node, position)}")
        return ", ".join(parts)


def _with_numbers(node: Value, f: Callable[[float], str]) -> str:
    """``node``'s operation over its inputs' values: ``2.0 × (-1.0)``, ``sigmoid(1.0)``."""
    values = [f(a if a.__class__ is float else a.data) for a in node.args]
    if node.op in _TEMPLATES:
        values = [_factor(v) for v in values]
    names = RULES[node.op].inputs
    if node.op == "mul":
        return f"{values[0]} × {values[1]}"
    if node.op in _TEMPLATES:
        return _TEMPLATES[node.op][0].format(**dict(zip(names, values)))
    return f"{RULES[node.op].symbol}({', '.join(values)})"


def _forward_fits(node: Value, f: Callable[[float], str]) -> bool:
    floats = [float(f(a if a.__class__ is float else a.data)) for a in node.args]
    return agrees(_FLOAT_OPS[node.op](*floats), f(node.data))


# ---- the steps -----------------------------------------------------------------------------------------


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
    """The rule in the rule table's terms, ``d(a*b)/da = b``."""
    formula: str
    """The local derivative in the graph's names, ``x0`` for ``w0`` in ``w0*x0``."""
    local: float
    upstream: float
    contribution: float
    """``local * upstream``, computed exactly as ``backward()`` computes it."""
    before: float
    """The parent's gradient in this pass before the ``+=`` (0.0 before its first contribution)."""
    after: float
    """The parent's gradient after the ``+=``."""
    equation: str
    """``w0.grad += x0 × (w0*x0).grad = -1.0 × 0.1966 = -0.1966``."""
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
    """The step as text, without a step number (each view numbers its own frames)."""

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _contribution_text(names: _Names, consumer: Value, parent: Value, position: int, local: float, upstream: float,
                      contribution: float, before: float, after: float, digits: int) -> tuple[str, str]:
    """The ``+=`` line and the ``before → after`` of one contribution, with numbers that add up."""
    formula = names.local_formula(consumer, position)
    factor = formula if re.fullmatch(r"[\w.#]+|\([^()]*\)(\.grad)?", formula) else f"({formula})"
    target = names.in_formula(parent)

    def check(f: Callable[[float], str]) -> bool:
        product = float(f(local)) * float(f(upstream))
        total = float(f(before)) + float(f(contribution))
        return agrees(product, f(contribution)) and agrees(total, f(after))

    f = fit_digits(check, digits, result=contribution)
    equation = (f"{target}.grad += {factor} × {names.in_formula(consumer)}.grad = "
                f"{f(local)} × {_factor(f(upstream))} = {f(contribution)}")
    return equation, f"{target}.grad: {f(before)} → {f(after)}"


def _sum_text(parts: Sequence[float], total: float, digits: int) -> tuple[list[str], str]:
    """The terms and the total of a sum of contributions, printed so that they add up."""
    def check(f: Callable[[float], str]) -> bool:  # added left to right, in floats, as backward() adds them
        return agrees(functools.reduce(operator.add, (float(f(p)) for p in parts)), f(total))

    f = fit_digits(check, digits, anchor=total)
    return [f(p) for p in parts], f(total)


@dataclass
class Trace:
    """Everything the views show about one graph, computed once: see :func:`trace`."""

    root: Value
    order: list[Value]
    """``topological_order(root)``: each node after its inputs."""
    names: _Names
    forward: list[ForwardStep]
    backward: list[BackwardStep]
    """In ``backward()``'s order: ``reversed(order)``."""
    groups: dict[Value, Group | None]
    """Each node's innermost group (``None`` at the top level)."""
    digits: int

    @property
    def index(self) -> dict[Value, int]:
        return self.names.index

    def name(self, node: Value) -> str:
        return self.names.name[node]

    @property
    def grouped(self) -> bool:
        """Whether any node is in a group (then the views step group by group)."""
        return any(g is not None for g in self.groups.values())


def trace(root: Value, *, digits: int = 4) -> Trace:
    """The forward and backward steps of ``root``'s graph, its names and its groups, from one sort.

    >>> from autograd_scalar import Value
    >>> x, w = Value(-1.0, label="x"), Value(2.0, label="w")
    >>> t = trace((x * w).tanh())
    >>> [s.name for s in t.forward], [s.name for s in t.backward]
    (['x', 'w', 'x*w', 'tanh(x*w)'], ['tanh(x*w)', 'x*w', 'w', 'x'])
    """
    _check_root("trace", root)
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"trace: digits must be an int from 1 to 17, got {digits!r}")
    order = topological_order(root)
    groups = find_groups(order)
    hints = {}
    for g, name in _group_names(order, groups).items():  # a neuron's parts by what they are: layers.1.neurons.3.z
        hints.update({node: f"{name}.{role}" for node, role in g.roles.items()})
        if g.output is not None:
            hints[g.output] = name
    names = _Names(order, hints)
    return Trace(root, order, names, _forward_steps(order, names, digits), _backward_steps(order, names, digits),
                 groups, digits)


def _forward_steps(order: list[Value], names: _Names, digits: int) -> list[ForwardStep]:
    steps = []
    for i, node in enumerate(order):
        name = names.name[node]
        if not node.op:
            text = f"{name} = {fmt_num(node.data, digits)}   (input)"
        else:
            expr, _ = names.expression(node)
            head = name if expr == name else f"{name} = {expr}"
            anchor = node.data if node.op in ("add", "sub") else None
            f = fit_digits(lambda f, node=node: _forward_fits(node, f), digits, anchor, node.data) if (
                node.op in _FLOAT_OPS) else (
                lambda x: fmt_num(x, digits))
            text = f"{head} = {_with_numbers(node, f)} = {f(node.data)}"
        steps.append(ForwardStep(i, node, name, text))
    return steps


def _backward_steps(order: list[Value], names: _Names, digits: int) -> list[BackwardStep]:
    root = order[-1]
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
                equation, change = _contribution_text(names, node, arg, position, local, upstream, contribution,
                                                     before, after, digits)
                item = Contribution(node, arg, position, words[position], names.local_formula(node, position), local,
                                    upstream, contribution, before, after, equation, change)
                sent.append(item)
                received.setdefault(arg, []).append(item)
        lines = _step_lines(names, node, upstream, incoming, tuple(sent), digits)
        steps.append(BackwardStep(index, names.index[node], total, node, names.name[node], upstream, incoming,
                                  tuple(sent), tuple(lines)))
    return steps


def _step_lines(names: _Names, node: Value, upstream: float, incoming: Sequence[Contribution],
               sent: Sequence[Any], digits: int, sends: Sequence[tuple[str, str]] | None = None) -> list[str]:
    """The lines of one backward step: what arrived, the rule, and each ``+=`` (``sends`` overrides their text)."""
    name = names.in_formula(node)
    f = lambda x: fmt_num(x, digits)  # noqa: E731
    lines = []
    if not node.op:
        lines.append(f"{names.name[node]} = {f(node.data)} is an input of the graph: "
                     f"{name}.grad = {f(upstream)}, final")
    else:
        lines.append(f"{names.name[node]} = {f(node.data)}: its gradient {name}.grad = {f(upstream)}")
    if not incoming:
        lines.append(f"  {name}.grad = 1.0: the seed, d {name}/d {name} = 1")
    elif len(incoming) > 1:
        consumers: list[Value] = []
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
        terms, shown_total = _sum_text([c.contribution for c in incoming], upstream, digits)
        lines.append(f"  {name}.grad = {' + '.join([terms[0], *map(_factor, terms[1:])])} = {shown_total}: {why}")
    if sent:
        lines.append(f"  rule: {names.rule_line(node)}")
        pairs = list(sends) if sends is not None else [(c.equation, c.change) for c in sent]
        width = max(len(e) for e, _ in pairs)
        lines.extend(f"  {e:<{width}}      {ch}" for e, ch in pairs)
    return lines


def trace_forward(root: Value, *, digits: int = 4) -> list[ForwardStep]:
    """The forward evaluation order (``topological_order``): each node's value and how it was computed.

    >>> from autograd_scalar import Value
    >>> x, w = Value(-1.0, label="x"), Value(2.0, label="w")
    >>> for step in trace_forward((x * w).tanh()):
    ...     print(step)
    x = -1.0   (input)
    w = 2.0   (input)
    x*w = (-1.0) × 2.0 = -2.0
    tanh(x*w) = tanh(-2.0) = -0.9640
    """
    _check_root("trace_forward", root)
    return trace(root, digits=digits).forward


def trace_backward(root: Value, *, apply: bool = False, digits: int = 4) -> list[BackwardStep]:
    """The steps of ``root.backward()``, in its order, without changing any ``.grad``.

    Each step names the node, its upstream gradient and, per input, the rule, the local
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
    steps = trace(root, digits=digits).backward
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


# ---- views: what each drawing shows, frame by frame -------------------------------------------------

Unit = Union[Value, Group]


@dataclass
class Box:
    """One box of a view's drawing: a node, a group shown closed, or (in a group's view) an outside
    node that feeds the group (a *stub*)."""

    key: int
    unit: Unit
    name: str
    kind: str
    """``"node"``, ``"group"`` or ``"stub"``."""
    node: Value
    """The node itself, or the group's output."""
    size: int = 1
    """How many nodes the box stands for."""


@dataclass
class Frame:
    """One step of one view: the text to show, and what changes on the drawing."""

    phase: str
    """``"start"``, ``"forward"`` or ``"backward"``."""
    box: int | None
    head: str
    lines: list[str] = field(default_factory=list)
    sends: list[tuple[str, str]] = field(default_factory=list)
    """``(equation, before → after)`` for each ``+=`` of the step."""
    targets: list[int] = field(default_factory=list)
    datas: list[int] = field(default_factory=list)
    """Boxes whose value is computed at this frame (shown from here on)."""
    grads: list[tuple[int, str, bool]] = field(default_factory=list)
    """``(box, gradient text, final)``: the gradients that change at this frame."""
    group: Group | None = None
    """For a closed group's frame: the group, which a view can open."""
    sum: tuple[str, list[str], str] | None = None
    """For a node that several operations use: ``(name, parts, total)`` of its gradient."""


@dataclass
class View:
    """What one drawing shows: the whole graph (``group`` is ``None``) or the inside of one group."""

    group: Group | None
    title: str
    boxes: list[Box]
    edges: list[tuple[int, int, int]]
    """``(from box, to box, argument slot)``."""
    frames: list[Frame]


NEURON_PARTS = ("a neuron's parts: wx.i = w.i × its input i; sum k = b + wx.0 + ... + wx.(k-1); "
                "z = the whole sum; the neuron's output = its activation of z")


def _group_names(order: Sequence[Value], groups: dict[Value, Group | None]) -> dict[Group, str]:
    """A unique display name for every group of the graph: its path, ``#2`` on a repeat."""
    names: dict[Group, str] = {}
    taken: set[str] = set()
    for node in order:
        g = groups.get(node)
        for h in (g.path if g is not None else ()):
            if h not in names:
                base = shown_text("/".join(x.name for x in h.path))
                name, k = base, 2
                while name in taken:
                    name, k = f"{base}#{k}", k + 1
                names[h] = name
                taken.add(name)
    return names


def build_views(t: Trace, *, max_nodes: int = 500) -> list[View]:
    """The top view and one view per group, with their frames; a view of more than ``max_nodes`` boxes
    is refused (``ValueError``): the limit applies to what is shown, not to the graph.

    In a graph without groups the one view has a box per node, in forward order, and its frames
    are the start, each forward step and each backward step. In a grouped graph a closed group is
    one box and one step each way; its own view shows its nodes and, as *stubs*, the outside nodes
    that feed it.

    >>> from autograd_scalar.examples import mlp_sample
    >>> views = build_views(trace(mlp_sample()[0]))
    >>> len(views), len(views[0].boxes), sum(box.kind == "group" for box in views[0].boxes)
    (34, 37, 33)
    >>> neuron = next(v for v in views if v.title == "inside layers.0.neurons.0")
    >>> [(box.name, box.kind) for box in neuron.boxes][:3]
    [('x0', 'stub'), ('x1', 'stub'), ('layers.0.neurons.0.b', 'node')]
    """
    groups = t.groups
    gname = _group_names(t.order, t.groups)
    parent_of = {g: g.parent for g in gname}
    members: dict[Group | None, list[Value]] = {}
    for node in t.order:
        members.setdefault(groups.get(node), []).append(node)
    children: dict[Group | None, list[Group]] = {}
    for g in gname:  # in forward order of first appearance
        children.setdefault(parent_of[g], []).append(g)
    consumers: dict[Value, list[Value]] = {}
    for node in t.order:
        for a in node.parents:
            consumers.setdefault(a, []).append(node)
    steps = {s.node: s for s in t.backward}
    position = {s.node: s.index for s in t.backward}

    def inside(node: Value, g: Group | None) -> bool:
        return g is None or (groups.get(node) is not None and g in groups[node].path)

    def unit_of(node: Value, g: Group | None) -> Unit:
        h = groups.get(node)
        if h is g:
            return node
        path = h.path
        return path[path.index(g) + 1] if g is not None else path[0]

    all_nodes: dict[Group, list[Value]] = {}
    for node in t.order:
        h = groups.get(node)
        for x in (h.path if h is not None else ()):
            all_nodes.setdefault(x, []).append(node)

    def outputs(g: Group) -> list[Value]:
        nodes = all_nodes[g]
        outs = [v for v in nodes if v is t.root or any(not inside(c, g) for c in consumers.get(v, ()))]
        return outs or nodes[-1:]

    def units(g: Group | None) -> list[Unit]:
        return [*members.get(g, []), *children.get(g, [])]

    def schedule(g: Group | None, key: Callable[[Value], int], backward: bool) -> list[Unit]:
        """The units of view ``g`` in an order that respects the graph (Kahn), ties by ``key``."""
        us = units(g)
        first = {u: (key(u) if isinstance(u, Value) else min(map(key, all_nodes[u]))) for u in us}
        deps: dict[Unit, set[Unit]] = {u: set() for u in us}
        for u in us:
            for v in ([u] if isinstance(u, Value) else all_nodes[u]):
                for a in v.parents:
                    if inside(a, g):
                        w = unit_of(a, g)
                        if w is not u:
                            if backward:
                                deps[w].add(u)
                            else:
                                deps[u].add(w)
        waiting = {u: len(d) for u, d in deps.items()}
        users: dict[Unit, list[Unit]] = {u: [] for u in us}
        for u, d in deps.items():
            for w in d:
                users[w].append(u)
        ready = [(first[u], i, u) for i, u in enumerate(us) if not waiting[u]]
        heapq.heapify(ready)
        out: list[Unit] = []
        counter = len(us)
        while ready:
            _, _, u = heapq.heappop(ready)
            out.append(u)
            for w in users[u]:
                waiting[w] -= 1
                if not waiting[w]:
                    counter += 1
                    heapq.heappush(ready, (first[w], counter, w))
        return out

    # The backward schedule of the whole graph, group by group; gradients so far along it.
    def flat(g: Group | None) -> list[Value]:
        order: list[Value] = []
        for u in schedule(g, position.__getitem__, True):
            order.extend([u] if isinstance(u, Value) else flat(u))
        return order

    running: dict[Value, float] = {t.root: 1.0}
    shown: dict[int, tuple[float, float]] = {}  # id(contribution) -> (before, after) along the schedule
    at_start: dict[Group, dict[Value, float]] = {}
    at_end: dict[Group, dict[Value, float]] = {}
    starts: dict[Value, list[Group]] = {}
    ends: dict[Value, list[Group]] = {}
    sched = flat(None)
    for g in gname:
        nodes = set(all_nodes[g])
        mine = [v for v in sched if v in nodes]
        starts.setdefault(mine[0], []).append(g)
        ends.setdefault(mine[-1], []).append(g)
    for node in sched:
        for g in starts.get(node, ()):
            at_start[g] = dict(running)
        for c in steps[node].contributions:
            before = running.get(c.parent, 0.0)
            after = running[c.parent] + c.contribution if c.parent in running else c.contribution
            running[c.parent] = after
            shown[id(c)] = (before, after)
        for g in ends.get(node, ()):
            at_end[g] = dict(running)

    views = []
    for g in [None, *gname]:
        views.append(_view(t, g, gname, units(g), schedule, unit_of, inside, outputs, all_nodes, consumers,
                           steps, shown, at_start, at_end, max_nodes))
    return views


def _view(t: Trace, g: Group | None, gname: dict[Group, str], us: list[Unit], schedule: Callable, unit_of: Callable,
          inside: Callable, outputs: Callable, all_nodes: dict[Group, list[Value]],
          consumers: dict[Value, list[Value]], steps: dict[Value, BackwardStep], shown: dict[int, tuple[float, float]],
          at_start: dict[Group, dict[Value, float]], at_end: dict[Group, dict[Value, float]], max_nodes: int) -> View:
    names, digits = t.names, t.digits
    f = lambda x: fmt_num(x, digits)  # noqa: E731
    forward_order = schedule(g, t.index.__getitem__, False)
    # stubs: outside nodes feeding the group, in forward order
    stubs: list[Value] = []
    if g is not None:
        seen: set[Value] = set()
        for v in all_nodes[g]:
            for a in v.parents:
                if not inside(a, g) and a not in seen:
                    seen.add(a)
                    stubs.append(a)
        stubs.sort(key=t.index.__getitem__)
    boxes: list[Box] = []
    key: dict[Unit, int] = {}
    for a in stubs:
        key[a] = len(boxes)
        boxes.append(Box(len(boxes), a, names.name[a], "stub", a))
    for u in forward_order:
        key[u] = len(boxes)
        if isinstance(u, Value):
            boxes.append(Box(len(boxes), u, names.name[u], "node", u))
        else:
            boxes.append(Box(len(boxes), u, gname[u], "group", outputs(u)[-1], len(all_nodes[u])))
    title = "the whole graph" if g is None else f"inside {gname[g]}"
    if len(boxes) > max_nodes:
        raise ValueError(f"step-through: {title} would show {len(boxes)} boxes, more than max_nodes={max_nodes}; "
                         "group the graph (with autograd_scalar.scope(name): ...) or pass a larger max_nodes")

    def box_of(node: Value) -> int | None:
        if inside(node, g):
            return key[unit_of(node, g)]
        return key.get(node)

    edges: list[tuple[int, int, int]] = []
    seen_edges: set[tuple[int, int]] = set()
    for u in forward_order:
        nodes = [u] if isinstance(u, Value) else all_nodes[u]
        for v in nodes:
            for slot, a in enumerate(v.args):
                if a.__class__ is float:
                    continue
                source = box_of(a)
                if source is None or source == key[u] or (source, key[u]) in seen_edges:
                    continue
                if not isinstance(u, Value):
                    seen_edges.add((source, key[u]))
                    slot = sum(1 for s, d in seen_edges if d == key[u]) - 1
                edges.append((source, key[u], slot))

    n_nodes = sum(b.size for b in boxes if b.kind != "stub")
    frames = [Frame("start", None, f"{title}: {len(boxes)} boxes standing for {n_nodes} nodes"
                    if any(b.kind == "group" for b in boxes) else f"{title}: {n_nodes} nodes",
                    datas=[key[a] for a in stubs])]
    for u in forward_order:
        b = key[u]
        if isinstance(u, Value):
            step = t.forward[t.index[u]]
            frames.append(Frame("forward", b, "an input" if not u.op else "compute", [step.text], datas=[b]))
        else:
            outs = outputs(u)
            lines = [f"{names.name[o]} = {f(o.data)}" for o in outs] + ([NEURON_PARTS] if u.roles else [])
            frames.append(Frame("forward", b, f"the group {gname[u]} computes its {len(all_nodes[u])} nodes", lines,
                                datas=[b], group=u))
    backward_order = schedule(g, {s.node: s.index for s in t.backward}.__getitem__, True)
    first_backward = len(frames)
    for u in backward_order:
        b = key[u]
        if isinstance(u, Value):
            frames.append(_node_frame(t, steps[u], b, box_of, shown, g, gname))
        else:
            frames.append(_group_frame(t, u, b, box_of, outputs(u), all_nodes[u], steps, shown, at_start, at_end,
                                       gname))
    if g is not None and first_backward < len(frames):  # what has arrived from outside when the group starts
        start = at_start[g]
        arrived = [(box_of(v), f(start[v]), False) for v in [*stubs, *all_nodes[g]] if v in start]
        frames[first_backward].grads[:0] = [(k, text, final) for k, text, final in arrived if k is not None]
    return View(g, title, boxes, edges, frames)


def _node_frame(t: Trace, step: BackwardStep, b: int, box_of: Callable, shown: dict[int, tuple[float, float]],
                g: Group | None, gname: dict[Group, str]) -> Frame:
    names, digits = t.names, t.digits
    f = lambda x: fmt_num(x, digits)  # noqa: E731
    sends, targets, grads = [], [], [(b, f(step.upstream), True)]
    for c in step.contributions:
        before, after = shown[id(c)]
        sends.append(_contribution_text(names, c.consumer, c.parent, c.position, c.local, c.upstream, c.contribution,
                                       before, after, digits))
        k = box_of(c.parent)
        if k is not None:
            targets.append(k)
            grads.append((k, f(after), False))
    lines = _step_lines(names, step.node, step.upstream, step.incoming, step.contributions, digits, sends)
    total = None
    if len(step.incoming) > 1:
        terms, shown_total = _sum_text([c.contribution for c in step.incoming], step.upstream, digits)
        by = [names.name[c.consumer] for c in step.incoming]
        total = (names.in_formula(step.node), [f"{p} from {who}" for p, who in zip(terms, by)], shown_total)
    return Frame("backward", b, lines[0], [line.strip() for line in lines[1:len(lines) - len(sends)]], sends,
                 targets, [], grads, None, total)


def _group_frame(t: Trace, g: Group, b: int, box_of: Callable, outs: list[Value], nodes: list[Value],
                 steps: dict[Value, BackwardStep], shown: dict[int, tuple[float, float]],
                 at_start: dict[Group, dict[Value, float]], at_end: dict[Group, dict[Value, float]],
                 gname: dict[Group, str]) -> Frame:
    names, digits = t.names, t.digits
    f = lambda x: fmt_num(x, digits)  # noqa: E731
    inner = set(nodes)
    out_text = ", ".join(f"{names.in_formula(o)}.grad = {f(steps[o].upstream)}" for o in outs)
    head = f"the group {gname[g]} ({len(nodes)} nodes): the gradient at its output has arrived, {out_text}"
    sent: dict[Value, list[float]] = {}
    for v in nodes:
        for c in steps[v].contributions:
            if c.parent not in inner:
                sent.setdefault(c.parent, []).append(c.contribution)
    start, end = at_start[g], at_end[g]
    sends, targets, grads = [], [], [(b, f(steps[outs[-1]].upstream), True)]
    for p in sent:
        before, after = start.get(p, 0.0), end[p]
        part = after - before  # what the group's steps added, together (the sum of its parts, in floats)

        def check(h: Callable[[float], str], before: float = before, part: float = part, after: float = after) -> bool:
            return agrees(float(h(before)) + float(h(part)), h(after))

        h = fit_digits(check, digits, anchor=after)
        target = names.in_formula(p)
        sends.append((f"{target}.grad += {h(part)}", f"{target}.grad: {h(before)} → {h(after)}"))
        k = box_of(p)
        if k is not None:
            targets.append(k)
            grads.append((k, f(after), False))
    prefix = gname[g] + "."
    params = [v for v in nodes if not v.op]
    lines = [f"inside, {len(nodes)} steps pass it back node by node (open the group to see each); "
             "each input outside the group receives the sum of the parts its uses inside send"]
    if g.roles:
        lines.append(NEURON_PARTS)
    if params:
        shown_params = ", ".join(f"{names.name[v].removeprefix(prefix)}.grad = {f(steps[v].upstream)}"
                                 for v in params[:6])
        more = f", and {len(params) - 6} more" if len(params) > 6 else ""
        what = "its weights and bias" if g.roles else "the leaves inside it"
        lines.append(f"{what} ({len(params)}), final: {shown_params}{more}")
        grads.extend((box_of(v), f(steps[v].upstream), True) for v in params if box_of(v) not in (None, b))
    return Frame("backward", b, head, lines, sends, targets, [], grads, g)


# ---- the text view ---------------------------------------------------------------------------------------


def format_transcript(root: Value, *, naive: bool = False, digits: int = 4, title: str | None = None,
                      max_nodes: int = 500) -> str:
    """The whole step-through as plain text: the forward pass, then every backward step.

    What ``autograd-scalar step`` prints when its output is not a terminal, ready to paste into
    a forum answer. In a grouped graph (see :mod:`autograd_scalar.scopes`) each group is one step,
    and the steps inside each group follow, group by group. ``naive=True`` appends the naive
    recursive pass (see :func:`naive_backward`).

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
    Step 1 of 2: tanh(x) = 0.4621: its gradient (tanh(x)).grad = 1.0
      (tanh(x)).grad = 1.0: the seed, d (tanh(x))/d (tanh(x)) = 1
      rule: d tanh(x)/dx = 1 - (tanh(x))**2
      x.grad += (1 - (tanh(x))**2) × (tanh(x)).grad = 0.7864 × 1.0 = 0.7864      x.grad: 0.0 → 0.7864
    <BLANKLINE>
    Step 2 of 2: x = 0.5 is an input of the graph: x.grad = 0.7864, final
    """
    t = trace(root, digits=digits)
    views = build_views(t, max_nodes=max_nodes)
    parts = [title or f"Backpropagation through {t.name(root)}", ""]
    for view in views:
        if view.group is not None:
            parts += ["", "", f"Inside the group {view.title.removeprefix('inside ')}"]
        parts += _view_text(view)
    if naive:
        parts += ["", "", format_naive(naive_backward(root), digits)]
    return "\n".join(parts)


def _frame_lines(frame: Frame) -> list[str]:
    """One backward frame as text lines: its head, what it explains, and each ``+=``."""
    lines = [frame.head, *("  " + line for line in frame.lines)]
    if frame.sends:
        width = max(len(e) for e, _ in frame.sends)
        lines += [f"  {e:<{width}}      {ch}" for e, ch in frame.sends]
    return lines


def _view_text(view: View) -> list[str]:
    """A view as plain text: its forward pass as a list, then its backward frames numbered ``Step k of n``."""
    forward = [fr for fr in view.frames if fr.phase == "forward"]
    backward = [fr for fr in view.frames if fr.phase == "backward"]
    out = ["Forward pass (topological order: each node after its inputs)"]
    for fr in forward:
        out += ["  " + line for line in (fr.lines if fr.group is None else [f"{fr.head}: {', '.join(fr.lines)}"])]
    out += ["", "Backward pass (reverse topological order: each node after all its consumers)"]
    for k, fr in enumerate(backward, 1):
        if k > 1:
            out.append("")
        lines = _frame_lines(fr)
        out += [f"Step {k} of {len(backward)}: {lines[0]}", *lines[1:]]
    return out
