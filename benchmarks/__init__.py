"""Benchmarks: autograd_scalar against a micrograd-design baseline, hand-written floats and torch.

``python -m benchmarks`` times four workloads (a long chain, a wide fan-out, an MLP training step
and a second derivative), each forward + backward, on every engine in the same run, interleaved,
after checking each engine's gradients against the hand-written floor; it prints a table and
writes ``benchmarks/results/results.json`` and ``results.md``. ``--quick`` runs small sizes in a
few seconds (the test suite runs it so that the benchmarks cannot rot).
"""
