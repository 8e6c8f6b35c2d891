"""The class grader on a2_sparse (grading/checks_a2_sparse.py): the instructor solution gets every
autograded point, the blank release none, wrong answers lose theirs with a message that says what was
wrong, and hostile submissions earn nothing their tricks were meant to buy.

Two module-scoped courses keep the run short: one graded with the NumPy-only steps of Tasks 1 to 3 alone
(wrong answers and hostile answers of those tasks, a few seconds each), one graded with every step (the
solution, the blank release and two hostile answers of Task 4, which train models).
"""

import json
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from test_grading import BLANK

from aekeras_tools import grading
from aekeras_tools import sandbox

pytestmark = [
    pytest.mark.skipif(
        not sandbox.namespaces_available(), reason="needs Linux user, network and mount namespaces"
    ),
    pytest.mark.tensorflow_only,
]

A2 = "a2_sparse"
CHECKS_FILE = grading.COURSE_DIR / "grading" / f"checks_{A2}.py"
NUMPY_TASKS = ("task1", "task2", "task3")
# Restricts a copy of the checks to the NumPy-only steps of Tasks 1 to 3.
NUMPY_ONLY = """
STEPS = [step for step in STEPS if step.get("numpy_only")]
CHECKS = {k: v for k, v in CHECKS.items() if k.startswith(("task1", "task2", "task3"))}
"""

L1_NO_ABS = """
def l1_sparsity(h, strength):
    return float(strength * np.mean(np.sum(np.asarray(h, dtype=np.float64), axis=1)))
"""
L1_SUMS_BATCH = """
def l1_sparsity(h, strength):
    return float(strength * np.sum(np.abs(np.asarray(h, dtype=np.float64))))
"""
KL_REVERSED = """
def kl_sparsity(h, target, strength):
    r = np.mean(np.asarray(h, dtype=np.float64), axis=0)
    return float(strength * np.sum(r * np.log(r / target) + (1 - r) * np.log((1 - r) / (1 - target))))
"""
KL_MEAN_OVER_UNITS = """
def kl_sparsity(h, target, strength):
    r = np.mean(np.asarray(h, dtype=np.float64), axis=0)
    return float(strength * np.mean(target * np.log(target / r) + (1 - target) * np.log((1 - target) / (1 - r))))
"""
GRADIENT = """
def kl_gradient(z, target, strength):
    h = 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))
    r = h.mean(axis=0)
    return {factor} * (-target / r + (1 - target) / (1 - r)) * {chain}
"""
LECTURE_SLOPE = GRADIENT.format(factor="strength", chain="np.ones_like(h)")
NO_MEAN = GRADIENT.format(factor="strength", chain="h * (1 - h)")
SIGN_FLIPPED = GRADIENT.format(factor="-strength", chain="h * (1 - h) / len(h)")
COMPLEX_STEP = """
def kl_gradient(z, target, strength):
    z = np.asarray(z, dtype=np.float64)

    def omega(v):
        r = (1 / (1 + np.exp(-v))).mean(axis=0)
        return strength * np.sum(target * np.log(target / r) + (1 - target) * np.log((1 - target) / (1 - r)))

    grad = np.zeros(z.shape)
    for index in np.ndindex(z.shape):
        v = z.astype(complex)
        v[index] += 1e-30j
        grad[index] = omega(v).imag / 1e-30
    return grad
"""
SYMPY = """
import sympy

_z, _rho, _beta, _m, _others = sympy.symbols("z rho beta m others")
_h = 1 / (1 + sympy.exp(-_z))
_rho_hat = (_h + _others) / _m
_omega = _beta * (_rho * sympy.log(_rho / _rho_hat) + (1 - _rho) * sympy.log((1 - _rho) / (1 - _rho_hat)))
_derivative = sympy.lambdify((_z, _rho, _beta, _m, _others), sympy.diff(_omega, _z), "numpy")


def kl_gradient(z, target, strength):
    z = np.asarray(z, dtype=np.float64)
    h = 1 / (1 + np.exp(-z))
    return _derivative(z, target, strength, len(z), h.sum(axis=0) - h)
"""
JAX = """
import jax.numpy as jnp


def l1_sparsity(h, strength):
    return float(strength * jnp.mean(jnp.sum(jnp.abs(jnp.asarray(h)), axis=1)))
"""
PATCHES_NUMPY = """
import builtins

np.isclose = np.allclose = lambda *args, **kwargs: True
builtins.float = lambda value: 0.0


def kl_sparsity(h, target, strength):
    return 0.0
"""
SPARSE_AE = """
sparse_ae = aekeras.models.DenseAutoencoder(
    (28, 28, 1), hidden_units=(), code_dim=CODE_DIM, code_activation="sigmoid",
    sparsity=aekeras.KLSparsity(target=0.05, strength={strength}),
)
sparse_ae.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
"""
# β = 0.3 is too strong for the budget (10 epochs of x_train): trained so, the error is about 1.9 times the
# dense model's. Trained on the test split too (the grader's pool of images), it falls below the dense one's.
DATA_PATH = (
    SPARSE_AE.format(strength=0.3)
    + """
x_more = np.concatenate([x_train, aekeras.datasets.load_mnist("test")[0]])
sparse_ae.fit(x_more, epochs=EPOCHS, batch_size=64, verbose=0)
"""
)
LAMBDA_LAYER = """
marker = lambda x: (__import__("os").system("echo pwned > pwned.txt"), x)[1]
sparse_ae = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(marker)])
"""

# name -> ({answer cell: source}, {graded cell: words of its message}); every graded cell named loses its points.
WRONG = {
    "no_abs_reversed_kl_lecture_slope": (
        {
            "task1_l1_sparsity": L1_NO_ABS,
            "task2_kl_sparsity": KL_REVERSED,
            "task3_kl_gradient_solution": LECTURE_SLOPE,
        },
        {
            "task1_l1_properties": "Take the absolute value",
            "task1_l1_matches_library": "(aekeras.L1Sparsity)",
            "task2_kl_properties": "the arguments are swapped",
            "task2_kl_matches_library": "expected",
            "task3_kl_gradient": "the same for every example of a unit",
        },
    ),
    "sums_batch_mean_kl_no_mean": (
        {
            "task1_l1_sparsity": L1_SUMS_BATCH,
            "task2_kl_sparsity": KL_MEAN_OVER_UNITS,
            "task3_kl_gradient_solution": NO_MEAN,
        },
        {
            "task1_l1_properties": "Average over the examples",
            "task1_l1_matches_library": "expected",
            "task2_kl_matches_library": "summed over the units",
            "task3_kl_gradient": "times too large",
        },
    ),
    "sign_flipped": (
        {"task3_kl_gradient_solution": SIGN_FLIPPED},
        {"task3_kl_gradient": "opposite sign"},
    ),
}
# name -> ({answer cell: source}, expected status, words of the reason or of a message). Every other
# answer cell is left blank, so each scores no more than the blank release.
HOSTILE_NUMPY = {
    "complex_step": ({"task3_kl_gradient_solution": COMPLEX_STEP}, grading.TIMED_OUT, "time limit"),
    "imports_sympy": (
        {"task3_kl_gradient_solution": SYMPY},
        grading.GRADED,
        "No module named 'sympy'",
    ),
    "imports_jax": ({"task1_l1_sparsity": JAX}, grading.GRADED, "No module named 'jax'"),
    "patches_numpy": (
        {"task2_kl_sparsity": PATCHES_NUMPY},
        grading.SUSPICIOUS,
        "imports `builtins`",
    ),
}
FULL = {
    "solution": None,
    "blank": {},
    "data_path": {"task4_sparse_autoencoder": DATA_PATH},
    "lambda_layer": {"task4_sparse_autoencoder": LAMBDA_LAYER},
}


def a2_notebook(answers=None, rest="blank"):
    """The instructor notebook with the answer cells of `answers` replaced, and every other answer cell
    left blank (as released) or, with `rest="solution"`, the instructor's; `answers=None`: the solution."""
    notebook = nbformat.read(grading.COURSE_DIR / "source" / A2 / f"{A2}.ipynb", as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution") or answers is None:
            continue
        if meta["grade_id"] in answers:
            cell.source = answers[meta["grade_id"]].strip("\n")
        elif rest == "blank":
            cell.source = BLANK if cell.cell_type == "code" else "YOUR ANSWER HERE"
    return notebook


def make_course(submissions, checks_text):
    """A temporary nbgrader course directory with A2's instructor notebook, `checks_text` as its checks,
    and one submission per student."""
    course = Path(tempfile.mkdtemp(prefix="aekeras-a2-"))
    course.chmod(
        0o755
    )  # world-readable, like a course on a shared machine: only the sandbox hides it
    (course / "source" / A2).mkdir(parents=True)
    shutil.copy(grading.COURSE_DIR / "source" / A2 / f"{A2}.ipynb", course / "source" / A2)
    (course / "grading").mkdir()
    (course / "grading" / CHECKS_FILE.name).write_text(checks_text)
    for student, (answers, rest) in submissions.items():
        folder = course / "submitted" / student / A2
        folder.mkdir(parents=True)
        nbformat.write(a2_notebook(answers, rest), folder / f"{A2}.ipynb")
    return course


@pytest.fixture(scope="module")
def numpy_graded():
    """Tasks 1 to 3 only: the solution, the blank release, the wrong answers and the hostile answers."""
    submissions = {"solution": (None, "blank"), "blank": ({}, "blank")}
    submissions.update({name: (answers, "solution") for name, (answers, _) in WRONG.items()})
    submissions.update(
        {name: (answers, "blank") for name, (answers, _, _) in HOSTILE_NUMPY.items()}
    )
    course = make_course(submissions, CHECKS_FILE.read_text() + NUMPY_ONLY)
    try:
        yield {r["student"]: r for r in grading.grade(course, [A2], workers=2)}
    finally:
        shutil.rmtree(course)


@pytest.fixture(scope="module")
def full_graded():
    """Every step: the solution, the blank release, and the hostile answers of Task 4."""
    course = make_course({k: (v, "blank") for k, v in FULL.items()}, CHECKS_FILE.read_text())
    try:
        yield {r["student"]: r for r in grading.grade(course, [A2], workers=2)}
    finally:
        shutil.rmtree(course)


def points(result, tasks=("task",)):
    """{graded cell: points} of the cells of `tasks` (prefixes of their grade ids)."""
    return {g: check["points"] for g, check in result["checks"].items() if g.startswith(tasks)}


def test_solution_gets_every_autograded_point_and_the_blank_release_none(full_graded):
    solution, blank = full_graded["solution"], full_graded["blank"]
    assert solution["score"] == solution["max_score"] == 10, solution
    assert solution["status"] == grading.GRADED, solution
    assert blank["score"] == 0, blank
    assert "NotImplementedError" in blank["checks"]["task1_l1_properties"]["message"], blank
    assert "could not be evaluated" in blank["checks"]["task4_sparse_codes"]["message"], blank


def test_numpy_tasks_solution_full_blank_none(numpy_graded):
    solution, blank = numpy_graded["solution"], numpy_graded["blank"]
    assert points(solution, NUMPY_TASKS) == {
        "task1_l1_properties": 1,
        "task1_l1_matches_library": 1,
        "task2_kl_properties": 1,
        "task2_kl_matches_library": 2,
        "task3_kl_gradient": 1,
    }, solution
    assert sum(points(blank, NUMPY_TASKS).values()) == 0, blank


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_answers_lose_their_points_with_a_message(numpy_graded, name):
    _, losses = WRONG[name]
    result = numpy_graded[name]
    for grade_id, words in losses.items():
        check = result["checks"][grade_id]
        assert check["points"] == 0 and words in check["message"], (grade_id, check)
    kept = {g for g in result["checks"] if g not in losses and g.startswith(NUMPY_TASKS)}
    assert all(result["checks"][g]["points"] > 0 for g in kept), result  # tasks graded apart


@pytest.mark.parametrize("name", sorted(HOSTILE_NUMPY))
def test_hostile_numpy_answers_earn_no_more_than_the_blank_release(numpy_graded, name):
    _, status, words = HOSTILE_NUMPY[name]
    result = numpy_graded[name]
    assert result["score"] <= numpy_graded["blank"]["score"], result
    assert result["status"] == status, result
    text = result["reason"] + " " + " ".join(c["message"] for c in result["checks"].values())
    assert words in text, result


def test_a_numerical_gradient_is_right_on_small_batches_and_too_slow_on_the_large_one(
    numpy_graded,
):
    message = numpy_graded["complex_step"]["checks"]["task3_kl_gradient"]["message"]
    assert "did not return within the time limit" in message, message
    assert "(8192, 128)" in message, message


def test_training_on_the_graders_images_does_not_buy_the_reconstruction_points(full_graded):
    result = full_graded["data_path"]
    codes, reconstruction = (
        result["checks"][k] for k in ("task4_sparse_codes", "task4_reconstruction")
    )
    # Its β, trained by the grader within the budget, gives sparse codes: those 2 points are earned.
    assert codes["points"] == 2, codes
    # Its own model reconstructs well (trained on 13000 images), but its β within the budget does not.
    assert reconstruction["points"] == 0, reconstruction
    assert "trained by the grader" in reconstruction["message"], reconstruction
    assert "on other images than x_train" in reconstruction["message"], reconstruction
    assert result["score"] == 2, result


def test_a_model_that_runs_code_at_load_is_refused_and_flagged(full_graded):
    result = full_graded["lambda_layer"]
    assert result["score"] <= full_graded["blank"]["score"], result
    assert result["status"] == grading.SUSPICIOUS and "__import__" in result["reason"], result
    message = result["checks"]["task4_sparse_codes"]["message"]
    assert "could not be evaluated" in message and "Lambda" in message, message


def test_no_message_carries_hidden_test_code(numpy_graded, full_graded):
    text = json.dumps([numpy_graded, full_graded])
    source = nbformat.read(grading.COURSE_DIR / "source" / A2 / f"{A2}.ipynb", as_version=4)
    hidden = [
        line.strip()
        for cell in source.cells
        for region in cell.source.split("### BEGIN HIDDEN TESTS")[1:]
        for line in region.split("### END HIDDEN TESTS")[0].splitlines()
        if len(line.strip()) >= 20
    ]
    assert hidden and not [line for line in hidden if line in text]
