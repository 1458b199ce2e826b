"""The compiled path: trace a function once, write its forward and backward pass out as Python.

``compile(fn)`` runs ``fn`` once on ``Value`` inputs, records the graph it builds, and writes that
graph out as straight-line Python: forward lines, then the backward lines that the interpreter's
walk would perform, in the same order, with the same float operations. The result is compiled
once with the built-in ``compile`` and called many times::

    >>> import autograd_scalar as ag
    >>> from autograd_scalar import Value
    >>> w = Value(2.0, label="w")
    >>> cf = ag.compile(lambda x: (w * x).tanh())
    >>> cf(0.5) == (w * 0.5).tanh().data
    True
    >>> w.grad == 0.5 * (1 - cf(0.5) ** 2)          # d/dw tanh(w x) = x (1 - tanh**2); .grad held one call
    True
    >>> print(cf.source.splitlines()[0])
    def compiled(_cols, _n, _u, _P, _outs, _aux):

Why results are bit for bit the interpreter's: the backward lines follow ``backward()``'s order
(the reverse of ``topological_order``), a node's gradient is the running sum of its contributions
``local * upstream`` in that order, and each local derivative is the rule's own formula from
``rules.RULES``. Over a batch (``cf.mean``, ``cf.sum``) samples run last to first, which is the
order in which ``backward()`` of ``sum(...)`` reaches them.

What stays Python, checked at every call: the shape of the arguments, and the outcome of every
comparison ``< <= > >=`` made on a Value while tracing (the guards: the only way data can change
the graph's shape). A guard that fails traces the function again and keeps the variant (at most
``MAX_VARIANTS``); past that, and on any error or non-finite number, the call runs on the
interpreter, which gives its own result or its own error. Nothing is ever silently different.
"""

from __future__ import annotations

import builtins
import keyword
import math
import numbers
import time
from collections.abc import Callable, Sequence
from typing import Any

from . import engine
from .engine import Value, describe, topological_order
from .rules import RULES

MAX_VARIANTS = 8
"""How many traces (one per combination of guard outcomes) a compiled function keeps."""

_MATH = {"exp": math.exp, "log": math.log, "tanh": math.tanh, "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos}
_ATOM, _POW, _UNARY, _MUL, _ADD, _COND = 6, 4, 3, 2, 1, 0
_MAX_INLINE_DEPTH = 40  # deeper expressions are named: Python's compiler recurses on nesting


class _Miss(Exception):
    """A guard failed for sample ``index``: no variant fits it yet."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class _Interpret(Exception):
    """Something the interpreter decides about turned up: an int or a bool input, an infinity, a nan."""


def _pow(op: str, a: float, b: float) -> float:
    """``a ** b`` with the interpreter's domain checks (a negative base needs an integer exponent)."""
    if a < 0.0 and b != int(b):
        raise ValueError(f"{op}: negative base {a!r} with non-integer exponent {b!r}")
    if a == 0.0 and b < 0.0:
        raise ZeroDivisionError(f"{op}: zero base with negative exponent {b!r}")
    return a**b


_NAMESPACE: dict[str, Any] = {
    "__builtins__": {"range": range, "abs": abs, "float": float},
    **_MATH,
    "_inf": math.inf,
    "_pow": _pow,
    "_Miss": _Miss,
    "_Interpret": _Interpret,
    "_ONCE": (None,),
}
_RESERVED = set(_NAMESPACE) | set(dir(builtins)) | {"math"}


def _safe(name: str) -> bool:
    """A label usable as a local name as it is: ASCII, an identifier, no keyword, nothing of ours."""
    return (
        name.isascii() and name.isidentifier() and not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
        and not name.startswith("_") and name not in _RESERVED
    )


class _Names:
    """Local names: labels where they are safe and free, otherwise made up (``x0``, ``mul3``)."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = set() if taken is None else set(taken)
        self.counters: dict[str, int] = {}

    def take(self, preferred: str, prefix: str) -> str:
        if _safe(preferred) and preferred not in self.taken:
            self.taken.add(preferred)
            return preferred
        return self.fresh(prefix)

    def fresh(self, prefix: str) -> str:
        k = self.counters.get(prefix, 0)
        while f"{prefix}{k}" in self.taken:
            k += 1
        self.counters[prefix] = k + 1
        self.taken.add(f"{prefix}{k}")
        return f"{prefix}{k}"


# ---- the shape of the arguments --------------------------------------------------------------


def _shape_of(where: str, x: Any) -> Any:
    """``"n"`` for a number, ``"v"`` for a leaf Value, ``(list|tuple, (shapes...))`` for a sequence."""
    if isinstance(x, Value):
        if x.op:
            raise TypeError(f"compile: {where} is a Value made by an operation ({describe(x)}); "
                            "pass leaf Values or numbers")
        return "v"
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_shape_of(f"{where}[{i}]", e) for i, e in enumerate(x)))
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return "n"
    raise TypeError(f"compile: {where} must be a number, a Value or a list/tuple of them, got {x!r}")


def _show_shape(shape: Any) -> str:
    if shape == "n":
        return "a number"
    if shape == "v":
        return "a Value"
    kind, items = shape
    if items and all(s == "n" for s in items):
        return f"a {kind} of {len(items)} numbers"
    return f"a {kind} of [{', '.join(_show_shape(s) for s in items)}]"


def _flat(x: Any, shape: Any, out: list) -> None:
    if shape in ("n", "v"):
        out.append(x)
    else:
        for e, s in zip(x, shape[1]):
            _flat(e, s, out)


def _check_sample(x: Any, shape: Any) -> bool:
    """Whether ``x`` has ``shape`` with every number a finite float (False: ints, nan, bools...).

    Raises TypeError when the structure differs (the caller names what was expected)."""
    if shape == "n":
        if x.__class__ is float:
            return -math.inf < x < math.inf
        if isinstance(x, (list, tuple, Value)):
            raise TypeError
        return False
    if shape == "v":
        if not isinstance(x, Value):
            raise TypeError
        return True
    kind, items = shape
    if not isinstance(x, (list, tuple)) or len(x) != len(items):
        raise TypeError
    ok = True
    for e, s in zip(x, items):
        ok = _check_sample(e, s) and ok
    return ok


# ---- tracing -----------------------------------------------------------------------------------


class _Trace:
    """One run of ``fn`` on Value inputs: the nodes it made, its guards, its output."""

    def __init__(self, fn: Callable[..., Any], shapes: tuple, args: Sequence[Any], names: Sequence[str],
                 aux: bool) -> None:
        self.slots: list[Value] = []
        self.slot_kinds: list[str] = []
        self.slot_names: list[str] = []
        built = [self._build(a, s, names[k] if k < len(names) else f"x{k}", "") for k, (a, s) in
                 enumerate(zip(args, shapes))]
        self.created: list[Value] = []
        self.guards: list[tuple[int, str, Value, Any, bool]] = []
        created, guards = self.created, self.guards
        leaves: dict[int, tuple[Value, float]] = {}  # each leaf's .grad when fn first used it

        def made(node: Value) -> Value:
            created.append(node)
            for a in (node._a, node._b):
                if a.__class__ is not float and a is not None and not a.op and id(a) not in leaves:
                    leaves[id(a)] = (a, a.grad)
            return node

        def compared(op: str, value: Value, other: Any, outcome: bool) -> None:
            guards.append((len(created), op, value, other, outcome))

        result = _run_traced(fn, built, made, compared)
        if any(leaf.grad != grad for leaf, grad in leaves.values()):
            raise TypeError(f"compile: {_name(fn)} changed a .grad while traced; the compiled code adds "
                            "gradients itself, after the forward pass")
        if aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError("compile: internal: fn must return (loss, outputs)")
            result, extra = result
            self.aux_is_value = isinstance(extra, Value)
            self.aux = [extra] if self.aux_is_value else list(extra)
        else:
            self.aux_is_value, self.aux = False, []
        if not isinstance(result, Value):
            raise TypeError(f"compile: {_name(fn)} must return one Value (a per-sample loss, say), "
                            f"got {_type(result)}")
        self.output = result
        self.created_ids = {id(n): i for i, n in enumerate(created)}
        if id(result) not in self.created_ids:
            raise TypeError(f"compile: {_name(fn)} must return a Value it computes, got "
                            f"{describe(result)}, which it did not make")

    def _build(self, x: Any, shape: Any, name: str, suffix: str) -> Any:
        if shape in ("n", "v"):
            slot = Value(float(x.data if shape == "v" else x), label=x.label if shape == "v" else "")
            self.slots.append(slot)
            self.slot_kinds.append(shape)
            self.slot_names.append(slot.label if _safe(slot.label) else name + suffix)
            return slot
        kind, items = shape
        made = [self._build(e, s, name, f"{suffix}{i}" if not suffix else f"{suffix}_{i}")
                for i, (e, s) in enumerate(zip(x, items))]
        return made if kind == "list" else tuple(made)

    def fingerprint(self) -> list:
        """The graph as ops, argument references and constants: equal for equal graphs."""
        slot_ids = {id(s): k for k, s in enumerate(self.slots)}

        def ref(x: Any) -> Any:
            if x.__class__ is float:
                return ("c", x)
            if id(x) in self.created_ids:
                return ("n", self.created_ids[id(x)])
            if id(x) in slot_ids:
                return ("s", slot_ids[id(x)])
            return ("p", id(x), x.data)

        nodes = [(n.op, tuple(ref(a) for a in n.args)) for n in self.created]
        guards = [(pos, op, ref(v), ref(o) if isinstance(o, Value) else ("c", float(o)), out)
                  for pos, op, v, o, out in self.guards]
        return [nodes, guards, ref(self.output), [ref(a) for a in self.aux]]


def _run_traced(fn: Callable[..., Any], args: list, made: Callable, compared: Callable) -> Any:
    # While fn runs, this thread holds the sort lock as if inside a backward pass, so a backward()
    # or grad() inside fn fails at once instead of writing .grad during a trace.
    me = engine._thread.get_ident()
    if engine._sorting_thread == me:
        raise RuntimeError("compile: called from inside a backward pass")
    with engine._sorting:
        engine._sorting_thread = me
        try:
            with engine._hooked(make=made, compare=compared):
                return fn(*args)
        except RuntimeError as error:
            if "inside a backward pass" in str(error):
                raise TypeError(
                    f"compile: {_name(fn)} calls backward() or grad() while it is traced; compile the "
                    "function whose gradient you want (higher order, create_graph=True, is not compiled)"
                ) from None
            raise
        finally:
            engine._sorting_thread = None


def _same(a: list, b: list) -> bool:
    """Whether two fingerprints agree, counting leaves made inside fn by the number they hold."""

    def norm(x: Any) -> Any:
        if isinstance(x, tuple) and x and x[0] == "p":
            return ("p", x[2])
        if isinstance(x, tuple):
            return tuple(norm(e) for e in x)
        if isinstance(x, list):
            return [norm(e) for e in x]
        return x

    return norm(a) == norm(b)


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _type(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)}"
    return f"{x!r} ({type(x).__name__})"


# ---- code generation ---------------------------------------------------------------------------


def _const(x: float) -> tuple[str, int]:
    text = repr(float(x))
    return text, (_UNARY if text.startswith("-") else _ATOM)


def _wrap(expr: tuple[str, int], needed: int) -> str:
    return expr[0] if expr[1] >= needed else f"({expr[0]})"


def _binary(left: tuple[str, int], sym: str, right: tuple[str, int], prec: int) -> tuple[str, int]:
    return f"{_wrap(left, prec)} {sym} {_wrap(right, prec + 1)}", prec


_READS: dict[str, tuple[frozenset[int], bool]] = {
    "add": (frozenset(), False), "sub": (frozenset(), False), "neg": (frozenset(), False),
    "mul": (frozenset({0, 1}), False), "div": (frozenset({1}), True), "exp": (frozenset(), True),
    "log": (frozenset({0}), False), "tanh": (frozenset(), True), "sigmoid": (frozenset({0}), True),
    "relu": (frozenset({0}), False), "sqrt": (frozenset(), True), "abs": (frozenset({0}), False),
    "sin": (frozenset({0}), False), "cos": (frozenset({0}), False),
}  # fmt: skip
"""Which arguments (by position) each op's backward line reads, and whether it reads the output."""


def _reads(op: str, n_args: int) -> tuple[frozenset[int], bool]:
    return _READS.get(op) or (frozenset(range(n_args)), True)  # any other op: its rule, called on everything


_FORWARD_TWICE = {"sigmoid", "relu"}  # their forward line reads the input twice
_MASKING = {"tanh", "sigmoid", "relu", "exp", "div", "pow", "rpow", "vpow"}  # finite out of an infinity
_MAY_OVERFLOW = {"add", "sub", "mul", "div"}  # the only built-ins whose float result can be inf silently


class _Variant:
    """The code of one trace: forward and backward lines for one sample, inside the batch loop."""

    def __init__(self, trace: _Trace, params: dict[int, str], param_grads: dict[int, str], slot_names: list[str],
                 slot_grads: dict[int, str], taken: set[str], extern: dict[str, Any]) -> None:
        self.trace = trace
        names = _Names(taken)
        created = trace.created
        slot_ids = {id(s): k for k, s in enumerate(trace.slots)}
        created_ids = trace.created_ids

        # Which nodes the forward needs: the output's, the guards' and the aux outputs' ancestors.
        needed = [False] * len(created)
        for root in [trace.output, *trace.aux] + [g[2] for g in trace.guards] + [
                g[3] for g in trace.guards if isinstance(g[3], Value)]:
            if id(root) in created_ids:
                needed[created_ids[id(root)]] = True
        for i in range(len(created) - 1, -1, -1):
            if needed[i]:
                for a in created[i].args:
                    if a.__class__ is not float and id(a) in created_ids:
                        needed[created_ids[id(a)]] = True
        self.needed = needed

        def kind(x: Any) -> str:
            if x.__class__ is float:
                return "c"
            if id(x) in created_ids:
                return "n"
            if id(x) in slot_ids:
                return "s"
            if x.op:
                raise TypeError(f"compile: the traced function uses {describe(x)}, a Value computed "
                                "outside it; compute it inside the function, or pass its leaves")
            return "p"

        # Which nodes carry a gradient: those that depend on a parameter or on a Value argument.
        grad_of = {id(s): trace.slot_kinds[k] == "v" for k, s in enumerate(trace.slots)}
        uses = [0] * len(created)
        for i, node in enumerate(created):
            if not needed[i]:
                continue
            wants = False
            for a in node.args:
                k = kind(a)
                if k == "p":
                    grad_of[id(a)] = True
                    wants = True
                elif k in "ns":
                    wants = wants or grad_of[id(a)]
                    if k == "n":
                        uses[created_ids[id(a)]] += 1
            grad_of[id(node)] = wants
        for g in trace.guards:
            for x in (g[2], g[3]):
                if isinstance(x, Value) and kind(x) == "p":
                    grad_of.setdefault(id(x), False)
        self.grad_of = grad_of

        # Which nodes must be named: read by a backward line, compared, checked, returned, used twice.
        named = [False] * len(created)
        checked: list[int] = []
        guard_values = {id(g[2]) for g in trace.guards} | {id(g[3]) for g in trace.guards if isinstance(g[3], Value)}
        for i, node in enumerate(created):
            if not needed[i]:
                continue
            args = node.args
            reads, reads_out = _reads(node.op, len(args))
            if node.op in _FORWARD_TWICE:
                reads = reads | {0}
            if grad_of[id(node)] or node.op in _FORWARD_TWICE:
                if reads_out and grad_of[id(node)]:
                    named[i] = True
                for j in reads:
                    a = args[j]
                    if a.__class__ is not float and id(a) in created_ids:
                        named[created_ids[id(a)]] = True
            if node.op in _MASKING or node.op not in RULES or RULES[node.op].forward is not None:
                for a in args:
                    if a.__class__ is not float and id(a) in created_ids:
                        j = created_ids[id(a)]
                        if created[j].op in _MAY_OVERFLOW or RULES[created[j].op].forward is not None:
                            named[j] = True
                            checked.append(j)
            if id(node) in guard_values or uses[i] != 1:
                named[i] = True
        for root in [trace.output, *trace.aux]:
            if id(root) in created_ids:
                named[created_ids[id(root)]] = True
        out_index = created_ids[id(trace.output)]
        checked.append(out_index)
        for j in checked:
            named[j] = True

        # Forward names, in creation order, so that a trace's code depends on the trace alone.
        self.name: dict[int, str] = {}
        for k, s in enumerate(trace.slots):
            self.name[id(s)] = slot_names[k]
        self.name.update(params)
        for i, node in enumerate(created):
            if needed[i] and named[i]:
                self.name[id(node)] = names.take(node.label, node.op)
        self.dname: dict[int, str] = dict(param_grads)
        for k, s in enumerate(trace.slots):
            if trace.slot_kinds[k] == "v":
                self.dname[id(s)] = slot_grads[k]

        # ---- forward lines, with each guard right after the values it compares
        exprs: dict[int, tuple[str, int]] = {}
        depth: dict[int, int] = {}

        def ref(x: Any) -> tuple[str, int]:
            if x.__class__ is float:
                return _const(x)
            if id(x) in exprs:
                return exprs[id(x)]
            return self.name[id(x)], _ATOM

        self.forward: list[str] = []
        guards = list(trace.guards)
        g_at = 0
        for i, node in enumerate(created):
            while g_at < len(guards) and guards[g_at][0] <= i:
                self._guard(guards[g_at], ref)
                g_at += 1
            if not needed[i]:
                continue
            expr = self._forward_expr(node, [ref(a) for a in node.args], extern)
            d = 1 + max((depth.get(id(a), 0) for a in node.args if a.__class__ is not float), default=0)
            if named[i] or d > _MAX_INLINE_DEPTH:
                if not named[i]:
                    self.name[id(node)] = names.take(node.label, node.op)
                self.forward.append(f"{self.name[id(node)]} = {expr[0]}")
                depth[id(node)] = 0
            else:
                exprs[id(node)] = expr
                depth[id(node)] = d
        while g_at < len(guards):
            self._guard(guards[g_at], ref)
            g_at += 1
        check = [self.name[id(created[j])] for j in dict.fromkeys(checked)]
        self.check = check
        self.out_name = self.name[id(trace.output)]
        self.aux_names = [ref(a)[0] for a in trace.aux]

        # ---- backward lines: the interpreter's walk, written out
        self.backward: list[str] = []
        order = [n for n in topological_order(trace.output) if grad_of.get(id(n))]
        state: dict[int, str] = {}  # node -> how its gradient so far is spelled ("" = not yet)
        accum = {pid for pid in params} | {id(s) for k, s in enumerate(trace.slots) if trace.slot_kinds[k] == "v"}
        seed = "_u"

        def gname(node: Value) -> str:  # named when first written, so names run from the output down
            if id(node) not in self.dname:
                self.dname[id(node)] = names.take("d" + self.name.get(id(node), ""), "d" + node.op)
            return self.dname[id(node)]
        for node in reversed(order):
            if id(node) not in created_ids:
                continue  # a leaf: its accumulator was added to already
            upstream = seed if node is trace.output else state.get(id(node))
            if upstream is None:
                continue
            for j, contribution in self._contributions(node, upstream, ref, extern):
                parent = node.args[j]
                pid = id(parent)
                if pid in accum:
                    self.backward.append(f"{self.dname[pid]} += {contribution}")
                    continue
                so_far = state.get(pid)
                if so_far is None:
                    if _is_name(contribution):
                        state[pid] = contribution  # passed on unchanged: an alias, no line
                    else:
                        self.backward.append(f"{gname(parent)} = {contribution}")
                        state[pid] = gname(parent)
                else:
                    self.backward.append(f"{gname(parent)} = {so_far} + {contribution}")
                    state[pid] = gname(parent)

    def _guard(self, guard: tuple, ref: Callable) -> None:
        _pos, op, value, other, outcome = guard
        right = ref(other) if isinstance(other, Value) else _const(float(other))
        cond = f"{_wrap(ref(value), _ADD)} {op} {_wrap(right, _ADD)}"
        self.forward.append(("guard", cond if outcome else f"not {cond}"))

    def _forward_expr(self, node: Value, args: list[tuple[str, int]], extern: dict[str, Any]) -> tuple[str, int]:
        op = node.op
        a = args[0]
        b = args[1] if len(args) > 1 else None
        if op == "add":
            return _binary(a, "+", b, _ADD)
        if op == "sub":
            return _binary(a, "-", b, _ADD)
        if op == "mul":
            return _binary(a, "*", b, _MUL)
        if op == "div":
            return _binary(a, "/", b, _MUL)
        if op == "neg":
            return f"-{_wrap(a, _UNARY)}", _UNARY
        if op == "pow" and node._b == int(node._b) and abs(node._b) < 2**53:
            return f"{_wrap(a, _ATOM)} ** {_wrap(b, _UNARY)}", _POW
        if op in ("pow", "rpow", "vpow"):
            return f"_pow({op!r}, {a[0]}, {b[0]})", _ATOM
        if op in ("exp", "log", "tanh", "sqrt", "sin", "cos") and RULES[op].forward is None:
            return f"{op}({a[0]})", _ATOM
        if op == "abs":
            return f"abs({a[0]})", _ATOM
        if op == "sigmoid":
            x = a[0]
            return f"1.0 / (1.0 + exp(-{x})) if {x} >= 0.0 else exp({x}) / (1.0 + exp({x}))", _COND
        if op == "relu":
            return f"{a[0]} if {a[0]} > 0.0 else 0.0", _COND
        rule = RULES.get(op)
        if rule is None or rule.forward is None:
            raise TypeError(f"compile: no code for the operation {op!r}: its rule has no forward function")
        fname = f"_f_{_ident(op)}"
        extern[fname] = rule.forward
        return f"{fname}({', '.join(x[0] for x in args)})", _ATOM

    def _contributions(self, node: Value, g: str, ref: Callable, extern: dict[str, Any]) -> list[tuple[int, str]]:
        """``(argument position, local * upstream)`` for each argument that carries a gradient."""
        op = node.op
        args = node.args
        wants = [a.__class__ is not float and self.grad_of.get(id(a), False) for a in args]
        out = (self.name.get(id(node), ""), _ATOM)
        gg = (g, _ATOM)
        refs = [ref(a) for a in args]
        result: list[tuple[int, str]] = []

        def times(local: tuple[str, int]) -> str:
            return _binary(local, "*", gg, _MUL)[0]

        for j, want in enumerate(wants):
            if not want:
                continue
            if op == "add" or (op == "sub" and j == 0):
                text = g
            elif op in ("neg", "sub"):
                text = f"-{g}"
            elif op == "mul":
                text = times(refs[1 - j])
            elif op == "div" and j == 0:
                b = node._b
                text = times(_const(1 / b) if b.__class__ is float else _binary(("1.0", _ATOM), "/", refs[1], _MUL))
            elif op == "div":
                text = times(_binary((f"-{_wrap(out, _UNARY)}", _UNARY), "/", refs[1], _MUL))
            elif op == "exp":
                text = times(out)
            elif op == "log":
                text = times(_binary(("1.0", _ATOM), "/", refs[0], _MUL))
            elif op == "tanh":
                text = times((f"1.0 - {out[0]} * {out[0]}", _ADD))
            elif op == "sigmoid":
                text = times(_binary(out, "*", (f"1.0 - {out[0]}", _ADD), _MUL))
            elif op == "relu":
                text = f"({g} if {refs[0][0]} > 0.0 else 0.0 * {g})"
            elif op == "sqrt":
                text = times(_binary(("0.5", _ATOM), "/", out, _MUL))
            elif op == "abs":
                x = refs[0][0]
                text = f"({g} if {x} > 0.0 else -{g} if {x} < 0.0 else 0.0 * {g})"
            elif op in ("sin", "cos") and RULES[op].forward is None:
                text = times((f"cos({refs[0][0]})", _ATOM) if op == "sin" else (f"-sin({refs[0][0]})", _UNARY))
            else:  # the powers (whose rules handle 0 ** 0 and log(0)) and operations defined outside the
                # engine: the rule itself, called on floats, as the interpreter calls it
                lname = f"_l_{_ident(op)}"
                extern[lname] = RULES[op].local
                inputs = ", ".join(r[0] for r in refs)
                text = times((f"{lname}({out[0]}, {inputs})[{j}]", _ATOM))
            result.append((j, text))
        return result


def _ident(op: str) -> str:
    """A name part for ``op``'s functions in the generated code: letters and digits, and its row number."""
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in op) + f"_{list(RULES).index(op)}"


def _is_name(text: str) -> bool:
    return text.isidentifier()


def _emit_variants(variants: list[_Variant], indent: str, lines: list[str], aux: bool, inputs: list[str]) -> None:
    """Each variant's lines for one sample; a failed guard moves on to the next variant."""
    several = len(variants) > 1
    for k, v in enumerate(variants):
        pad = indent
        if several:
            if k:
                lines.append(f"{indent}if not _ok:")
                pad += "    "
            lines.append(f"{pad}for _ in _ONCE:  # variant {k + 1} of {len(variants)}")
            pad += "    "
        lines.append(f"{pad}# forward")
        for item in v.forward:
            if isinstance(item, tuple):
                fail = "break" if several else "raise _Miss(_i)"
                lines.append(f"{pad}if not ({item[1]}):")
                lines.append(f"{pad}    {fail}")
            else:
                lines.append(pad + item)
        lines.append(f"{pad}_outs[_i] = {v.out_name}")
        if aux:
            lines.append(f"{pad}_aux[_i] = ({', '.join(v.aux_names)},)")
        check = inputs + v.check
        for start in range(0, len(check), 64):
            part = " + ".join(check[start : start + 64])
            lines.append(f"{pad}if not -_inf < {part} < _inf:")
            lines.append(f"{pad}    raise _Interpret")
        if v.backward:
            lines.append(f"{pad}# backward")
            lines.extend(pad + line for line in v.backward)
        if several:
            lines.append(f"{pad}_ok = True")
    if several:
        lines.append(f"{indent}if not _ok:")
        lines.append(f"{indent}    raise _Miss(_i)")


def _count(shape: Any) -> int:
    """How many slots (numbers and Values) a shape holds."""
    return 1 if shape in ("n", "v") else sum(_count(s) for s in shape[1])


def _unpack_target(shape: Any, names: Sequence[str], at: list[int]) -> str:
    if shape in ("n", "v"):
        name = names[at[0]]
        at[0] += 1
        return name
    inner = [_unpack_target(s, names, at) for s in shape[1]]
    if len(inner) == 1:
        return f"[{inner[0]}]"
    return "(" + ", ".join(inner) + ")"


class CompiledFunction:
    """What ``compile(fn)`` returns: call it like ``fn``, or over a batch with ``mean`` / ``sum``.

    >>> from autograd_scalar import Value
    >>> import autograd_scalar as ag
    >>> w, b = Value(0.5, label="w"), Value(0.1, label="b")
    >>> cf = ag.compile(lambda x, y: (w * x + b - y) ** 2)
    >>> round(cf.mean([1.0, 2.0], [1.0, 0.0]), 12)            # ((-0.4)**2 + 1.1**2) / 2
    0.685
    >>> round(w.grad, 12), round(b.grad, 12)     # mean(2 r x), mean(2 r) for the residuals r = -0.4, 1.1
    (1.8, 0.7)
    """

    def __init__(self, fn: Callable[..., Any], *, _aux: bool = False, _forward_only: bool = False) -> None:
        if not callable(fn):
            raise TypeError(f"compile: expected a function, got {fn!r}")
        if isinstance(fn, CompiledFunction):
            raise TypeError("compile: the function is compiled already")
        self.fn = fn
        self._with_aux = _aux  # fn returns (loss, outputs); the outputs' data land in last_outputs
        self._forward_only = _forward_only  # no backward lines, no .grad touched (evaluation)
        self._shapes: tuple | None = None
        self._arg_names: list[str] = []
        self._traces: list[_Trace] = []
        self._verified: list[tuple[bool, bool]] = []  # per trace: checked at other inputs, at other parameters
        self._params: list[Value] = []
        self._param_names: dict[int, str] = {}
        self._code: Any = None
        self._source = ""
        self.full = False
        self.timings: list[dict[str, float]] = []
        """Per trace: its node count and the seconds spent tracing, writing the code and compiling it."""
        """Whether the variant cache is full (further variants run on the interpreter)."""
        import inspect  # here, not at the top: it costs `import autograd_scalar` ~10 ms

        try:
            parameters = inspect.signature(fn).parameters.values()
            self._arg_names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            self._arg_names = []
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__name__ = _name(fn)

    # ---- public calls -------------------------------------------------------------------------

    def __call__(self, *args: Any) -> float:
        """``fn(*args).backward()``, compiled: returns the output's data, adds to every leaf's ``.grad``."""
        shapes = self._shapes_of(args)
        values = [a for a in args if isinstance(a, Value)]
        if values:
            flat: list = []
            for a, s in zip(args, shapes):
                _flat(a, s, flat)
            leaves = [x for x in flat if isinstance(x, Value)]
            ids = {id(x) for x in leaves}
            if len(ids) != len(leaves) or ids & {id(p) for p in self._params}:
                return self._interpret([[a] for a in args], 1, None)  # the same Value twice: as the interpreter
        return self._run([[a] for a in args], 1, None)  # one sample: a batch of one, seeded with 1.0

    def mean(self, *columns: Sequence[Any]) -> float:
        """The mean of ``fn(col0[i], col1[i], ...)`` over the batch, and its gradient into every ``.grad``.

        Bit for bit what ``(sum(outputs[1:], outputs[0]) / n).backward()`` gives on the interpreter.
        """
        return self._batch("mean", columns)

    def sum(self, *columns: Sequence[Any]) -> float:
        """As ``mean``, without the division by the batch size."""
        return self._batch("sum", columns)

    @property
    def source(self) -> str:
        """The generated Python (traced at the first call; an empty string before it)."""
        return self._source

    @property
    def variants(self) -> int:
        """How many traces (one per combination of guard outcomes) are compiled in."""
        return len(self._traces)

    def __repr__(self) -> str:
        return f"<compiled {self.__name__}: {len(self._traces)} variant(s)>"

    # ---- batches ------------------------------------------------------------------------------

    def _batch(self, how: str, columns: Sequence[Sequence[Any]]) -> float:
        if not columns:
            raise TypeError(f"compile: {how}() needs one column per argument of the function, got none")
        try:
            cols = [c if isinstance(c, (list, tuple)) else list(c) for c in columns]
        except TypeError:
            raise TypeError(f"compile: {how}() takes columns (lists, one entry per sample), got "
                            f"{', '.join(_type(c) for c in columns)}") from None
        n = len(cols[0])
        if any(len(c) != n for c in cols) or n == 0:
            raise ValueError(f"compile: {how}() needs columns of one non-zero length, got lengths "
                             f"{[len(c) for c in cols]}")
        self._shapes_of(tuple(c[0] for c in cols))
        if "'v'" in repr(self._shapes):
            raise TypeError(f"compile: {how}() takes columns of numbers (lists of them); call the compiled "
                            "function per sample for Value arguments")
        return self._run(cols, n, how)

    def _shapes_of(self, args: tuple) -> tuple:
        shapes = tuple(_shape_of(f"argument {k}", a) for k, a in enumerate(args))
        if self._shapes is None:
            self._shapes = shapes
        elif shapes != self._shapes:
            expected = ", ".join(_show_shape(s) for s in self._shapes) or "no arguments"
            got = ", ".join(_show_shape(s) for s in shapes) or "no arguments"
            raise TypeError(f"compile: {self.__name__} was compiled for ({expected}); got ({got})")
        return shapes

    def _run(self, cols: list[list], n: int, how: str | None) -> float:
        if not self._traces:
            if not self._valid(cols):
                return self._interpret(cols, n, how)
            self._add_trace(cols, 0)
        u = 1 / float(n) * 1.0 if how == "mean" else 1.0  # what backward() sends each sample: d mean/d term
        while True:
            if not self._all_verified:
                self._verify(cols, n)
            outs = [0.0] * n
            aux: list = [None] * n if self._with_aux else []
            try:
                slot_grads = self._code(cols, n, u, self._params, outs, aux)
            except _Miss as miss:
                if not self._valid(cols):
                    return self._interpret(cols, n, how)
                if len(self._traces) >= MAX_VARIANTS:
                    self.full = True
                    return self._interpret(cols, n, how)
                self._add_trace(cols, miss.index)
                continue
            except (ArithmeticError, ValueError, TypeError, AttributeError, _Interpret):
                # a shape that differs is named by _valid; anything else: as the interpreter decides
                self._valid(cols)
                return self._interpret(cols, n, how)
            total = outs[0]
            for value in outs[1:]:
                total = total + value
            if how == "mean":
                total = total / float(n)
            if not -math.inf < total < math.inf:
                return self._interpret(cols, n, how)
            break
        self._finish(slot_grads, cols)
        self.last_outputs = aux
        return total

    def _valid(self, cols: list[list]) -> bool:
        """Whether every sample has the compiled shape with finite floats; a TypeError names a shape that
        differs. False (an int, a bool, a nan) sends the call to the interpreter, which decides what it means."""
        assert self._shapes is not None
        fine = True
        for k, (col, shape) in enumerate(zip(cols, self._shapes)):
            for i, x in enumerate(col):
                try:
                    fine = _check_sample(x, shape) and fine
                except TypeError:
                    raise TypeError(f"compile: {self.__name__} was compiled for argument {k} being "
                                    f"{_show_shape(shape)}; sample {i} has {_type(x)}") from None
        return fine

    @property
    def _all_verified(self) -> bool:
        return all(a and b for a, b in self._verified)

    def _finish(self, slot_grads: tuple, cols: list[list]) -> None:
        if slot_grads:
            flat: list = []
            for col, shape in zip(cols, self._shapes):
                _flat(col[0], shape, flat)
            values = [x for x in flat if isinstance(x, Value)]
            for x, g in zip(values, slot_grads):
                x.grad += g

    def _interpret(self, cols: list[list], n: int, how: str | None) -> float:
        """The same call on the interpreter: the reference, used where the compiled code cannot go."""
        results = [self.fn(*(c[i] for c in cols)) for i in range(n)]
        if self._with_aux:
            self.last_outputs = [r[1] for r in results]
            results = [r[0] for r in results]
        for r in results:
            if not isinstance(r, Value):
                raise TypeError(f"compile: {self.__name__} must return one Value (a per-sample loss, say), "
                                f"got {_type(r)}")
        total = results[0] if how is None else sum(results[1:], results[0])
        if how == "mean":
            total = total / n
        if not self._forward_only:
            total.backward()
        return total.data

    # ---- traces and code ----------------------------------------------------------------------

    def _sample(self, cols: list[list], i: int) -> list:
        return [c[i] for c in cols]

    def _add_trace(self, cols: list[list], i: int) -> None:
        started = time.perf_counter()
        trace = self._trace(self._sample(cols, i))
        traced = time.perf_counter()
        self._traces.append(trace)
        self._verified.append((False, False))
        trace.values = [s.data for s in trace.slots]
        written = self._rebuild()
        done = time.perf_counter()
        self.timings.append({"nodes": len(trace.created), "trace": traced - started, "codegen": written - traced,
                             "compile": done - written})

    def _trace(self, sample: list) -> _Trace:
        try:
            trace = _Trace(self.fn, self._shapes, sample, self._arg_names, self._with_aux)
        except Exception as error:
            if str(error).startswith("compile:"):
                raise
            self.fn(*sample)  # fails the same way on the interpreter: the function's own error
            raise TypeError(f"compile: {self.__name__} cannot be traced with Value inputs "
                            f"({type(error).__name__}: {error}); it runs on plain numbers only") from error
        return trace

    def _verify(self, cols: list[list], n: int) -> None:
        """Trace again at other inputs, and at other parameters: the graph must be the same.

        A constant that changed means the function read a Value's ``.data`` into a plain number,
        which the compiled code would have frozen: refuse, naming it. Each trace is checked once
        against other inputs and once against changed parameters (after an optimiser's step)."""
        for t, trace in enumerate(self._traces):
            inputs_done, params_done = self._verified[t]
            if inputs_done and params_done:
                continue
            params_changed = not params_done and [p.data for p in self._params] != trace.param_values
            tries = 0
            for i in range(n):
                sample = self._sample(cols, i)
                flat: list = []
                for a, s in zip(sample, self._shapes):
                    _flat(a, s, flat)
                inputs_differ = not inputs_done and [float(x.data if isinstance(x, Value) else x)
                                                     for x in flat] != trace.values
                if not (inputs_differ or params_changed) or tries == 3:
                    continue
                tries += 1
                again = self._trace(sample)
                if [g[4] for g in again.guards] != [g[4] for g in trace.guards]:
                    continue  # another variant: says nothing about this one
                self._compare(trace, again)
                self._verified[t] = (inputs_done or inputs_differ, params_done or params_changed)
                break

    def _compare(self, first: _Trace, again: _Trace) -> None:
        """Refuse if two traces with the same guard outcomes built different graphs.

        Both fingerprints are taken now, so a parameter (the same object in both) shows its current
        number in both; a leaf made inside fn is a new object each time, compared by its number."""
        a, b = first.fingerprint(), again.fingerprint()
        if len(a[0]) == len(b[0]):
            for (op1, args1), (op2, args2), node in zip(a[0], b[0], first.created):
                if op1 != op2 or len(args1) != len(args2):
                    break
                for x, y in zip(args1, args2):
                    if x == y or x[0] != y[0] or x[0] not in "cp" or (x[0] == "p" and x[2] == y[2]):
                        continue
                    raise ValueError(
                        f"compile: {self.__name__} turns a Value's .data into the number {x[-1]!r} "
                        f"(an argument of {op1} in {describe(node)}), which became {y[-1]!r} at other inputs; "
                        "the compiled code would freeze it. Use Value operations instead (comparisons are fine)"
                    )
            else:
                if _same(a, b):
                    return
        raise ValueError(
            f"compile: {self.__name__} builds a different graph at other inputs without a comparison on a "
            "Value: it branches on .data or on something else; compare Values instead (x > 0), so "
            "the branch becomes a guard"
        )

    def _rebuild(self) -> float:
        """Name the parameters, write every variant's code, and compile it; returns when writing ended."""
        for trace in self._traces:
            slot_ids = {id(s) for s in trace.slots}
            compared = [x for g in trace.guards for x in (g[2], g[3]) if isinstance(x, Value)]
            for args in [*(node.args for node in trace.created), compared]:
                for a in args:
                    if a.__class__ is not float and a._a is None and id(a) not in slot_ids and \
                            id(a) not in trace.created_ids and id(a) not in self._param_names:
                        self._params.append(a)
                        self._param_names[id(a)] = ""
            if not hasattr(trace, "param_values"):
                trace.param_values = None
        first = self._traces[0]
        names = _Names(_RESERVED)
        slot_names = [names.take(s, "x") for s in first.slot_names]
        param_names: dict[int, str] = {}
        for p in self._params:
            param_names[id(p)] = names.take(p.label, "p")
        slot_grads: dict[int, str] = {}
        for k, kind in enumerate(first.slot_kinds):
            if kind == "v":
                slot_grads[k] = names.take("d" + slot_names[k], "d")
        param_grads = {id(p): names.take("d" + param_names[id(p)], "d") for p in self._params}
        extern: dict[str, Any] = {}
        variants = [_Variant(t, param_names, param_grads, slot_names, slot_grads, names.taken, extern)
                    for t in self._traces]
        if self._forward_only:
            for v in variants:
                v.backward = []
        for t in self._traces:
            if t.param_values is None:
                t.param_values = [p.data for p in self._params]
        lines = self._function(variants, slot_names, param_names, param_grads, slot_grads, first)
        self._source = "\n".join(lines) + "\n"
        written = time.perf_counter()
        namespace = dict(_NAMESPACE)
        namespace.update(extern)
        exec(builtins.compile(self._source, f"<compiled {self.__name__}>", "exec"), namespace)  # our own text
        self._code = namespace["compiled"]
        return written

    def _function(self, variants: list[_Variant], slot_names: list[str], param_names: dict[int, str],
                  param_grads: dict[int, str], slot_grads: dict[int, str], first: _Trace) -> list[str]:
        assert self._shapes is not None
        lines = ["def compiled(_cols, _n, _u, _P, _outs, _aux):"]
        title = self.__name__ if self.__name__.isidentifier() and self.__name__.isascii() else "fn"
        lines.append(f'    """{title}, compiled: forward and backward of sample _i, for _i from last to first."""')
        if self._params:
            lines.append("    # parameters, read at every call; their gradients start at -0.0, which adds exactly")
            for start in range(0, len(self._params), 8):
                chunk = range(start, min(start + 8, len(self._params)))
                targets = ", ".join(param_names[id(self._params[k])] for k in chunk)
                lines.append(f"    {targets} = " + ", ".join(f"_P[{k}].data" for k in chunk))
            for start in range(0, len(self._params), 8):
                chunk = [self._params[k] for k in range(start, min(start + 8, len(self._params)))]
                if not self._forward_only:
                    lines.append("    " + " = ".join(param_grads[id(p)] for p in chunk) + " = -0.0")
        value_slots = [k for k, kind in enumerate(first.slot_kinds) if kind == "v"]
        for k in value_slots:
            if not self._forward_only:
                lines.append(f"    {slot_grads[k]} = -0.0")
        if self._shapes:
            lines.append(f"    {', '.join(f'_c{k}' for k in range(len(self._shapes)))}, = _cols")
        lines.append("    for _i in range(_n - 1, -1, -1):")
        at = [0]
        for k, shape in enumerate(self._shapes):
            if shape == "v":  # a Value argument: its number now, its gradient at the end
                lines.append(f"        {_unpack_target(shape, slot_names, at)} = _c{k}[_i].data")
            else:
                lines.append(f"        {_unpack_target(shape, slot_names, at)} = _c{k}[_i]")
        top = {k for k, shape in enumerate(self._shapes) if shape == "v"}
        flat_top = {sum(_count(s) for s in self._shapes[:k]) for k in top}
        for k in value_slots:
            if k not in flat_top:
                lines.append(f"        {slot_names[k]} = {slot_names[k]}.data")
        numbers = [slot_names[k] for k, kind in enumerate(first.slot_kinds) if kind == "n"]
        for start in range(0, len(numbers), 16):  # ints, bools, nan: the interpreter decides what they mean
            part = " or ".join(f"{x}.__class__ is not float" for x in numbers[start : start + 16])
            lines.append(f"        if {part}:")
            lines.append("            raise _Interpret")
        if len(variants) > 1:
            lines.append("        _ok = False")
        _emit_variants(variants, "        ", lines, self._with_aux, numbers)
        for k, p in enumerate(self._params):
            if not self._forward_only:
                lines.append(f"    _P[{k}].grad += {param_grads[id(p)]}")
        if value_slots and not self._forward_only:
            lines.append("    return (" + ", ".join(slot_grads[k] for k in value_slots) + ",)")
        return lines


def compile(fn: Callable[..., Any]) -> CompiledFunction:  # noqa: A001 - reached as ag.compile, not in __all__
    """``fn`` traced once and written out as straight-line Python, forward and backward.

    ``fn`` takes numbers, Values, or (nested) lists/tuples of them, and returns one ``Value``.
    Every number in an argument is an input; leaf Values that ``fn`` reaches but does not take as
    arguments (a model's parameters) are read at every call, so an optimiser's updates count.

    >>> import autograd_scalar as ag
    >>> from autograd_scalar import Value
    >>> w0, w1, w2 = Value(2.0, label="w0"), Value(-3.0, label="w1"), Value(-3.0, label="w2")
    >>> neuron = ag.compile(lambda x0, x1: (w0 * x0 + w1 * x1 + w2).sigmoid())
    >>> round(neuron(-1.0, -2.0), 4), round(w0.grad, 4)
    (0.7311, -0.1966)
    >>> "dw0 += " in neuron.source
    True
    """
    return CompiledFunction(fn)
