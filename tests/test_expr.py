"""The expression parser: it builds the same graph as Python operators would, never evaluates the
text, and rejects everything outside its whitelist with a ValueError that says what was rejected:
characters outside ASCII (fullwidth letters, a Cyrillic x) named by their Unicode name, values too
large for a float, and no SyntaxWarning printed on the way (#15)."""

from __future__ import annotations

import math

import pytest

from autograd_scalar.expr import MAX_LENGTH, parse_assignments, parse_expression


def test_builds_the_graph_the_operators_build():
    root, leaves = parse_expression("tanh(x*w + b)", {"x": 1, "w": 2, "b": -1})
    assert list(leaves) == ["x", "w", "b"]
    x, w, b = leaves.values()
    assert [leaf.label for leaf in leaves.values()] == ["x", "w", "b"]
    assert root.op == "tanh"
    (add,) = root.parents
    assert add.op == "add"
    mul, bias = add.parents
    assert bias is b and mul.op == "mul" and mul.parents == (x, w)
    root.backward()
    assert root.data == math.tanh(1.0)
    assert w.grad == pytest.approx(x.data * (1 - math.tanh(1.0) ** 2))


def test_a_name_used_twice_is_one_node():
    root, leaves = parse_expression("a*a + a", {"a": 3})
    root.backward()
    assert leaves["a"].grad == 7.0
    mul, a = root.parents
    assert mul.parents == (a, a)


def test_numbers_stay_constants_and_number_only_parts_are_folded():
    root, leaves = parse_expression("x*3", {"x": 2})
    assert root.args == (leaves["x"], 3.0)
    root, leaves = parse_expression("2*3*x", {"x": 2})
    assert root.args == (6.0, leaves["x"])
    root, _ = parse_expression("2**x - -x/4 + exp(0)", {"x": 1.5})
    assert root.data == pytest.approx(2**1.5 + 1.5 / 4 + 1)


@pytest.mark.parametrize(
    ("text", "op"),
    [("x + y", "add"), ("x - y", "sub"), ("x * y", "mul"), ("x / y", "div"), ("x ** y", "vpow"), ("x ** 2", "pow"),
     ("2 ** x", "rpow"), ("-x", "neg"), ("exp(x)", "exp"), ("log(x)", "log"), ("tanh(x)", "tanh"),
     ("sigmoid(x)", "sigmoid"), ("relu(x)", "relu"), ("sqrt(x)", "sqrt"), ("abs(x)", "abs")],
)  # fmt: skip
def test_every_operation(text, op):
    values = {"x": 1.5, "y": 0.5} if "y" in text else {"x": 1.5}
    root, _ = parse_expression(text, values)
    assert root.op == op


def test_unary_plus_and_deep_nesting_do_not_recurse():
    root, leaves = parse_expression("-" * 1500 + "+x", {"x": 2})
    assert root.data == 2.0 and root.op == "neg"
    chain = "+".join(["x"] * 900)
    root, _ = parse_expression(chain, {"x": 1})
    assert root.data == 900.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "cannot call '__import__'"),
        ("__import__('os').system('true')", "attribute access not allowed"),
        ("x.real", "attribute access not allowed: 'x.real'"),
        ("x.__class__", "attribute access not allowed"),
        ("x[0]", "subscripts not allowed: 'x[0]'"),
        ("print(x)", "cannot call 'print'"),
        ("open('f')", "cannot call 'open'"),
        ("exp(x=1)", "keyword arguments not allowed"),
        ("exp(x, x)", "exp takes exactly one argument"),
        ("exp(*x)", "exp takes exactly one argument"),
        ("(lambda: 1)()", "not allowed"),
        ("lambda: x", "lambda not allowed"),
        ("[x for x in y]", "comprehensions not allowed"),
        ("sum(x for x in y)", "cannot call 'sum'"),
        ("'x'", "strings not allowed"),
        ("b'x'", "strings not allowed"),
        ("f'{x}'", "f-strings not allowed"),
        ("(y := 2) * x", "assignment expressions (:=) not allowed"),
        ("x if x else 1", "'if ... else' not allowed"),
        ("x < 1", "comparisons not allowed"),
        ("x and 1", "'and' / 'or' not allowed"),
        ("x, 1", "tuples not allowed"),
        ("x // 2", "the operator '//' is not supported"),
        ("x % 2", "the operator '%' is not supported"),
        ("~x", "the operator '~' is not supported"),
        ("True * x", "bool not allowed"),
        ("1j * x", "complex not allowed"),
        ("exp", "'exp' is a function"),
        ("x; import os", "is not a valid expression"),
        ("import os", "is not a valid expression"),
        ("x +", "is not a valid expression"),
        ("", "the expression is empty"),
        ("(" * 300 + "x" + ")" * 300, "is not a valid expression"),
        ("9" * 400 + " * x", "is too large for a float"),
        ("1e999 * x", "is too large for a float"),
    ],
)
def test_rejects_with_a_message(text, message):
    with pytest.raises(ValueError, match="parse_expression: ") as info:
        parse_expression(text, {"x": 1.0, "y": 2.0})
    assert message in str(info.value)
    assert len(str(info.value)) < 300  # long input is shortened in the message


def test_huge_exponents_fail_at_once_instead_of_hanging():
    # All arithmetic is on floats inside the engine: a tower of powers overflows, it is never an
    # exact integer computation (which would never finish).
    for text in ("9**9**9**9 * x", "x ** 10**10**10", "2 ** (10**400) * x"):
        with pytest.raises(ValueError, match=r"parse_expression: (cannot compute .*overflows|the number)"):
            parse_expression(text, {"x": 2.0})


def test_arithmetic_errors_name_the_sub_expression():
    with pytest.raises(ValueError, match=r"cannot compute 'log\(x - 1\)': log: input must be > 0, got 0.0"):
        parse_expression("log(x - 1) * 2", {"x": 1.0})
    with pytest.raises(ValueError, match=r"cannot compute 'x/0'.*division by zero"):
        parse_expression("x/0", {"x": 1.0})


def test_over_long_input_is_rejected_before_parsing():
    text = "x+" * MAX_LENGTH + "x"
    with pytest.raises(ValueError, match=f"at most {MAX_LENGTH}"):
        parse_expression(text, {"x": 1.0})


def test_values_must_match_the_names():
    with pytest.raises(ValueError, match=r"no value given for 'w', 'b'"):
        parse_expression("x*w + b", {"x": 1})
    with pytest.raises(ValueError, match=r"no value given for 'x'"):
        parse_expression("x*2")
    with pytest.raises(ValueError, match=r"names not in the expression: \['W'\]"):
        parse_expression("x*w", {"x": 1, "w": 2, "W": 2})
    with pytest.raises(ValueError, match=r"the value of 'x'.*finite"):
        parse_expression("x*2", {"x": float("nan")})
    with pytest.raises(TypeError, match=r"the value of 'x'"):
        parse_expression("x*2", {"x": "1"})
    with pytest.raises(ValueError, match="has no names"):
        parse_expression("2*3")
    with pytest.raises(TypeError, match="expected the expression as a str"):
        parse_expression(3)


def test_parse_assignments():
    assert parse_assignments("x=1,w=2,b=-1") == {"x": 1.0, "w": 2.0, "b": -1.0}
    assert parse_assignments(" x = 1.5e-3 , y=-0 ") == {"x": 0.0015, "y": 0.0}
    assert parse_assignments("") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", "expected name=number, got 'x'"),
        ("x=1,", "expected name=number"),
        ("1x=2", "'1x' is not a valid name"),
        ("for=2", "'for' is not a valid name"),
        ("x=1,x=2", "'x' is given twice"),
        ("x=abc", "'abc' is not a number"),
        ("x=nan", "must be a finite number, got 'nan'"),
        ("x=inf", "must be a finite number"),
        ("x=1e999", "must be a finite number"),
        ("x=" + "1" * MAX_LENGTH, "at most"),
    ],
)
def test_parse_assignments_rejects(text, message):
    with pytest.raises(ValueError, match="parse_assignments: ") as info:
        parse_assignments(text)
    assert message in str(info.value)


# ---- #15: every error named ----------------------------------------------------------------------


def test_a_value_too_large_for_a_float_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"parse_expression: the value of 'x'.*1000000"):
        parse_expression("x*2", {"x": 10**400})


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("ｅｘｐ(ｘ)", {"x": 1.0}, r"'ｅ' \(FULLWIDTH LATIN SMALL LETTER E\) at position 0 is not ASCII"),
        ("x + х", {"x": 1.0, "х": 2.0}, r"'х' \(CYRILLIC SMALL LETTER HA\) at position 4 is not ASCII"),
        ("x * ٣", {"x": 1.0}, r"ARABIC-INDIC DIGIT THREE"),
        ("α * 2", {"α": 1.0}, r"GREEK SMALL LETTER ALPHA"),
        ("x\u00a0+ 1", {"x": 1.0}, r"NO-BREAK SPACE"),
    ],
)
def test_characters_outside_ascii_are_refused_by_name(text, values, message):
    with pytest.raises(ValueError, match="parse_expression: .*" + message):
        parse_expression(text, values)


@pytest.mark.parametrize(("text", "message"), [
    ("х=1", "CYRILLIC SMALL LETTER HA"),
    ("x=٣", "ARABIC-INDIC DIGIT THREE"),
    ("x=１", "FULLWIDTH DIGIT ONE"),
])
def test_assignments_outside_ascii_are_refused_by_name(text, message):
    with pytest.raises(ValueError, match="parse_assignments: .*" + message):
        parse_assignments(text)


def test_invalid_literals_print_no_syntax_warning():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for text in ("1if x else 2", "0x1for", "1jor 2"):
            with pytest.raises(ValueError, match="parse_expression: "):
                parse_expression(text, {"x": 1.0})
    assert not caught, [str(w.message) for w in caught]


def test_generated_expressions_raise_only_named_value_or_type_errors():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    tokens = ["x", "y", "2", "0", "1e308", "1e-308", "10**400", "9**9**9", "+", "-", "*", "/", "**", "(", ")",
              "exp(", "log(", "tanh(", "sigmoid(", "relu(", "sqrt(", "abs(", " ", ".5", "1_0", "ｘ", "х", "٣",
              "0x10", "1j", "True", "None", "_", "lambda", ",", "[", "]", "'a'", "1e999", "inf", "nan", "1if"]
    numbers = [0.0, 1.0, -1.0, 1e308, -1e308, 5e-324, 10**400, 2, True, "1", None, math.inf, math.nan]

    @settings(max_examples=500, database=None)
    @given(st.lists(st.sampled_from(tokens), min_size=1, max_size=12).map("".join),
           st.dictionaries(st.sampled_from(["x", "y"]), st.sampled_from(numbers)))
    def check(text, values):
        try:
            root, _ = parse_expression(text, values)
        except (ValueError, TypeError) as error:
            assert str(error).startswith("parse_expression: "), error
            return
        assert math.isfinite(root.data)

    check()
