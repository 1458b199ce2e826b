"""serialize: a JSON save/load round trip is exact to the bit, and every kind of bad file (too large,
not JSON, truncated, another format or version, wrong shape, NaN/inf, 10**400, strings or null where
numbers go, a bad architecture) raises a ValueError naming the problem and leaves the model untouched.
Reliability (#15): a save that fails half way keeps the previous file; a pipe, folder or device is
refused before it is opened (nothing blocks); a file asking for more than MAX_PARAMETERS is refused
before anything is built, at a bounded memory peak; serialize imports nothing of nn."""

from __future__ import annotations

import json
import os

import pytest

from autograd_scalar import serialize
from autograd_scalar.nn import MLP
from autograd_scalar.serialize import FORMAT, MAX_BYTES, MAX_PARAMETERS, VERSION, load_into, read, save

load = MLP.load


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
    "unknown activation": (_edit_arch("activation", "swish"), "the file holds .*'swish'.* but the model is"
                                                              "|unknown activation 'swish'"),
    "activation not a string": (_edit_arch("activation", 3), "architecture 'activation' must be an activation name"),
    "10**400 (too large for a float)": (_param(4, "1" + "0" * 400), "parameter 4 is 1000.*, too large for a float"),
    "an int of 5000 digits": (_param(4, "9" * 5000), "parameters must be finite numbers"),
    "nouts [300000, 1], 17 values": (_edit_arch("nouts", [300000, 1]),
                                     r"MLP\(2, \[300000, 1\]\) has 1200001 parameters, more than the limit of 500000"),
    "nin 10**400": (_edit_arch("nin", 10**400), "has .* parameters, more than the limit of 500000"),
    "nin as string": (_edit_arch("nin", "2"), "architecture 'nin' must be a positive int, got '2'"),
    "nin zero": (_edit_arch("nin", 0), "architecture 'nin' must be a positive int, got 0"),
    "nouts with a float": (_edit_arch("nouts", [3.0, 2]), "'nouts' must be a non-empty list of positive ints"),
    "architecture missing": (_edit("architecture", None), "'architecture' must be an object, got None"),
    "extra architecture key": (_edit_arch("dropout", 0.5), "must have exactly the keys"),
    "deeply nested": (lambda data: "[" * 100000 + "]" * 100000, "nested too deeply|more lists, objects"),
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
    real_fstat = os.fstat

    class Small:
        def __init__(self, fd):
            self.st_mode, self.st_size = real_fstat(fd).st_mode, 10

    monkeypatch.setattr(serialize.os, "fstat", Small)
    monkeypatch.setattr(serialize, "MAX_BYTES", 100)
    with pytest.raises(ValueError, match="more than the limit of 100 bytes"):
        load(path)


def test_no_pickle_anywhere():
    import inspect

    source = inspect.getsource(serialize)
    assert "pickle" not in source.replace("never pickle", "")


# ---- #15: nothing lost ---------------------------------------------------------------------------


class _HalfWriter:
    """A file whose write stores half the text, then raises (a disk filling up, Ctrl-C)."""

    def __init__(self, file, exception):
        self.file, self.exception = file, exception

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def write(self, text):
        self.file.write(text[: len(text) // 2])
        self.file.flush()
        raise self.exception


@pytest.mark.parametrize("exception", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["ENOSPC", "KeyboardInterrupt"])
def test_a_save_that_fails_half_way_keeps_the_previous_file(saved, monkeypatch, exception):
    from autograd_scalar import atomic

    model, path = saved
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, *a, **k: _HalfWriter(real_fdopen(fd, *a, **k), exception))
    with pytest.raises(type(exception)):
        save(MLP(2, [30, 2], seed=0), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert bits(load(path)) == bits(model)
    assert os.listdir(path.parent) == ["model.json"]          # no temporary file left behind


def test_a_save_past_the_file_size_limit_keeps_the_previous_file(saved, tmp_path):
    # ulimit -f: the write fails with EFBIG part way through, in a child process
    import subprocess
    import sys

    model, path = saved
    before = path.read_bytes()
    script = (
        "import resource, signal, sys\n"
        "from autograd_scalar.nn import MLP\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    MLP(2, [64, 2], seed=0).save(sys.argv[1])\n"
        "except OSError as error:\n"
        "    print(error.errno)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "27", result.stderr                # EFBIG
    assert path.read_bytes() == before
    assert bits(load(path)) == bits(model)
    assert os.listdir(path.parent) == ["model.json"]


def test_save_refuses_to_replace_a_folder_or_a_device(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(ValueError, match="a folder, not a regular file"):
        save(MLP(1, [1]), folder)
    with pytest.raises(ValueError, match="'/dev/null': a device, not a regular file"):
        save(MLP(1, [1]), "/dev/null")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


# ---- #15: nothing hangs, memory bounded by what the file asks for ---------------------------------


def _in_thread(function, *args):
    """Run ``function(*args)`` in a thread; the test fails, rather than the run hangs, if it blocks."""
    import threading

    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), f"{function.__name__}{args!r} blocked"
    return outcome


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    for function in (load, read, lambda path: load_into(MLP(1, [1]), path)):
        outcome = _in_thread(function, fifo)
        assert isinstance(outcome.get("error"), ValueError), outcome
        assert "a named pipe, not a regular file" in str(outcome["error"])


@pytest.mark.parametrize("path, kind", [("/dev/zero", "a device"), (".", "a folder")])
def test_a_device_or_folder_is_refused_before_reading(path, kind):
    outcome = _in_thread(read, path)
    assert isinstance(outcome.get("error"), ValueError) and f"{kind}, not a regular file" in str(outcome["error"])


def test_a_missing_file_is_file_not_found_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="load '.*nothing.json': no such file"):
        read(tmp_path / "nothing.json")


def _document(nin, nouts, parameters):
    return {"format": FORMAT, "version": VERSION,
            "architecture": {"nin": nin, "nouts": nouts, "activation": "tanh", "output_activation": "linear"},
            "parameters": parameters}


def test_a_huge_architecture_is_refused_before_anything_is_built(tmp_path):
    # The finding: MLP(1, [300000, 1]), every parameter 0, 1.7 MiB on disk, loaded at a 475 MiB peak.
    import tracemalloc

    path = tmp_path / "huge.json"
    path.write_text(json.dumps(_document(1, [300000, 1], [0] * 900001)), encoding="utf-8")
    tracemalloc.start()
    try:
        limit = f"more than {MAX_PARAMETERS} numbers|more than the limit of {MAX_PARAMETERS}"
        with pytest.raises(ValueError, match=limit):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 48 * 2**20, f"peak {peak / 2**20:.0f} MiB"          # was 475 MiB: about 20 bytes a number


def test_a_file_of_many_numbers_is_cut_off_while_parsing(tmp_path):
    path = tmp_path / "many.json"
    path.write_text(json.dumps(_document(1, [1], [0] * (MAX_PARAMETERS + 100))), encoding="utf-8")
    with pytest.raises(ValueError, match=f"more than {MAX_PARAMETERS} numbers"):
        read(path)


def test_a_file_of_many_small_lists_is_refused_before_parsing(tmp_path):
    path = tmp_path / "lists.json"
    path.write_text('{"parameters": [' + "[]," * 100000 + "[]]}", encoding="utf-8")
    with pytest.raises(ValueError, match="more lists, objects or strings than a saved model holds"):
        read(path)


def test_the_largest_model_under_the_cap_still_loads(tmp_path):
    nouts = [MAX_PARAMETERS // 3 - 1, 1]           # (1+1)*h + (h+1) = 3h + 1 parameters
    count = 3 * nouts[0] + 1
    assert count <= MAX_PARAMETERS
    path = tmp_path / "big.json"
    path.write_text(json.dumps(_document(1, nouts, [0.5] * count)), encoding="utf-8")
    assert len(read(path)["parameters"]) == count
    assert os.path.getsize(path) < MAX_BYTES


# ---- #15/#17: one import direction ------------------------------------------------------------------


def test_serialize_imports_nothing_of_nn_and_nn_imports_it_at_the_top():
    import ast
    import inspect
    import subprocess
    import sys

    from autograd_scalar import nn

    tree = ast.parse(inspect.getsource(serialize))
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [m for m in imported if m.endswith("nn")], imported
    hidden = [node for function in ast.walk(ast.parse(inspect.getsource(nn)))
              if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
              for node in ast.walk(function) if isinstance(node, ast.ImportFrom) and node.level > 0]
    assert not hidden, [ast.unparse(node) for node in hidden]
    code = "import sys, autograd_scalar.serialize; print('autograd_scalar.nn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


# ---- #15: generated model files get ValueError only ---------------------------------------------------


def test_generated_model_files_raise_only_value_error(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    good = _document(2, [3, 1], [0.25] * 13)
    leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**500, max_value=10**500),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5))
    value = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                         max_leaves=8)
    places = [("format",), ("version",), ("architecture",), ("architecture", "nin"), ("architecture", "nouts"),
              ("architecture", "activation"), ("parameters",), ("parameters", 0), ("parameters", 12)]
    path = tmp_path / "fuzz.json"

    @settings(max_examples=300, database=None)
    @given(st.sampled_from(places), value, st.integers(min_value=0, max_value=400), st.booleans())
    def check(place, replacement, cut, truncate):
        document = json.loads(json.dumps(good))
        target = document
        for key in place[:-1]:
            target = target[key]
        target[place[-1]] = replacement
        text = json.dumps(document)
        path.write_text(text[:cut] if truncate else text, encoding="utf-8")
        try:
            model = load(path)
        except ValueError:
            return
        assert model.architecture()["nin"] == 2

    check()
