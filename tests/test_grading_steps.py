"""Steps (aekeras_tools.grading.steps): a checks module's `Step` is checked when it is made, and a step's
sandbox holds its interpreter, its packages and its data, and nothing of the repository."""

import json

import numpy as np
import pytest

from aekeras_tools.grading import sandbox
from aekeras_tools.grading import steps

from grading_course import ROOT
from grading_course import require_sandbox

pytestmark = pytest.mark.tensorflow_only

PROBE = "export('ok', 1)"


def test_an_unknown_argument_is_an_error_that_names_it():
    with pytest.raises(TypeError, match="wal_s"):
        steps.Step("task1", PROBE, cells=["answer"], wal_s=30)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"name": "task 1"}, "Step.name must be an identifier. Received: name='task 1'"),
        ({"cells": "answer"}, "Step.cells must be a list of names. Received: cells='answer'"),
        ({"keep": ["../model.keras"]}, "Step.keep holds an invalid name"),
        ({"data": ["cifar10"]}, "Step.data names datasets the grader does not know"),
        ({"numpy_only": True, "cells": None}, "a NumPy-only step runs answer cells alone"),
        ({"numpy_only": True, "data": ["mnist"]}, "takes no `given`"),
        ({"cells": [], "given": ["setup"]}, "a step without answer cells takes none"),
        ({"wall_s": -1}, "Limits.wall_s must be a positive number. Received: wall_s=-1"),
        ({"inputs": 3}, "Step.inputs must be a function"),
    ],
)
def test_a_bad_value_is_an_error_that_says_what_was_expected(kwargs, words):
    arguments = {"name": "task1", "probe": PROBE, "cells": ["answer"], **kwargs}
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        steps.Step(**arguments)


def run(step, cells, tmp_path, inputs=None, data_home=None):
    require_sandbox()
    return steps.run_step(
        step, cells, tmp_path, inputs, backend="tensorflow", threads=1, data_home=data_home
    )


def test_a_numpy_only_step_has_numpy_and_nothing_else_even_by_path(tmp_path):
    import keras  # noqa: F401 (its folder exists on this machine: the step must not reach it)

    site = str(ROOT / ".venv")
    probe = f"""
import importlib, sys
for path in {[str(p) for p in steps._site_packages_of_base()]!r} + [{site!r}]:
    sys.path.append(path)
for name in ("keras", "scipy", "aekeras", "sklearn", "tensorflow"):
    try:
        importlib.import_module(name)
        export(name, "imported")
    except ImportError as error:
        export(name, str(error))
attempt("double", double, inputs["x"])
"""
    step = steps.Step("numpy", probe, cells=["answer"], numpy_only=True)
    result, errors, values = run(
        step,
        [{"id": "answer", "source": "def double(x):\n    return 2 * np.asarray(x)"}],
        tmp_path,
        {"x": np.arange(3.0)},
    )
    assert result.status == sandbox.OK, result
    assert errors == {}
    np.testing.assert_array_equal(values["numpy.double"], [0.0, 2.0, 4.0])
    for name in ("keras", "scipy", "aekeras", "sklearn", "tensorflow"):
        assert "not available in this task: it is graded with NumPy only" in str(
            values[f"numpy.{name}"]
        ), values


def test_a_numpy_only_answer_that_uses_a_library_is_told_why(tmp_path):
    step = steps.Step("numpy", "attempt('pca', f, 1)", cells=["answer"], numpy_only=True)
    answer = "import numpy as np\n\ndef f(x):\n    return aekeras.PCA(1)\n"
    _, errors, values = run(step, [{"id": "answer", "source": answer}], tmp_path)
    assert "aekeras is not available in this task" in str(values["numpy.pca.error"])
    answer = "from sklearn.decomposition import PCA\n\ndef f(x):\n    return x\n"
    _, errors, _ = run(step, [{"id": "answer", "source": answer}], tmp_path)
    assert "sklearn is not available in this task" in errors["answer"]


def test_a_keras_step_has_the_library_but_not_the_repository(tmp_path):
    repository = [str(ROOT / n) for n in (".git", "tests", "course", "benchmarks", "tasks.py")]
    probe = f"""
import os
import aekeras
export("library", aekeras.__file__)
export("repository", [os.path.exists(p) for p in {repository!r}])
export("data", os.environ.get("AEKERAS_DATA_HOME", ""))
"""
    step = steps.Step("keras", probe, cells=["answer"])
    result, errors, values = run(step, [{"id": "answer", "source": "x = 1"}], tmp_path)
    assert result.status == sandbox.OK, result
    assert not str(values["keras.library"]).startswith(str(ROOT)), values
    assert not values["keras.repository"].any(), values
    assert str(values["keras.data"]) == ""  # no data asked for, none given


def test_files_kept_by_a_step_are_carried_to_the_next_as_copies(tmp_path):
    keep = steps.Step(
        "first",
        "open('out/model.txt', 'w').write('weights')",
        cells=["answer"],
        keep=["model.txt"],
    )
    run(keep, [{"id": "answer", "source": ""}], tmp_path)
    carry = steps.Step(
        "second",
        "export('read', open('model.txt').read())\nopen('model.txt', 'w').write('tampered')",
        cells=[],
        carry=["model.txt"],
    )
    for _ in range(2):  # what a step does to its copy reaches no later step
        result, _, values = run(carry, [], tmp_path)
        assert result.status == sandbox.OK and str(values["second.read"]) == "weights", result


def test_a_started_step_waits_for_the_word_to_go_with_its_imports_done(tmp_path):
    require_sandbox()
    import time

    step = steps.Step(
        "warm",
        "import sys\nexport('keras', 'keras' in sys.modules)",
        cells=["answer"],
        preload=["keras", "aekeras"],
    )
    started = steps.StartedStep(
        step, [{"id": "answer", "source": ""}], tmp_path, backend="tensorflow", threads=1
    )
    time.sleep(1)  # a step that is not told to go does not run (and does not count its time)
    result, errors, values = started.finish()
    assert result.status == sandbox.OK and errors == {}, result
    assert bool(values["warm.keras"])  # imported before the cells, while the grader waited
    unused = steps.StartedStep(
        step, [{"id": "answer", "source": ""}], tmp_path, backend="tensorflow", threads=1
    )
    unused.kill()
    assert not list(tmp_path.glob("step-*"))  # nothing left behind


def test_a_step_reads_its_datasets_read_only_through_the_library(tmp_path):
    import aekeras

    x_expected = aekeras.datasets.load_mnist("test", n=3, source="raw")[0]
    home = aekeras.datasets.data_home()
    probe = """
import aekeras
x = aekeras.datasets.load_mnist("test", n=3)[0]
export("x", x)
try:
    open("/data/arrays/mine.npz", "w")
except OSError as error:
    export("write", error.strerror)
"""
    step = steps.Step("data", probe, cells=["answer"], data=["mnist"])
    result, errors, values = run(step, [{"id": "answer", "source": ""}], tmp_path, data_home=home)
    assert result.status == sandbox.OK and errors == {}, (result, errors)
    np.testing.assert_array_equal(values["data.x"], x_expected)
    assert str(values["data.write"]) == "Read-only file system"


def test_what_a_step_writes_back_is_read_as_data(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "cells.json").write_text(
        json.dumps([{"id": "a", "error": "E"}, {"id": "b", "error": None}])
    )
    np.savez(out / "values.npz", v=np.arange(2))
    errors, values = steps.read_outputs(out, "s")
    assert errors == {"a": "E"} and list(values) == ["s.v"]
    (out / "cells.json").write_text("not json")
    (out / "values.npz").write_bytes(b"PK\x03\x04 broken")
    assert steps.read_outputs(out, "s") == ({}, {})
