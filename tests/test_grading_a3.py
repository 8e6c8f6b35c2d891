"""The class grader on a3_denoising: the instructor solution earns every autograded point, the blank
release none, wrong answers lose their points with a message, and hostile submissions earn nothing.

One module-scoped course grades, with `aekeras_tools.grading.grade`, the submissions that run the
notebook (Task 3 trains a model); the NumPy tasks' wrong answers and hostile answers are graded with
the NumPy-only steps alone. The checks are `course/assignments/grading/checks_a3_denoising.py`.
"""

import json
import re
import shutil
import tempfile
import types
from pathlib import Path

import nbformat
import pytest

from aekeras_tools import grading
from aekeras_tools import sandbox

pytestmark = [
    pytest.mark.skipif(
        not sandbox.namespaces_available(), reason="needs Linux user, network and mount namespaces"
    ),
    pytest.mark.tensorflow_only,  # the notebook and the grader train Keras models: run once
]

A3 = "a3_denoising"
BLANK = "# YOUR CODE HERE\nraise NotImplementedError()"
SOLUTION = re.compile(r"### BEGIN SOLUTION\n.*?### END SOLUTION", re.DOTALL)
TASK1, TASK2, TASK3, TASK4 = (
    "task1_salt_and_pepper",
    "task2_psnr_solution",
    "task3_denoising_autoencoder",
    "task4_anomaly_threshold",
)
AUTOGRADED = {  # grade id -> points
    "task1_shape_and_values": 1,
    "task1_statistics": 2,
    "task2_psnr": 2,
    "task3_denoises": 2,
    "task3_beats_plain": 2,
    "task4_threshold_on_validation": 1,
    "task4_held_out": 2,
}
TASK3_CHECKS = ("task3_denoises", "task3_beats_plain")


def source():
    return nbformat.read(grading.COURSE_DIR / "source" / A3 / f"{A3}.ipynb", as_version=4)


def notebook(answers=None, blank=True):
    """The instructor notebook with its solutions released as blanks (nbgrader's `raise
    NotImplementedError()`), then some answer cells replaced by `answers` {grade id: source}."""
    nb = source()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and blank:
            cell.source = SOLUTION.sub(BLANK, cell.source)
        if answers and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
    return nb


SALT_AND_PEPPER = SOLUTION.search(
    next(
        c.source for c in source().cells if c.metadata.get("nbgrader", {}).get("grade_id") == TASK1
    )
).group(0)

# ----------------------------------------------------------------- submissions that run the notebook
TRAIN_WITH = """
dae = aekeras.models.DenseAutoencoder((28, 28, 1), hidden_units=(256,), code_dim=CODE_DIM)
dae.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
noise_rng = np.random.default_rng(0)
for epoch in range(EPOCHS):
    dae.fit(salt_and_pepper(x_train, NOISE_RATE, noise_rng), x_train, epochs=1, batch_size=64, verbose=0)
"""
NOTEBOOK_RUNS = {
    # name -> (answers, {grade id: words of its message}); every other answer is blank
    "library_layer": (
        {
            TASK3: "dae = aekeras.models.DenseAutoencoder(\n"
            "    (28, 28, 1), hidden_units=(256,), code_dim=CODE_DIM,\n"
            "    corruption=aekeras.SaltAndPepperNoise(NOISE_RATE, seed=0),\n)\n"
            "dae.compile(optimizer=keras.optimizers.Adam(2e-3), loss='binary_crossentropy')\n"
            "dae.fit(x_train, epochs=1, batch_size=1024, verbose=0)\n"
        },
        dict.fromkeys(TASK3_CHECKS, "the corruption of this task is yours"),
    ),
}
HOSTILE_RUNS = {
    # name -> (answers, flagged suspicious, {grade id: words of its message})
    "corruption_returns_clean_images": (
        {
            TASK1: "def salt_and_pepper(x, rate, rng):\n    return np.array(x, copy=True)\n",
            TASK3: TRAIN_WITH,
        },
        False,
        {
            "task1_statistics": "expected a fraction",
            "task3_denoises": "expected `dae` to gain at least 6.0 dB",
        },
    ),
    "lambda_layer_runs_code_at_load": (
        {
            TASK3: "dae = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(\n"
            "    lambda x: x + 0 * len(__import__('os').listdir('/')))])\n"
        },
        True,
        dict.fromkeys(TASK3_CHECKS, "could not be evaluated"),
    ),
    "custom_layer_runs_code_at_load": (
        {
            TASK3: "@keras.saving.register_keras_serializable(package='cheat')\n"
            "class Cheat(keras.layers.Layer):\n"
            "    def call(self, x):\n        return x\n\n"
            "    @classmethod\n    def from_config(cls, config):\n"
            "        open('pwned.txt', 'w').write('ran at load')\n"
            "        return cls(**config)\n\n\n"
            "dae = keras.Sequential([keras.Input((28, 28, 1)), Cheat()])\n"
        },
        False,
        dict.fromkeys(TASK3_CHECKS, "could not be evaluated"),
    ),
}


@pytest.fixture(scope="module")
def course():
    """A course directory with A3's instructor notebook and checks, and the submissions that run it."""
    course = Path(tempfile.mkdtemp(prefix="aekeras-course-"))
    course.chmod(0o755)
    shutil.copytree(grading.COURSE_DIR / "source" / A3, course / "source" / A3)
    shutil.copytree(grading.COURSE_DIR / "grading", course / "grading")
    submissions = {"solution": source(), "blank": notebook()}
    submissions |= {name: notebook(answers) for name, (answers, _) in NOTEBOOK_RUNS.items()}
    submissions |= {name: notebook(answers) for name, (answers, _, _) in HOSTILE_RUNS.items()}
    for student, nb in submissions.items():
        folder = course / "submitted" / student / A3
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{A3}.ipynb")
    yield course
    shutil.rmtree(course)


@pytest.fixture(scope="module")
def graded(course):
    return {r["student"]: r for r in grading.grade(course, [A3], workers=2)}


def test_solution_gets_every_autograded_point_and_the_blank_release_none(graded):
    solution, blank = graded["solution"], graded["blank"]
    points = {k: v["points"] for k, v in solution["checks"].items()}
    assert points == AUTOGRADED, solution
    assert solution["status"] == grading.GRADED, solution
    assert blank["score"] == 0 and blank["max_score"] == sum(AUTOGRADED.values()), blank
    assert "NotImplementedError" in blank["checks"]["task1_statistics"]["message"]
    assert "could not be evaluated" in blank["checks"]["task3_denoises"]["message"]


@pytest.mark.parametrize("name", sorted(NOTEBOOK_RUNS))
def test_task3_wrong_answer_loses_its_points_with_a_message(graded, name):
    result = graded[name]
    for grade_id, words in NOTEBOOK_RUNS[name][1].items():
        check = result["checks"][grade_id]
        assert check["points"] == 0 and words in check["message"], (grade_id, check)


@pytest.mark.parametrize("name", sorted(HOSTILE_RUNS))
def test_hostile_notebook_earns_no_more_than_the_blank_release(graded, name):
    _, flagged, messages = HOSTILE_RUNS[name]
    result = graded[name]
    assert result["score"] <= graded["blank"]["score"], result
    assert (result["status"] == grading.SUSPICIOUS) == flagged, result
    for grade_id, words in messages.items():
        assert words in result["checks"][grade_id]["message"], (grade_id, result)


def test_no_message_carries_hidden_test_code(graded):
    hidden = [
        line.strip()
        for cell in source().cells
        for block in re.findall(r"BEGIN HIDDEN TESTS\n(.*?)### END", cell.source, re.DOTALL)
        for line in block.splitlines()
        if len(line.strip()) > 20
    ]
    assert hidden
    text = json.dumps(graded)
    assert not [line for line in hidden if line in text]


# ----------------------------------------------------------------- the NumPy tasks alone
@pytest.fixture(scope="module")
def numpy_checks(course):
    """A3's checks limited to the NumPy-only steps (Tasks 1, 2 and 4); the same module as `graded`'s,
    so the grader's plain autoencoder is trained once."""
    checks = grading._checks(course.resolve(), A3)
    steps = [step for step in checks.STEPS if step.get("numpy_only")]
    names = {"task1", "task2", "task4"}
    return types.SimpleNamespace(
        NOTEBOOK=checks.NOTEBOOK,
        STEPS=steps,
        CHECKS={k: v for k, v in checks.CHECKS.items() if k.split("_")[0] in names},
    )


def grade_numpy(course, checks, student, nb):
    folder = course / "submitted-numpy" / student / A3
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{A3}.ipynb")
    submission = grading.Submission(student, A3, folder, folder / f"{A3}.ipynb")
    return grading.grade_submission(submission, course, checks)


NUMPY_WRONG = {  # name -> (answers, {grade id: words of its message, or a tuple of alternatives})
    "salt_only": (
        {
            TASK1: "def salt_and_pepper(x, rate, rng):\n    noisy = np.array(x, copy=True)\n"
            "    noisy[rng.random(noisy.shape) < rate] = 1.0\n    return noisy\n"
        },
        {"task1_statistics": "half of the corrupted values to be salt (1) and half pepper (0)"},
    ),
    "in_place": (
        {
            TASK1: "def salt_and_pepper(x, rate, rng):\n    corrupt = rng.random(np.shape(x)) < rate\n"
            "    salt = rng.random(np.shape(x)) < 0.5\n    x[corrupt & salt] = 1.0\n"
            "    x[corrupt & ~salt] = 0.0\n    return x\n"
        },
        {"task1_shape_and_values": "must not modify its input x"},
    ),
    "psnr_of_the_mean_mse": (
        {
            TASK2: "def psnr(x, x_hat):\n"
            "    x, x_hat = np.asarray(x, dtype=np.float64), np.asarray(x_hat, dtype=np.float64)\n"
            "    return float(10 * np.log10(1.0 / np.mean((x - x_hat) ** 2)))\n"
        },
        {"task2_psnr": "the PSNR of the mean MSE"},
    ),
    "quantile_at_the_rate": (
        {
            TASK4: "def anomaly_threshold(normal_errors, false_positive_rate):\n"
            "    return float(np.quantile(normal_errors, false_positive_rate))\n"
        },
        {
            "task4_threshold_on_validation": "strictly above the threshold",
            "task4_held_out": "false-positive rate within",
        },
    ),
    "largest_normal_error": (
        {
            TASK4: "def anomaly_threshold(normal_errors, false_positive_rate):\n"
            "    return float(np.max(normal_errors))\n"
        },
        {
            "task4_threshold_on_validation": "strictly above the threshold",
            # The grader's validation scores are drawn afresh for each grading. At α = 0.01 the
            # maximum of 3000 passes the false-positive check when 5 or more of the 6000 held-out
            # scores lie above it, about (2/3)^5 = 13% of draws; then the recall it gives up fails.
            "task4_held_out": ("false-positive rate within", "expected a recall of at least"),
        },
    ),
    "scipy_percentile": (
        {
            TASK4: "from scipy import stats\n\n\n"
            "def anomaly_threshold(normal_errors, false_positive_rate):\n"
            "    return float(stats.scoreatpercentile(normal_errors, 100 * (1 - false_positive_rate)))\n"
        },
        {
            "task4_threshold_on_validation": "ModuleNotFoundError",
            "task4_held_out": "ModuleNotFoundError",
        },
    ),
}
NUMPY_HOSTILE = {
    # name -> (answers, words of a message or the reason); flagged suspicious
    "threshold_reads_files": (
        {
            TASK4: "import os\n\n\ndef anomaly_threshold(normal_errors, false_positive_rate):\n"
            "    found = [os.path.join('..', f) for f in os.listdir('..')]\n"
            "    secrets = [open(p, 'rb').read() for p in found if os.path.isfile(p)]\n"
            "    os.environ.get('AEKERAS_RAW_DATA') and open('/etc/passwd').read()\n"
            "    scores = np.load('inputs.npz')['validation']\n"
            "    return float(np.max(scores)) + len(secrets)\n"
        },
        "calls `open('/`",
    ),
    "patches_numpy_and_builtins": (
        {
            TASK1: "np.array_equal = lambda *a, **k: True\nnp.unique = lambda v: np.array([0.0, 0.5, 1.0])\n"
            "def salt_and_pepper(x, rate, rng):\n    return x\n",
            TASK2: "import builtins\nnp.isclose = lambda *a, **k: True\n"
            "builtins.float = lambda v: 30.0\n\n\ndef psnr(x, x_hat):\n    return 30.0\n",
            TASK4: "np.mean = lambda *a, **k: 0.05\n\n\n"
            "def anomaly_threshold(normal_errors, false_positive_rate):\n    return 0.0\n",
        },
        "imports `builtins`",
    ),
}


@pytest.mark.parametrize("name", sorted(NUMPY_WRONG))
def test_numpy_task_wrong_answer_loses_its_points_with_a_message(course, numpy_checks, name):
    answers, losses = NUMPY_WRONG[name]
    result = grade_numpy(course, numpy_checks, name, notebook(answers, blank=False))
    for grade_id, words in losses.items():
        check = result["checks"][grade_id]
        # any one of the alternatives explains the loss
        alternatives = (words,) if isinstance(words, str) else words
        assert check["points"] == 0, (grade_id, check)
        assert any(w in check["message"] for w in alternatives), (grade_id, alternatives, check)
    wrong = {grade_id.split("_")[0] for grade_id in losses}
    for grade_id in numpy_checks.CHECKS:  # the other tasks keep the solution's answers and points
        if grade_id.split("_")[0] not in wrong:
            check = result["checks"][grade_id]
            assert check["points"] == check["max_points"], (grade_id, check)


@pytest.mark.parametrize("name", sorted(NUMPY_HOSTILE))
def test_hostile_numpy_answers_earn_nothing_and_are_flagged(course, numpy_checks, name):
    answers, words = NUMPY_HOSTILE[name]
    result = grade_numpy(course, numpy_checks, name, notebook(answers))
    assert result["score"] == 0, result
    assert result["status"] == grading.SUSPICIOUS and words in result["reason"], result
