"""Draw a computation graph: every ``Value`` as a box with its label, data and gradient, every
operation as a small node, inputs on the left and the output on the right.

- :func:`to_dot` gives graphviz's DOT source and imports nothing.
- :func:`draw_graph` gives a ``graphviz.Digraph`` (``pip install autograd-scalar[viz]``), which a
  notebook shows as SVG.
- :func:`to_svg` draws the graph with a built-in layout in pure Python: no graphviz at all.
- :func:`render` writes ``.svg``, ``.png`` or ``.dot`` by the file's extension; for SVG it uses
  ``dot`` when installed and the built-in layout otherwise.

Draw after ``backward()``: the boxes show ``.grad`` as it is. A node used by several operations
is drawn with an orange border and ``used N×``, and its gradient is shown as the sum of what each
use sent back, e.g. ``grad 7 = 3 + 3 + 1`` for ``a`` in ``a*a + a`` at ``a = 3``. Each part is
``local derivative × the consumer's gradient``, computed from the rule table; the sum is shown only
when it matches ``.grad``, i.e. when ``backward()`` has been run on this root (once or more).

Every label is escaped for DOT, HTML-like labels and SVG, so a label is always shown as its text
(on one line, at most 40 characters) and can change nothing else in the drawing.
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from .atomic import file_kind, write_atomic
from .engine import Value, topological_order
from .rules import RULES

Formatter = Union[str, Callable[[float], str]]

MAX_LABEL = 40
"""Labels longer than this are cut, with an ellipsis, so that one label cannot stretch a drawing."""

MAX_PARTS = 6
"""A gradient made of more parts than this is shown as ``= sum of N parts`` instead of term by term."""

MAX_BENDS = 2000
"""The built-in layout routes at most this many layer crossings of long edges in all; beyond it the
longest edges are drawn as a short reference (``↪ x``) beside the operation they feed, so a node
used by hundreds of operations (``x+x+...+x``) lays out in a bounded time and size."""

INSTALL_DOT = "install graphviz (apt-get install graphviz, brew install graphviz, or https://graphviz.org/download/)"
INSTALL_PYTHON_GRAPHVIZ = "pip install autograd-scalar[viz]"

# One palette for both renderers.
COLORS = {
    "input": ("#e8f1fb", "#4a7bb7"),  # (fill, border)
    "inner": ("#ffffff", "#8a8a8a"),
    "output": ("#e9f5e7", "#3f8f3f"),
    "op": ("#f2f2f2", "#9a9a9a"),
    "text": "#222222",
    "data": "#222222",
    "grad": "#b2182b",
    "const": "#777777",
    "edge": "#8c8c8c",
    "shared": "#e66101",  # a node used several times: border, its "used N×" and its edges
    "shared_edge": "#f1a340",
    "highlight": "#7b3294",
    "halo": "#d9c3e6",
}
SHARED_EDGE = COLORS["shared_edge"]


# ---- the scene: what to draw, shared by every renderer -----------------------------------------


@dataclass
class _Box:
    """One ``Value``: its index in ``topological_order(root)`` and the text of its rows."""

    index: int
    label: str
    data: str | None
    grad: str | None
    uses: int
    kind: str  # "input", "inner" or "output"
    highlighted: bool
    op: str  # the rule name, "" for a leaf
    n_args: int


@dataclass
class _Arg:
    """One argument of an operation: a ``Value`` (``source`` its index) or a constant (``text``)."""

    op_index: int
    slot: int
    source: int | None
    text: str | None


@dataclass
class _Scene:
    boxes: list[_Box]
    args: list[_Arg] = field(default_factory=list)
    nodes: list[Value] = field(default_factory=list)
    """``topological_order(root)``: box ``i`` is ``nodes[i]``."""

    def constants(self) -> list[_Arg]:
        return [arg for arg in self.args if arg.source is None]


def _formatter(fmt: Formatter, caller: str) -> Callable[[float], str]:
    if callable(fmt):
        return lambda x: _printable(str(fmt(x)))
    if not isinstance(fmt, str):
        raise TypeError(f"{caller}: fmt must be a format string like '{{:.4g}}' or a function, got {fmt!r}")
    try:
        fmt.format(1.5)
    except (IndexError, KeyError, ValueError) as error:
        raise ValueError(f"{caller}: fmt must format one number, like '{{:.4g}}'; {fmt!r} fails: {error}") from None
    return lambda x: _printable(fmt.format(x + 0.0))  # + 0.0 turns -0.0 into 0.0


def _printable(text: str) -> str:
    """``text`` on one line and writable as UTF-8: control characters as spaces, lone surrogates as U+FFFD."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff]", " ", text)
    return re.sub(r"[\ud800-\udfff]", "\ufffd", text)


def clean_label(label: str) -> str:
    """A label as drawn: control characters (newlines, tabs) as spaces, at most ``MAX_LABEL`` long.

    >>> clean_label("first\\nsecond")
    'first second'
    """
    text = _printable(label)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _as_nodes(highlight: Value | Iterable[Value] | None, caller: str) -> set[Value]:
    if highlight is None:
        return set()
    nodes = {highlight} if isinstance(highlight, Value) else set(highlight)
    for node in nodes:
        if not isinstance(node, Value):
            raise TypeError(f"{caller}: highlight must be a Value or Values, got {node!r}")
    return nodes


def _scene(
    root: Value,
    *,
    show_data: bool,
    show_grad: bool,
    fmt: Formatter,
    highlight: Value | Iterable[Value] | None,
    max_nodes: int,
    caller: str,
) -> _Scene:
    """Everything the renderers need, computed once: boxes, arguments, the ``+=`` sums."""
    if not isinstance(root, Value):
        raise TypeError(f"{caller}: expected a Value to draw, got {root!r}")
    number = _formatter(fmt, caller)
    nodes = topological_order(root)
    if len(nodes) > max_nodes:
        raise ValueError(
            f"{caller}: the graph has {len(nodes)} Values, more than max_nodes={max_nodes}; a drawing that "
            f"large is unreadable (and slow to lay out). Draw a smaller part, or pass max_nodes={len(nodes)}"
        )
    index = {node: i for i, node in enumerate(nodes)}
    emphasised = _as_nodes(highlight, caller)
    stray = [node for node in emphasised if node not in index]
    if stray:
        raise ValueError(f"{caller}: highlight {stray[0]!r} is not a node of this graph")

    parts: list[list[float]] = [[] for _ in nodes]  # what each use sent back, in consumer order
    uses = [0] * len(nodes)
    scene = _Scene(boxes=[], nodes=nodes)
    for i, node in enumerate(nodes):
        for slot, arg in enumerate(node.args):
            if isinstance(arg, Value):
                uses[index[arg]] += 1
                scene.args.append(_Arg(i, slot, index[arg], None))
            else:
                scene.args.append(_Arg(i, slot, None, number(arg)))
        if node.args:
            datas = [a.data if isinstance(a, Value) else a for a in node.args]
            try:
                local = RULES[node.op].local(node.data, *datas)
            except (ArithmeticError, ValueError):
                local = None  # e.g. sqrt at 0: no finite local derivative, so no sum to show
            for slot, arg in enumerate(node.args):
                if isinstance(arg, Value):
                    parts[index[arg]].append(local[slot] * node.grad if local else math.nan)

    for i, node in enumerate(nodes):
        grad = None
        if show_grad:
            grad = "grad " + number(node.grad)
            total = sum(parts[i])
            if uses[i] > 1 and root.grad != 0 and math.isclose(total, node.grad, rel_tol=1e-9, abs_tol=1e-12):
                if uses[i] <= MAX_PARTS:
                    grad += " = " + _sum_text([number(p) for p in parts[i]])
                else:
                    grad += f" = sum of {uses[i]} parts"
        kind = "output" if node is root else "input" if not node.op else "inner"
        scene.boxes.append(
            _Box(
                index=i,
                label=clean_label(node.label),
                data=("data " + number(node.data)) if show_data else None,
                grad=grad,
                uses=uses[i],
                kind=kind,
                highlighted=node in emphasised,
                op=node.op,
                n_args=len(node.args),
            )
        )
    return scene


def _sum_text(terms: list[str]) -> str:
    """``3 + (-1) + 2``: the terms of a sum, negative ones after the first in parentheses."""
    shown = [terms[0]] + [f"({t})" if t.startswith("-") else t for t in terms[1:]]
    return " + ".join(shown)


def _uses_text(box: _Box) -> str:
    return f"used {box.uses}×" if box.uses > 1 else ""


def _op_tooltip(op: str) -> str:
    rule = RULES[op]
    return f"{op}: " + ", ".join(f"d/d{name} = {words}" for name, words in zip(rule.inputs, rule.words))


# ---- DOT ---------------------------------------------------------------------------------------


def _html(text: str) -> str:
    """Text for a graphviz HTML-like label (and for SVG): every markup character escaped."""
    return html.escape(text, quote=True)


def _dot_html(text: str) -> str:
    """Text for a graphviz HTML-like label. Beyond markup, dot reads backslash escapes (``\\N`` is the
    node's name) even here, so a backslash is doubled to show as itself. Debian's dot 2.43 also
    rejects a text of ``]`` or ``]]`` and an empty element (``<B></B>``), so brackets are written
    as character references and empty text as one space."""
    escaped = _html(text).replace("\\", "\\\\").replace("[", "&#91;").replace("]", "&#93;")
    return escaped or " "


def _dot_string(text: str) -> str:
    """A DOT double-quoted string holding ``text`` as itself."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_statements(scene: _Scene, rankdir: str) -> list[str]:
    """The DOT statements of the drawing, one per line: the one source of truth for the structure."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    lines = [
        f'graph [rankdir={rankdir}, nodesep=0.18, ranksep=0.35, bgcolor="white", fontname="Helvetica"];',
        'node [fontname="Helvetica", fontsize=11, fontcolor="#222222"];',
        f'edge [color="{COLORS["edge"]}", arrowsize=0.6, penwidth=1.1];',
    ]
    for box in scene.boxes:
        fill, border = COLORS[box.kind]
        width = 1.0
        if box.uses > 1:
            border, width = COLORS["shared"], 2.0
        if box.highlighted:
            border, width = COLORS["highlight"], 3.0
        lines.append(
            f'v{box.index} [shape=box, style="rounded,filled", fillcolor="{fill}", color="{border}", '
            f"penwidth={width}, margin=0.06, label=<{_dot_box_label(box)}>];"
        )
        if box.op:
            symbol = _dot_html(RULES[box.op].symbol)
            size = "width=0.36, height=0.36, fixedsize=true" if len(symbol) <= 2 else "height=0.3"
            op_fill, op_border = COLORS["op"]
            lines.append(
                f'op{box.index} [shape={"circle" if len(symbol) <= 2 else "box"}, style="rounded,filled", '
                f'fillcolor="{op_fill}", color="{op_border}", {size}, fontsize=12, ordering=in, '
                f"tooltip={_dot_string(_op_tooltip(box.op))}, label=<{symbol}>];"
            )
            lines.append(f"op{box.index} -> v{box.index} [arrowsize=0.5];")
    shared = {box.index for box in scene.boxes if box.uses > 1}
    for arg in scene.args:
        if arg.source is None:
            name = f"c{arg.op_index}_{arg.slot}"
            lines.append(
                f'{name} [shape=box, style="rounded,dashed", color="#bbbbbb", fontcolor="{COLORS["const"]}", '
                f"fontsize=10, height=0.22, width=0.3, margin=0.04, label=<{_dot_html(arg.text)}>];"
            )
            lines.append(f'{name} -> op{arg.op_index} [style=dashed, color="#bbbbbb"];')
        else:
            color = f' [color="{SHARED_EDGE}"]' if arg.source in shared else ""
            lines.append(f"v{arg.source} -> op{arg.op_index}{color};")
    return lines


def _group_tree(nodes: list[Value]) -> tuple[dict[Any, list[int]], dict[Any, list[Any]]]:
    """The groups of ``nodes`` (a ``Neuron`` call, a ``scope`` block: :mod:`autograd_scalar.scopes`):
    each group's own members (indices into ``nodes``), and each group's subgroups (``None``: the top
    level), both in the order of ``nodes``. The step-through shows the same groups."""
    from .scopes import find_groups

    groups = find_groups(nodes)
    members: dict[Any, list[int]] = {}
    children: dict[Any, list[Any]] = {}
    for i, node in enumerate(nodes):
        group = groups[node]
        if group is None:
            continue
        members.setdefault(group, []).append(i)
        path = group.path
        for parent, child in zip((None, *path[:-1]), path):
            if child not in children.setdefault(parent, []):
                children[parent].append(child)
    return members, children


def _dot_clusters(nodes: list[Value]) -> list[str]:
    """Each group of the graph (``nodes``, in topological order) as a cluster around its boxes, nested
    as the groups nest."""
    members, children = _group_tree(nodes)
    lines: list[str] = []

    def emit(group: Any) -> None:
        lines.append(f"subgraph cluster_{len(lines)} {{")
        lines.append(f'  label=<{_dot_html(clean_label(group.name))}>; style="rounded,dashed"; color="#7048e8"; '
                     'fontcolor="#5233c4"; fontsize=10;')
        lines.extend(f"  v{i};" + (f" op{i};" if nodes[i].op else "") for i in members.get(group, []))
        for child in children.get(group, []):
            emit(child)
        lines.append("}")

    for group in children.get(None, []):
        emit(group)
    return lines


def _dot_box_label(box: _Box) -> str:
    rows = []
    if box.label or box.uses > 1:
        uses = _uses_text(box)
        mark = f'<TD ALIGN="RIGHT"><FONT POINT-SIZE="9" COLOR="{COLORS["shared"]}">{uses}</FONT></TD>' if uses else ""
        mark = f'<TD WIDTH="6"></TD>{mark}' if mark else ""
        rows.append(f'<TR><TD ALIGN="LEFT"><B>{_dot_html(box.label)}</B></TD>{mark}</TR>')
    if box.data is not None:
        rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="3">{_dot_html(box.data)}</TD></TR>')
    if box.grad is not None:
        grad = f'<FONT COLOR="{COLORS["grad"]}">{_dot_html(box.grad)}</FONT>'
        rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="3">{grad}</TD></TR>')
    if not rows:
        rows.append("<TR><TD> </TD></TR>")
    return '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>"


def to_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_data: bool = True,
    highlight: Value | Iterable[Value] | None = None,
    max_nodes: int = 500,
    fmt: Formatter = "{:.4g}",
) -> str:
    """The graph of ``root`` as graphviz DOT source; it imports nothing and needs no graphviz.

    Value ``i`` (its index in ``topological_order(root)``) is node ``v{i}``, the operation that
    made it ``op{i}``, and a constant argument ``c{i}_{slot}``. Feed it to ``dot -Tsvg`` or to any
    tool that reads DOT. Options as in :func:`draw_graph`.

    >>> from autograd_scalar import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * 3).tanh()
    >>> y.backward()
    >>> print(to_dot(y).splitlines()[0])
    digraph autograd {
    >>> "v0 -> op1;" in to_dot(y), "c1_1 -> op1" in to_dot(y)
    (True, True)
    """
    scene = _scene(
        root, show_data=show_data, show_grad=show_grad, fmt=fmt, highlight=highlight, max_nodes=max_nodes,
        caller="to_dot",
    )  # fmt: skip
    body = "\n".join("  " + line for line in _dot_statements(scene, rankdir) + _dot_clusters(scene.nodes))
    return "digraph autograd {\n" + body + "\n}\n"


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_data: bool = True,
    highlight: Value | Iterable[Value] | None = None,
    max_nodes: int = 500,
    fmt: Formatter = "{:.4g}",
) -> Any:
    """A ``graphviz.Digraph`` of ``root``'s graph, which Jupyter shows as SVG (needs graphviz's ``dot``).

    One box per ``Value`` (label, ``data``, ``grad``), one small node per operation, arguments
    top to bottom in order. Run ``root.backward()`` first to see gradients: a node used several
    times then shows its gradient as the sum of what each use sent back (``grad 7 = 3 + 3 + 1``).

    - ``rankdir``: ``"LR"`` (inputs left, output right), ``"TB"``, ``"RL"`` or ``"BT"``.
    - ``show_grad`` / ``show_data``: which rows the boxes show.
    - ``highlight``: a ``Value`` or several, drawn with a thick purple border.
    - ``max_nodes``: a graph with more ``Value``s is refused with a ``ValueError`` (a drawing of
      thousands of boxes is unreadable); raise it if you mean it.
    - ``fmt``: how numbers are written: a format string such as ``"{:.4g}"`` or a function.

    Requires the ``graphviz`` Python package (``pip install autograd-scalar[viz]``); the returned
    object renders with the ``dot`` program (``apt-get install graphviz``). Without them, use
    :func:`to_svg` or :func:`render`, which fall back to a built-in layout.

    >>> from autograd_scalar import Value
    >>> a = Value(3.0, label="a")
    >>> y = a * a + a
    >>> y.backward()
    >>> g = draw_graph(y)
    >>> type(g).__name__, "grad 7 = 3 + 3 + 1" in g.source
    ('Digraph', True)
    """
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            f"draw_graph needs the graphviz Python package: {INSTALL_PYTHON_GRAPHVIZ} (and the dot program: "
            f"{INSTALL_DOT}); or use autograd_scalar.viz.to_svg, which needs neither"
        ) from error
    scene = _scene(
        root, show_data=show_data, show_grad=show_grad, fmt=fmt, highlight=highlight, max_nodes=max_nodes,
        caller="draw_graph",
    )  # fmt: skip
    graph = graphviz.Digraph("autograd", format="svg")
    graph.body.extend("\t" + line + "\n" for line in _dot_statements(scene, rankdir) + _dot_clusters(scene.nodes))
    return graph


# ---- rendering to files --------------------------------------------------------------------------


def render(root: Value, path: str | os.PathLike, **options: Any) -> Path:
    """Write a drawing of ``root``'s graph to ``path``, in the format its extension names.

    - ``.svg``: laid out by graphviz's ``dot`` when it is installed, else by the built-in layout
      of :func:`to_svg` (a one-line note on stderr says how to get the better layout); when ``dot``
      fails (version 2.43 crashes on a sum of 300 terms) or takes more than ``DOT_TIMEOUT``
      seconds, the built-in layout too, with a one-line note saying why;
    - ``.png``: needs ``dot`` (a ``RuntimeError`` says how to install it);
    - ``.dot``: the DOT source of :func:`to_dot`.

    ``options`` are those of :func:`to_dot` (the built-in layout takes all but ``rankdir``).
    The file is written atomically (:mod:`autograd_scalar.atomic`): a failure leaves any previous
    file as it was. Returns the path written.

    >>> import tempfile, pathlib
    >>> from autograd_scalar import Value
    >>> x = Value(1.0, label="x")
    >>> y = x * x
    >>> y.backward()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = render(y, pathlib.Path(tmp) / "y.dot")
    ...     written.read_text().startswith("digraph")
    True
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png", ".dot"):
        raise ValueError(f"render: cannot tell the format from {str(path)!r}; use a .svg, .png or .dot file name")
    if path.exists() and not path.is_file():
        raise ValueError(f"render: {str(path)!r} is {file_kind(path.stat().st_mode)}; give a file name such as "
                         f"graph{suffix}")
    if suffix == ".dot":
        write_atomic(path, to_dot(root, **options))
        return path
    dot = shutil.which("dot")
    if suffix == ".png":
        if dot is None:
            raise RuntimeError(
                f"render: writing {str(path)!r} as PNG needs graphviz's dot program, which is not on PATH: "
                f"{INSTALL_DOT}. Or write .svg, which works without it"
            )
        write_atomic(path, _run_dot(dot, to_dot(root, **options), "png"))
        return path
    svg_options = {key: value for key, value in options.items() if key != "rankdir"}
    if dot is None:
        write_atomic(path, to_svg(root, **svg_options))
        print(f"render: graphviz's dot not found, so {path} uses the built-in layout; for dot's: {INSTALL_DOT}",
              file=sys.stderr)  # fmt: skip
        return path
    source = to_dot(root, **options)
    try:
        drawing = _run_dot(dot, source, "svg")
    except RuntimeError as error:  # dot 2.43 crashes on some large fan-outs (a sum of 300 terms)
        write_atomic(path, to_svg(root, **svg_options))
        print(f"{error}; so {path} uses the built-in layout", file=sys.stderr)
        return path
    write_atomic(path, drawing)
    return path


DOT_TIMEOUT = 60
"""Seconds ``dot`` may take before :func:`render` gives up on it (and, for SVG, uses the built-in layout)."""


def _run_dot(dot: str, source: str, fmt: str) -> bytes:
    """``dot -T{fmt}``'s output; a crash, an error or a timeout is a one-line ``RuntimeError``."""
    extra = ["-Gdpi=150"] if fmt == "png" else []
    try:
        result = subprocess.run(
            [dot, f"-T{fmt}", *extra], input=source.encode("utf-8"), capture_output=True, timeout=DOT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"render: dot -T{fmt} took more than {DOT_TIMEOUT} s") from None
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").split("\n")
        message = " ".join(line.strip() for line in lines if line.strip())[:300]
        code = result.returncode
        how = f"crashed (signal {-code})" if code < 0 else f"failed (exit {code})"
        raise RuntimeError(f"render: dot -T{fmt} {how}" + (f": {message}" if message else ""))
    return result.stdout


# ---- the built-in layout, as SVG -------------------------------------------------------------------

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
CHAR = 0.61  # width of one character of a monospaced font, in ems
SIZE = 12  # font size of the data and grad rows
ROW = 16  # height of one row of text
PAD = 8  # inner margin of a box
OP_GAP = 16  # from an operation node to its result's box
LAYER_GAP = 46  # horizontal room for the edges between two layers
MARGIN = 16


def _text_width(text: str, size: float = SIZE) -> float:
    return len(text) * CHAR * size


@dataclass
class _Geometry:
    width: float
    height: float
    rows: list[tuple[str, str]]  # (class, text), top to bottom


def _box_geometry(box: _Box) -> _Geometry:
    rows = []
    if box.label or box.uses > 1:
        rows.append(("label", box.label))
    if box.data is not None:
        rows.append(("data", box.data))
    if box.grad is not None:
        rows.append(("grad", box.grad))
    widths = [_text_width(text, SIZE + 1 if cls == "label" else SIZE) for cls, text in rows]
    if box.uses > 1:
        widths[0] += _text_width(_uses_text(box), 9) + 10
    width = max([*widths, 36.0]) + 2 * PAD
    height = max(len(rows), 1) * ROW + 2 * (PAD - 2)
    return _Geometry(width, height, rows)


def _op_size(box: _Box) -> tuple[float, float]:
    symbol = RULES[box.op].symbol
    return (26.0, 26.0) if len(symbol) <= 2 else (_text_width(symbol) + 16, 24.0)


def _port_dy(slot: int, n_args: int) -> float:
    """Where argument ``slot`` enters its operation node, relative to the node's center."""
    return (slot - (n_args - 1) / 2) * 10.0


def to_svg(
    root: Value,
    *,
    highlight: Value | Iterable[Value] | None = None,
    show_data: bool = True,
    show_grad: bool = True,
    fmt: Formatter = "{:.4g}",
    max_nodes: int = 500,
) -> str:
    """The graph of ``root`` as a self-contained SVG document, laid out in pure Python (no ``dot``).

    Inputs on the left, the output on the right, each operation just before its result; see
    :mod:`autograd_scalar.layout` for how. Value ``i`` (its index in ``topological_order(root)``)
    is ``<g class="value" id="v{i}" data-index="{i}">`` with ``<text class="label">``,
    ``<text class="data">`` and ``<text class="grad">`` inside; its operation is
    ``<g class="op" id="op{i}">``; an edge from value ``i`` into the operation that makes value
    ``j`` is ``<path class="edge" data-from="{i}" data-to="{j}">``. Styles are attributes, not a
    stylesheet, so the SVG can be embedded in a page without affecting it. Options as in
    :func:`draw_graph`.

    >>> from autograd_scalar import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * 3).tanh()
    >>> y.backward()
    >>> svg = to_svg(y)
    >>> svg.startswith("<svg"), svg.count('class="value"'), svg.count('class="op"')
    (True, 3, 2)
    """
    from .layout import assign_layers, place

    scene = _scene(
        root, show_data=show_data, show_grad=show_grad, fmt=fmt, highlight=highlight, max_nodes=max_nodes,
        caller="to_svg",
    )  # fmt: skip
    boxes = scene.boxes
    n = len(boxes)
    geometry = [_box_geometry(box) for box in boxes]
    constants = scene.constants()
    # Layout items: 0..n-1 the values (an operation rides with its result), then the constants.
    parents: list[list[int]] = [[] for _ in range(n)]
    for arg in scene.args:
        if arg.source is not None:
            parents[arg.op_index].append(arg.source)
    layers = assign_layers(parents)
    references = _references(scene.args, layers)
    for arg in references:
        arg.text = "↪ " + (boxes[arg.source].label or (boxes[arg.source].data or "").replace("data ", ""))
    constants += references  # drawn like a constant: a small box just before the operation
    const_item = {id(arg): n + k for k, arg in enumerate(constants)}
    layers += [layers[arg.op_index] - 1 for arg in constants]
    const_size = [(_text_width(arg.text, 11) + 10, 18.0) for arg in constants]
    heights = [g.height for g in geometry] + [h for _, h in const_size]
    edges = []
    for arg in scene.args:
        source = arg.source if id(arg) not in const_item else const_item[id(arg)]
        edges.append((source, arg.op_index, _port_dy(arg.slot, boxes[arg.op_index].n_args)))
    tree = _group_tree(scene.nodes)
    group_path = [()] * n
    for group, indices in tree[0].items():
        for i in indices:
            group_path[i] = tuple(group.path)
    clusters = group_path + [group_path[arg.op_index] for arg in constants]  # a constant sits with its operation
    placement = place(layers, heights, edges, clusters=clusters, frame=(GROUP_PAD, GROUP_LABEL))

    # Columns: per layer, the operations' column, then the boxes' column.
    depth = max(layers) + 1
    op_width = [0.0] * depth
    box_width = [0.0] * depth
    for box, g in zip(boxes, geometry):
        layer = layers[box.index]
        box_width[layer] = max(box_width[layer], g.width)
        if box.op:
            op_width[layer] = max(op_width[layer], _op_size(box)[0])
    for arg, (w, _) in zip(constants, const_size):
        box_width[layers[const_item[id(arg)]]] = max(box_width[layers[const_item[id(arg)]]], w)
    column = []  # left edge of each layer's boxes
    x = MARGIN
    for layer in range(depth):
        if layer:
            x += LAYER_GAP
        if op_width[layer]:
            x += op_width[layer] + OP_GAP
        column.append(x)
        x += box_width[layer]
    width = x + MARGIN
    top = min(placement.y[i] - placement.height[i] / 2 for i in range(len(placement.y)))
    bottom = max(placement.y[i] + placement.height[i] / 2 for i in range(len(placement.y)))
    shift = MARGIN - top
    height = bottom - top + 2 * MARGIN

    def ypos(item: int) -> float:
        return placement.y[item] + shift

    def op_center(i: int) -> float:
        layer = layers[i]
        return column[layer] - OP_GAP - op_width[layer] / 2

    def item_right(item: int) -> float:
        if item < n:
            return column[layers[item]] + geometry[item].width
        layer = layers[item]
        return column[layer] + box_width[layer]  # constants sit at the right of their column

    def value_span(i: int) -> tuple[int, float, float]:
        return layers[i], ypos(i) - geometry[i].height / 2, ypos(i) + geometry[i].height / 2

    def column_span(layer: int) -> tuple[float, float]:
        return column[layer] - (OP_GAP + op_width[layer] if op_width[layer] else 0.0), column[layer] + box_width[layer]

    frames = _group_frames(tree, value_span, column_span)
    # frames may reach past the margins: grow the picture and move everything by (dx, dy)
    corners = [seg for _, segments, _ in frames for seg in segments]
    dx = max([0.0] + [MARGIN / 2 - seg[0] for seg in corners])
    dy = max([0.0] + [MARGIN / 2 - seg[1] for seg in corners])
    width = max([width + dx] + [seg[2] + dx + MARGIN / 2 for seg in corners])
    height = max([height + dy] + [seg[3] + dy + MARGIN / 2 for seg in corners])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="{-dx:.1f} {-dy:.1f} {width:.1f} {height:.1f}" font-family="{FONT}" font-size="{SIZE}" '
        'role="img">',
        "<title>computation graph</title>",
        '<defs><marker id="autograd-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" fill="context-stroke"/>'
        "</marker></defs>",
        f'<rect x="{-dx:.1f}" y="{-dy:.1f}" width="{width:.1f}" height="{height:.1f}" fill="white"/>',
    ]
    for name, segments, holds_groups in frames:  # outer groups first, so inner frames are drawn over them
        x0, y0 = segments[0][:2]
        # a frame around other frames is drawn lighter and solid, so the innermost ones (neurons) stand out
        stroke = 'stroke="#c3b5f5"' if holds_groups else 'stroke="#7048e8" stroke-dasharray="5,3"'
        out.append(
            f'<g class="group" data-group="{_html(name)}"><path d="{_frame_path(segments)}" fill="#f7f4ff" '
            f'fill-opacity="0.6" {stroke} stroke-linejoin="round"/><text x="{x0 + 6:.1f}" '
            f'y="{y0 + GROUP_LABEL - 3:.1f}" font-size="10" fill="#5233c4">{_html(name)}</text></g>'
        )
    shared = {box.index for box in boxes if box.uses > 1}
    for arg, bends in zip(scene.args, placement.bends):
        j = arg.op_index
        source = arg.source if id(arg) not in const_item else const_item[id(arg)]
        start = (item_right(source), ypos(source))
        w_op, h_op = _op_size(boxes[j])
        dy = _port_dy(arg.slot, boxes[j].n_args)
        if w_op == h_op:
            entry_x = op_center(j) - math.sqrt(max((w_op / 2) ** 2 - dy * dy, 0.0))
        else:
            entry_x = op_center(j) - w_op / 2
        points = [start]
        for dummy in bends:
            layer = placement.layer[dummy]
            points.append((column[layer] - OP_GAP - op_width[layer], ypos(dummy)))
            points.append((column[layer] + box_width[layer], ypos(dummy)))
        points.append((entry_x, ypos(j) + dy))
        d = _smooth_path(points)
        if arg.source is None:
            out.append(
                f'<path class="const-edge" data-to="{j}" d="{d}" fill="none" stroke="#bbbbbb" '
                'stroke-dasharray="3,2" marker-end="url(#autograd-arrow)"/>'
            )
        else:
            color = COLORS["shared_edge"] if arg.source in shared else COLORS["edge"]
            ref = ' data-ref="1"' if id(arg) in const_item else ""
            out.append(
                f'<path class="edge" data-from="{arg.source}" data-to="{j}" data-slot="{arg.slot}"{ref} d="{d}" '
                f'fill="none" stroke="{color}" stroke-width="1.2" marker-end="url(#autograd-arrow)"/>'
            )
    for box, g in zip(boxes, geometry):
        if box.op:
            out.extend(_svg_op(box, op_center(box.index), ypos(box.index), column[layers[box.index]]))
        out.extend(_svg_box(box, g, column[layers[box.index]], ypos(box.index)))
    for arg, (w, h) in zip(constants, const_size):
        item = const_item[id(arg)]
        x0 = item_right(item) - w
        y0 = ypos(item) - h / 2
        kind, stroke = ("const", "#bbbbbb") if arg.source is None else ("ref", COLORS["shared"])
        source = "" if arg.source is None else f' data-from="{arg.source}"'
        out.append(
            f'<g class="{kind}"{source} data-to="{arg.op_index}"><rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" '
            f'height="{h:.1f}" rx="4" fill="white" stroke="{stroke}" stroke-dasharray="3,2"/>'
            f'<text x="{x0 + w / 2:.1f}" y="{y0 + h / 2 + 4:.1f}" text-anchor="middle" font-size="11" '
            f'fill="{COLORS["const"]}">{_html(arg.text)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


GROUP_PAD = 6  # between a group's frame and what it holds
GROUP_LABEL = 13  # room for the group's name above its contents


def _group_frames(tree: tuple[dict[Any, list[int]], dict[Any, list[Any]]],
                  value_span: Callable[[int], tuple[int, float, float]],
                  column_span: Callable[[int], tuple[float, float]]) -> list[tuple[str, list[tuple], bool]]:
    """``(name, segments, holds_groups)`` for every group, outer before inner: for each layer the group reaches, the
    rectangle ``(x0, y0, x1, y1)`` around its values there (and its subgroups' rectangles), a column
    wide. Traced layer by layer, a frame follows the group, so it holds no value of another group
    (the layout keeps each group's items together in every layer)."""
    members, children = tree
    frames: list[Any] = []

    def frame(group: Any, depth: int) -> dict[int, tuple[float, float]]:
        spot = len(frames)
        frames.append(None)
        spans: dict[int, list[tuple[float, float]]] = {}
        for i in members.get(group, []):
            layer, top, bottom = value_span(i)
            spans.setdefault(layer, []).append((top, bottom))
        for child in children.get(group, []):
            for layer, span in frame(child, depth + 1).items():
                spans.setdefault(layer, []).append(span)
        ranges = {layer: (min(t for t, _ in s) - GROUP_PAD - GROUP_LABEL, max(b for _, b in s) + GROUP_PAD)
                  for layer, s in spans.items()}
        first, last = min(ranges), max(ranges)
        for layer in range(first + 1, last):  # a layer the group only passes through: bridge it
            if layer not in ranges:
                before, after = ranges[max(k for k in ranges if k < layer)], ranges[min(k for k in ranges if k > layer)]
                ranges[layer] = (min(before[0], after[0]), max(before[1], after[1]))
        reach = max(2.0, LAYER_GAP / 2 - 2 - 4 * depth)  # how far into the gaps beside a column; less when nested
        segments = []
        for layer in sorted(ranges):
            left, right = column_span(layer)
            segments.append((left - reach, ranges[layer][0], right + reach, ranges[layer][1]))
        frames[spot] = (clean_label(group.name), segments, bool(children.get(group)))
        return ranges

    for group in children.get(None, []):
        frame(group, 0)
    return frames


def _frame_path(segments: list[tuple[float, float, float, float]]) -> str:
    """The outline of side-by-side rectangles (left to right), as an SVG path: along the tops, back along
    the bottoms."""
    points = [p for x0, y0, x1, _ in segments for p in ((x0, y0), (x1, y0))]
    points += [p for x0, _, x1, y1 in reversed(segments) for p in ((x1, y1), (x0, y1))]
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + " Z"


def _references(args: list[_Arg], layers: list[int]) -> list[_Arg]:
    """Copies of the longest value edges, to draw as references, until at most ``MAX_BENDS`` crossings remain."""
    spans = sorted(((layers[a.op_index] - layers[a.source] - 1, k) for k, a in enumerate(args) if a.source is not None),
                   reverse=True)
    total = sum(span for span, _ in spans)
    chosen = []
    for span, k in spans:
        if total <= MAX_BENDS or span <= 0:
            break
        total -= span
        chosen.append(k)
    for k in chosen:
        args[k] = _Arg(args[k].op_index, args[k].slot, args[k].source, None)
    return [args[k] for k in sorted(chosen)]


def _smooth_path(points: list[tuple[float, float]]) -> str:
    """An SVG path through ``points``: curves that leave and arrive horizontally, and straight
    runs where a long edge passes a layer."""
    (x, y), *rest = points
    d = [f"M{x:.1f},{y:.1f}"]
    for k, (x2, y2) in enumerate(rest):
        passing = len(rest) > 1 and k % 2 == 1  # the run across a layer it skips
        if passing or abs(y2 - y) < 0.5:
            d.append(f"L{x2:.1f},{y2:.1f}")
        else:
            bend = max((x2 - x) * 0.5, 8.0)
            d.append(f"C{x + bend:.1f},{y:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}")
        x, y = x2, y2
    return " ".join(d)


def _svg_op(box: _Box, cx: float, cy: float, box_left: float) -> list[str]:
    fill, border = COLORS["op"]
    w, h = _op_size(box)
    symbol = _html(RULES[box.op].symbol)
    if w == h:
        shape = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{w / 2:.1f}" fill="{fill}" stroke="{border}"/>'
    else:
        shape = (
            f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{h / 2:.1f}" '
            f'fill="{fill}" stroke="{border}"/>'
        )
    return [
        f'<g class="op" id="op{box.index}" data-op="{_html(box.op)}"><title>{_html(_op_tooltip(box.op))}</title>',
        shape,
        f'<text x="{cx:.1f}" y="{cy + 4.5:.1f}" text-anchor="middle" font-size="{SIZE + 3 if w == h else SIZE + 1}" '
        f'fill="#333333">{symbol}'
        "</text></g>",
        f'<path class="op-link" d="M{cx + w / 2:.1f},{cy:.1f} L{box_left:.1f},{cy:.1f}" stroke="{COLORS["edge"]}" '
        'stroke-width="1.2" marker-end="url(#autograd-arrow)"/>',
    ]


def _svg_box(box: _Box, g: _Geometry, x: float, cy: float) -> list[str]:
    fill, border = COLORS[box.kind]
    stroke_width = 1.2
    if box.uses > 1:
        border, stroke_width = COLORS["shared"], 2.0
    classes = "value" + (" shared" if box.uses > 1 else "") + (" highlight" if box.highlighted else "")
    y = cy - g.height / 2
    out = [f'<g class="{classes}" id="v{box.index}" data-index="{box.index}">']
    if box.highlighted:
        out.append(
            f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="{g.width + 8:.1f}" height="{g.height + 8:.1f}" rx="9" '
            f'fill="none" stroke="{COLORS["halo"]}" stroke-width="5"/>'
        )
        border, stroke_width = COLORS["highlight"], 2.5
    out.append(
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{g.width:.1f}" height="{g.height:.1f}" rx="6" fill="{fill}" '
        f'stroke="{border}" stroke-width="{stroke_width}"/>'
    )
    baseline = y + PAD - 2 + ROW - 4
    has_label = False
    for cls, text in g.rows:
        if cls == "label":
            has_label = True
            out.append(
                f'<text class="label" x="{x + PAD:.1f}" y="{baseline:.1f}" font-size="{SIZE + 1}" '
                f'font-weight="bold" fill="{COLORS["text"]}">{_html(text)}</text>'
            )
            if box.uses > 1:
                out.append(
                    f'<text class="uses" x="{x + g.width - PAD:.1f}" y="{baseline:.1f}" font-size="9" '
                    f'text-anchor="end" fill="{COLORS["shared"]}">{_html(_uses_text(box))}</text>'
                )
        else:
            out.append(
                f'<text class="{cls}" x="{x + PAD:.1f}" y="{baseline:.1f}" fill="{COLORS[cls]}" '
                f'xml:space="preserve">{_html(text)}</text>'
            )
        baseline += ROW
    if not has_label:
        out.append(f'<text class="label" x="{x + PAD:.1f}" y="{y + PAD:.1f}" font-size="{SIZE + 1}"></text>')
    out.append("</g>")
    return out
