"""serialize: a JSON save/load round trip is exact to the bit, and every kind of bad file (too large,
not JSON, truncated, another format or version, wrong shape, NaN/inf, strings or null where numbers
go, a bad architecture) raises a ValueError naming the problem and leaves the model untouched."""

from __future__ import annotations

import json

import pytest

from autograd_scalar import serialize
from autograd_scalar.nn import MLP
from autograd_scalar.serialize import FORMAT, MAX_BYTES, VERSION, load, load_into, save


def bits(model: MLP) -> list[str]:
    return [p.data.hex() for p in model.parameters()]


@pytest.fixture
def saved(tmp_path):
    model = MLP(2, [3, 2], activation="relu", output_activation="sigmoid", seed=4)
    tricky = [0.1, 1 / 3, -0.0, 5e-324, 1.7976931348623157e308, -2.5e-308, 123456789.123456789, 2**-30]
    for p, value in zip(model.parameters(), tricky):
        p.data = value
    path = tmp_path / "model.json"
    save(model, path)
    return model, path


def test_round_trip_is_exact(saved):
    model, path = saved
    copy = load(path)
    assert bits(copy) == bits(model)
    assert copy.architecture() == model.architecture()
    assert [name for name, _ in copy.named_parameters()] == [name for name, _ in model.named_parameters()]
    x = [0.3, -0.7]
    assert [v.data for v in copy(x)] == [v.data for v in model(x)]


def test_file_holds_format_version_architecture_and_every_parameter(saved):
    model, path = saved
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT and data["version"] == VERSION == 1
    assert data["architecture"] == {"nin": 2, "nouts": [3, 2], "activation": "relu", "output_activation": "sigmoid"}
    assert data["parameters"] == [p.data for p in model.parameters()]
    assert len(data["parameters"]) == 3 * 3 + 2 * 4


def test_methods_and_load_into(saved, tmp_path):
    model, path = saved
    assert bits(MLP.load(path)) == bits(model)
    other = MLP(2, [3, 2], activation="relu", output_activation="sigmoid", seed=99)
    load_into(other, path)
    assert bits(other) == bits(model)
    second = tmp_path / "second.json"
    other.save(second)
    assert second.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_load_into_a_different_architecture_changes_nothing(saved):
    _, path = saved
    other = MLP(2, [3, 2], seed=99)                      # tanh / linear, not relu / sigmoid
    before = bits(other)
    with pytest.raises(ValueError, match="the file holds .* but the model is"):
        load_into(other, path)
    assert bits(other) == before


def test_save_refuses_a_non_finite_parameter(tmp_path):
    model = MLP(2, [1], seed=0)
    model.parameters()[1].data = float("inf")
    with pytest.raises(ValueError, match="parameter 'layers.0.neurons.0.w.1' is inf"):
        save(model, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()


def _edit(key, value):
    def change(data):
        data[key] = value
        return json.dumps(data)
    return change


def _edit_arch(key, value):
    def change(data):
        data["architecture"][key] = value
        return json.dumps(data)
    return change


def _param(index, literal):
    def change(data):
        values = [repr(v) for v in data["parameters"]]
        values[index] = literal
        data["parameters"] = "@"
        return json.dumps(data).replace('"@"', "[" + ", ".join(values) + "]")
    return change


BAD_FILES = {
    "truncated": (lambda data: json.dumps(data)[:60], "not valid JSON"),
    "cut at the last bracket": (lambda data: json.dumps(data)[:-1], "not valid JSON"),
    "empty": (lambda data: "", "not valid JSON"),
    "not JSON": (lambda data: "weights: 1, 2, 3", "not valid JSON"),
    "a JSON list": (lambda data: json.dumps([1, 2, 3]), "expected a JSON object, got list"),
    "another format": (_edit("format", "micrograd"), "format is 'micrograd', expected 'autograd_scalar.MLP'"),
    "no format": (lambda data: json.dumps({k: v for k, v in data.items() if k != "format"}), "format is None"),
    "version 2": (_edit("version", 2), "format version 2 is not supported"),
    "version as string": (_edit("version", "1"), "format version '1' is not supported"),
    "one parameter missing": (lambda data: json.dumps(dict(data, parameters=data["parameters"][:-1])),
                              "wrong shape: MLP\\(2, \\[3, 2\\]\\) has 17 parameters, the file holds 16"),
    "one parameter too many": (lambda data: json.dumps(dict(data, parameters=data["parameters"] + [0.0])),
                               "has 17 parameters, the file holds 18"),
    "shape of another network": (_edit_arch("nouts", [4, 2]), "MLP\\(2, \\[4, 2\\]\\) has 22 parameters"),
    "parameters not a list": (_edit("parameters", {"w": 1}), "'parameters' must be a list of numbers, got dict"),
    "NaN": (_param(3, "NaN"), "NaN is not a finite number"),
    "Infinity": (_param(0, "Infinity"), "Infinity is not a finite number"),
    "-Infinity": (_param(16, "-Infinity"), "-Infinity is not a finite number"),
    "1e999 (parses to inf)": (_param(5, "1e999"), "parameter 5 is inf; expected a finite number"),
    "a string": (_param(2, '"0.5"'), "parameter 2 is '0.5'; expected a number"),
    "null": (_param(2, "null"), "parameter 2 is None; expected a number"),
    "a boolean": (_param(1, "true"), "parameter 1 is True; expected a number"),
    "a nested list": (_param(1, "[1.0]"), r"parameter 1 is \[1.0\]; expected a number"),
    "unknown activation": (_edit_arch("activation", "swish"), "architecture 'activation' is 'swish'"),
    "nin as string": (_edit_arch("nin", "2"), "architecture 'nin' must be a positive int, got '2'"),
    "nin zero": (_edit_arch("nin", 0), "architecture 'nin' must be a positive int, got 0"),
    "nouts with a float": (_edit_arch("nouts", [3.0, 2]), "'nouts' must be a non-empty list of positive ints"),
    "architecture missing": (_edit("architecture", None), "'architecture' must be an object, got None"),
    "extra architecture key": (_edit_arch("dropout", 0.5), "must have exactly the keys"),
    "deeply nested": (lambda data: "[" * 100000 + "]" * 100000, "nested too deeply|expected a JSON object"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_raises_value_error_and_leaves_the_model_untouched(saved, tmp_path, name):
    _, good = saved
    make, message = BAD_FILES[name]
    bad = tmp_path / "bad.json"
    bad.write_text(make(json.loads(good.read_text(encoding="utf-8"))), encoding="utf-8")
    model = MLP(2, [3, 2], activation="relu", output_activation="sigmoid", seed=1)
    before = bits(model)
    with pytest.raises(ValueError, match=message):
        load_into(model, bad)
    with pytest.raises(ValueError, match=message):
        load(bad)
    assert bits(model) == before


def test_binary_garbage_is_refused(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_bytes(b"\x80\x81\xfe\xff" * 10)
    with pytest.raises(ValueError, match="not a text file"):
        load(bad)


def test_absurdly_large_file_is_refused_before_reading(tmp_path):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as file:
        file.truncate(MAX_BYTES + 1)                        # sparse: takes no disk space
    with pytest.raises(ValueError, match=f"file is {MAX_BYTES + 1} bytes, more than the limit of {MAX_BYTES}"):
        load(huge)


def test_the_size_limit_is_enforced_by_reading_too(tmp_path, monkeypatch):
    # a file that grows between the size check and the read is cut off at the limit, not read whole
    path = tmp_path / "model.json"
    path.write_text(" " * 200 + "{}", encoding="utf-8")
    monkeypatch.setattr(serialize.os.path, "getsize", lambda p: 10)
    monkeypatch.setattr(serialize, "MAX_BYTES", 100)
    with pytest.raises(ValueError, match="more than the limit of 100 bytes"):
        load(path)


def test_no_pickle_anywhere():
    import inspect

    source = inspect.getsource(serialize)
    assert "pickle" not in source.replace("never pickle", "")
