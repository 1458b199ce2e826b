"""Backpropagation, one node and one ``+=`` at a time: the step-through's public names in one place.

``trace_backward(root)`` returns the steps that ``root.backward()`` performs, in its order,
computed with the same rule table on the same floats (see :mod:`autograd_scalar.steptrace`, which
computes the trace once for every view). The views render it: the text transcript
(:func:`format_transcript`), the terminal (:mod:`autograd_scalar.stepthrough_term`, the
``autograd-scalar step`` command), the notebook (:func:`show_steps`) and the web page
(:func:`export_html`). :func:`naive_backward` shows why the order matters, and the worked
examples come from :mod:`autograd_scalar.examples`.

>>> from autograd_scalar import Value
>>> a = Value(3.0, label="a")
>>> steps = trace_backward(a * a + a)
>>> [c.contribution for c in steps[-1].incoming]     # a's gradient is the sum of three parts
[1.0, 3.0, 3.0]
"""

from __future__ import annotations

from .examples import EXAMPLES, branch_example, example, mazur_network, naive_example, sigmoid_neuron, tanh_neuron
from .stepthrough_html import StepView, export_html, show_steps
from .steptrace import (
    BackwardStep,
    Contribution,
    ForwardStep,
    NaiveComparison,
    NaiveVisit,
    Trace,
    agrees,
    fmt_num,
    format_naive,
    format_transcript,
    naive_backward,
    replay,
    rule_expression,
    rule_words,
    trace,
    trace_backward,
    trace_forward,
)

__all__ = [
    "EXAMPLES", "BackwardStep", "Contribution", "ForwardStep", "NaiveComparison", "NaiveVisit", "StepView", "Trace",
    "agrees", "branch_example", "example", "export_html", "fmt_num", "format_naive", "format_transcript",
    "mazur_network", "naive_backward", "naive_example", "replay", "rule_expression", "rule_words", "show_steps",
    "sigmoid_neuron", "tanh_neuron", "trace", "trace_backward", "trace_forward",
]
