"""Build a graph from an expression string, such as ``"tanh(x*w + b)"``, without ``eval``.

The text is parsed by Python's own parser into a syntax tree (``ast.parse``: no code is compiled
or run), and only a whitelist of tree nodes is accepted:

- numbers (``2``, ``-1.5``, ``1e-3``) and names (``x``, ``w0``); each name becomes one leaf
  ``Value`` labelled with the name, and a name used twice is the same node;
- the operators ``+ - * / **`` and unary ``-`` (and ``+``);
- calls of one argument to ``exp log tanh sigmoid relu sqrt abs``.

Anything else (attribute access, subscripts, other calls, keyword arguments, lambdas,
comprehensions, strings, comparisons, ``:=`` ...) is a ``ValueError`` naming what was rejected.
So is any character outside ASCII, named with its Unicode name: Python would read a fullwidth
``ｅｘｐ(ｘ)`` as ``exp(x)``, and accept a Cyrillic ``х`` as a second name that looks like ``x``.
Arithmetic is done by the engine on floats, so no input can make it hang: ``9**9**9**9``
overflows at once and is reported as a ``ValueError`` too, as is a value too large for a float
(``10**400``).
"""

from __future__ import annotations

import ast
import keyword
import math
import unicodedata
import warnings
from collections.abc import Mapping

from .engine import Value

MAX_LENGTH = 2000
"""The longest expression accepted, in characters (enough for a few hundred operations)."""

FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "sqrt", "abs")
"""The functions an expression may call, each with one argument."""

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
_OTHER_OPERATORS = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not",
}  # fmt: skip
_REJECTED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and' / 'or'",
    ast.IfExp: "'if ... else'",
    ast.Tuple: "tuples",
    ast.List: "lists",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}
_ALLOWED = "numbers, names, + - * / **, unary -, and calls of " + ", ".join(FUNCTIONS)


def parse_expression(text: str, values: Mapping[str, float] | None = None) -> tuple[Value, dict[str, Value]]:
    """The graph of ``text``, and its leaves by name, with ``values`` giving each name's value.

    Returns ``(root, {name: leaf})``, the leaves in order of first appearance. Nothing is
    differentiated yet. Every name needs a value, and every value a name; plain numbers stay
    constants of their operation (``x*3`` has one leaf), and an operation on numbers alone is
    folded (``2*3*x`` is ``6*x``).

    >>> root, leaves = parse_expression("tanh(x*w + b)", {"x": 1, "w": 2, "b": -1})
    >>> round(root.data, 4), list(leaves), leaves["w"].label
    (0.7616, ['x', 'w', 'b'], 'w')
    >>> parse_expression("__import__('os')", {})
    Traceback (most recent call last):
    ...
    ValueError: parse_expression: cannot call '__import__'; the functions are exp, log, tanh, sigmoid, relu, sqrt, abs
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_expression: expected the expression as a str, got {text!r}")
    if len(text) > MAX_LENGTH:
        raise ValueError(
            f"parse_expression: the expression is {len(text)} characters long; at most {MAX_LENGTH} are accepted"
        )
    source = text.strip()
    if not source:
        raise ValueError("parse_expression: the expression is empty")
    _check_ascii("parse_expression", source)
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" for 1if: the error below says it
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as error:
        reason = error.msg if isinstance(error, SyntaxError) else "nested too deeply"
        raise ValueError(f"parse_expression: {_shorten(source)!r} is not a valid expression: {reason}") from None

    names = _check(tree, source)
    leaves = _leaves(names, values)
    return _evaluate(tree.body, source, leaves), leaves


def _check_ascii(where: str, text: str) -> None:
    """Refuse any character outside ASCII, naming it (Python folds fullwidth letters into ASCII)."""
    for position, character in enumerate(text):
        if ord(character) > 127:
            name = unicodedata.name(character, f"U+{ord(character):04X}")
            raise ValueError(
                f"{where}: {character!r} ({name}) at position {position} is not ASCII; "
                f"write names, numbers and operators in ASCII, as in 'exp(x) * 2'"
            )


def _check(tree: ast.Expression, source: str) -> list[str]:
    """Reject every syntax-tree node outside the whitelist; return the variable names, in order."""
    function_nodes = set()
    found: dict[str, tuple[int, int]] = {}
    for node in ast.walk(tree):  # breadth first, so a Call is seen before its function name
        if isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load)) or type(node) in _BINARY:
            continue
        if type(node) in _UNARY:
            continue
        if type(node) in _OTHER_OPERATORS:
            raise ValueError(
                f"parse_expression: the operator {_OTHER_OPERATORS[type(node)]!r} is not supported; "
                f"allowed are {_ALLOWED}"
            )
        shown = _segment(source, node)
        if isinstance(node, ast.Call):
            _check_call(node, shown)
            function_nodes.add(node.func)
        elif isinstance(node, ast.Name):
            if node in function_nodes:
                continue
            if node.id in FUNCTIONS:
                raise ValueError(f"parse_expression: {node.id!r} is a function; call it, as in {node.id + '(x)'!r}")
            found.setdefault(node.id, (node.lineno, node.col_offset))
        elif isinstance(node, ast.Constant):
            _number(node.value, shown)
        else:
            what = _REJECTED.get(type(node), type(node).__name__)
            raise ValueError(f"parse_expression: {what} not allowed: {shown!r}; allowed are {_ALLOWED}")
    return sorted(found, key=found.__getitem__)


def _shorten(text: str, limit: int = 60) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis, for error messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _segment(source: str, node: ast.AST) -> str:
    """The (shortened) source text of ``node``, to show in an error."""
    return _shorten(ast.get_source_segment(source, node) or "")


def _check_call(node: ast.Call, shown: str) -> None:
    if not isinstance(node.func, ast.Name):
        what = _REJECTED.get(type(node.func), "this call")
        raise ValueError(f"parse_expression: {what} not allowed: {shown!r}; allowed are {_ALLOWED}")
    name = node.func.id
    if name not in FUNCTIONS:
        raise ValueError(f"parse_expression: cannot call {name!r}; the functions are {', '.join(FUNCTIONS)}")
    if node.keywords:
        raise ValueError(f"parse_expression: keyword arguments not allowed: {shown!r}")
    if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
        raise ValueError(f"parse_expression: {name} takes exactly one argument: {shown!r}")


def _number(value: object, shown: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "strings" if isinstance(value, (str, bytes)) else type(value).__name__
        raise ValueError(f"parse_expression: {kind} not allowed: {shown!r}; allowed are {_ALLOWED}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"parse_expression: the number {shown!r} is too large for a float")
    return number


def _leaves(names: list[str], values: Mapping[str, float] | None) -> dict[str, Value]:
    values = {} if values is None else values
    missing = [name for name in names if name not in values]
    if missing:
        raise ValueError(f"parse_expression: no value given for {', '.join(map(repr, missing))}")
    unused = [name for name in values if name not in names]
    if unused:
        raise ValueError(f"parse_expression: values given for names not in the expression: {unused!r}")
    leaves = {}
    for name in names:
        try:
            leaves[name] = Value(values[name], label=name)
        except (TypeError, ValueError) as error:
            raise type(error)(f"parse_expression: the value of {name!r}: {error}") from None
        except OverflowError:  # an int such as 10**400, from an engine that does not say so itself
            raise ValueError(
                f"parse_expression: the value of {name!r} is {_shorten(repr(values[name]))}, too large for a float"
            ) from None
    return leaves


def _evaluate(body: ast.expr, source: str, leaves: dict[str, Value]) -> Value:
    """Compute the checked tree bottom up, without recursion (deep nesting is fine)."""
    results: list[Value | float] = []
    stack: list[tuple[ast.expr, bool]] = [(body, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children and not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        args = results[len(results) - len(children) :]
        del results[len(results) - len(children) :]
        try:
            results.append(_apply(node, args, leaves))
        except (ArithmeticError, ValueError) as error:
            raise ValueError(f"parse_expression: cannot compute {_segment(source, node)!r}: {error}") from error
    (root,) = results
    if not isinstance(root, Value):
        raise ValueError(f"parse_expression: {_shorten(source)!r} has no names, so there is nothing to differentiate")
    return root


def _children(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return [node.args[0]]
    return []


def _apply(node: ast.expr, args: list, leaves: dict[str, Value]) -> Value | float:
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.Constant):
        return _number(node.value, repr(node.value))
    if isinstance(node, ast.UnaryOp):
        (x,) = args
        return -x if isinstance(node.op, ast.USub) else x
    if isinstance(node, ast.Call):
        (x,) = args
        folded = not isinstance(x, Value)
        target = Value(x) if folded else x
        result = abs(target) if node.func.id == "abs" else getattr(target, node.func.id)()
        return result.data if folded else result
    a, b = args
    folded = not isinstance(a, Value) and not isinstance(b, Value)
    if folded:
        a = Value(a)  # numbers alone: let the engine compute them, with its checks
    op = type(node.op)
    if op is ast.Add:
        result = a + b
    elif op is ast.Sub:
        result = a - b
    elif op is ast.Mult:
        result = a * b
    elif op is ast.Div:
        result = a / b
    else:
        result = a**b
    return result.data if folded else result


def parse_assignments(text: str) -> dict[str, float]:
    """``"x=1,w=2,b=-1"`` as ``{"x": 1.0, "w": 2.0, "b": -1.0}``: the values of a ``--set`` option.

    Spaces around names and numbers are ignored; every number must be finite and every name a
    valid identifier, given once.

    >>> parse_assignments("x=1, w=2.5, b=-1e-3")
    {'x': 1.0, 'w': 2.5, 'b': -0.001}
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_assignments: expected a str like 'x=1,w=2', got {text!r}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"parse_assignments: the text is {len(text)} characters long; at most {MAX_LENGTH}")
    result: dict[str, float] = {}
    if not text.strip():
        return result
    _check_ascii("parse_assignments", text)  # float() reads '٣' as 3, and 'х' is not 'x'
    for item in text.split(","):
        name, equals, number = item.partition("=")
        name, number = name.strip(), number.strip()
        if not equals:
            raise ValueError(f"parse_assignments: expected name=number, got {item.strip()!r}")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"parse_assignments: {name!r} is not a valid name (in {item.strip()!r})")
        if name in result:
            raise ValueError(f"parse_assignments: {name!r} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"parse_assignments: {number!r} is not a number (in {item.strip()!r})") from None
        if not math.isfinite(value):
            raise ValueError(f"parse_assignments: {name!r} must be a finite number, got {number!r}")
        result[name] = value
    return result
