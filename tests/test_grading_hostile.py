"""The hostile suite: submissions of the three assignments that try what a student who wants points
would, graded with the instructor's command (`python3 tasks.py grade`).

They read the repository and its git history, the grading user's home, the machine's /tmp, the data
folders and the other processes, and send what they read back through error messages; they hand in
links to the instructor's notebook and to another student's, the instructor notebook itself, a line of
the checks, and models that run code when they load. None may score above the blank release, none may
get a file of the grading machine into its feedback, and each must be flagged or refused with a
reason, while the honest submission in the same class gets its full marks.

Two courses keep the run short: attacks in a NumPy-only answer run with those steps alone (a second or
so each), attacks in an answer of a training task, and the honest and blank submissions, run in full.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from aekeras_tools.grading import cells
from aekeras_tools.grading import cells as nb
from aekeras_tools.grading import judging

from grading_course import ASSIGNMENTS
from grading_course import ROOT
from grading_course import copy_course
from grading_course import feedback_texts
from grading_course import grade_command
from grading_course import instructor
from grading_course import require_sandbox
from grading_course import results
from grading_course import student_version

pytestmark = [pytest.mark.tensorflow_only, pytest.mark.slow]
TOKEN = f"grading-machine-secret-{os.getpid()}-{time.time_ns()}"
NUMPY_CELL = {
    "a1_autoencoders": "task1_pca_reconstruct",
    "a2_sparse": "task1_l1_sparsity",
    "a3_denoising": "task1_salt_and_pepper",
}
MODEL_CELL = {
    "a1_autoencoders": "task3_autoencoder",
    "a2_sparse": "task4_sparse_autoencoder",
    "a3_denoising": "task3_denoising_autoencoder",
}
MODEL_NAME = {"a1_autoencoders": None, "a2_sparse": "sparse_ae", "a3_denoising": "dae"}
FUNCTION = {
    "a1_autoencoders": "def pca_reconstruct(x_fit, x, k):",
    "a2_sparse": "def l1_sparsity(h, strength):",
    "a3_denoising": "def salt_and_pepper(x, rate, rng):",
}


@pytest.fixture(scope="module")
def secrets():
    """Files of the grading machine: in the grading user's home and in the machine's /tmp."""
    home = Path.home() / f".aekeras-hostile-{os.getpid()}"
    tmp = Path(tempfile.mkdtemp(prefix="aekeras-hostile-"))
    for folder in (home, tmp):
        folder.mkdir(exist_ok=True)
        (folder / "secret.txt").write_text(TOKEN)
    (home / "secret.txt").chmod(0o600)
    yield {"home": home / "secret.txt", "tmp": tmp / "secret.txt"}
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)


def leak(expression):
    """A NumPy-only answer whose function sends `expression` back through its error message."""
    return f"import os\n\n\n{{function}}\n    raise ValueError(str({expression}))\n"


def numpy_attacks(secrets):
    """name -> the answer of the NumPy-only cell ({function}: the task's `def` line)."""
    raw = os.environ.get("AEKERAS_RAW_DATA", "/nonexistent")
    return {
        "reads_git_history": leak(f"open({str(ROOT / '.git' / 'HEAD')!r}).read()"),
        "reads_instructor_notebook": leak(
            f"open({str(ROOT / 'course' / 'assignments' / 'source')!r} + '/{{assignment}}/{{assignment}}.ipynb')"
            ".read()"
        ),
        "reads_checks": leak(
            f"open({str(ROOT / 'course' / 'assignments' / 'grading')!r} + '/checks_{{assignment}}.py').read()"
        ),
        "reads_home": leak(f"open({str(secrets['home'])!r}).read()"),
        "reads_machine_tmp": leak(f"[os.listdir('/tmp'), open({str(secrets['tmp'])!r}).read()]"),
        "reads_raw_data": leak(f"os.listdir({raw!r})"),
        "reads_other_processes": leak(
            "[open(f'/proc/{p}/environ').read() for p in os.listdir('/proc') if p.isdigit()]"
        ),
        "reads_environment": leak("dict(os.environ)"),
        "patches_numpy_and_builtins": (
            "import builtins\n\nnp.isclose = np.allclose = lambda *a, **k: True\n"
            "builtins.float = lambda value: 0.0\n\n\n{function}\n    return 0.0\n"
        ),
        "pastes_the_checks": "{checks_line}\n\n\n{function}\n    return 0.0\n",
    }


def model_attacks(assignment):
    """name -> the answer of the training task's cell: what runs beside the data and the library."""
    model = MODEL_NAME[assignment]
    git = (
        "import subprocess\n"
        f"_run = subprocess.run(['git', '-C', {str(ROOT)!r}, 'show', 'HEAD:course/assignments/source/"
        f"{assignment}/{assignment}.ipynb'], capture_output=True, text=True)\n"
        "raise ValueError(_run.stdout[:400] + _run.stderr[:400])\n"
    )
    data = (
        "import os\n"
        "_found = {p: os.listdir(p) for p in ('/data', '/data/arrays', os.environ.get('AEKERAS_RAW_DATA', '/')) "
        "if os.path.isdir(p)}\n"
        "open('/data/arrays/mnist.npz', 'wb').write(b'overwritten')\n"
    )
    attacks = {"reads_git_history_with_git": git, "writes_the_data": data}
    if model is not None:  # a model that runs code when the grader loads it
        attacks["code_at_load"] = (
            "@keras.saving.register_keras_serializable(package='cheat')\n"
            "class Cheat(keras.layers.Layer):\n"
            "    def call(self, x):\n        return x\n\n"
            "    @classmethod\n    def from_config(cls, config):\n"
            "        open('pwned.txt', 'w').write('ran at load')\n"
            "        return cls(**config)\n\n\n"
            f"{model} = keras.Sequential([keras.Input((28, 28, 1)), Cheat()])\n"
        )
    else:
        attacks["code_at_load"] = (
            "def build_autoencoder():\n"
            "    x = keras.Input((28, 28, 1))\n"
            "    h = keras.layers.Lambda(lambda t: t + 0 * len(__import__('os').listdir('/')))(x)\n"
            "    return keras.Model(x, h)\n"
        )
    return attacks


def checks_line(assignment):
    """Three lines of a judge, as a student who read the checks pastes them (the cell is not run:
    a notebook carrying them is not graded)."""
    text = judging.checks_path(ROOT / "course" / "assignments", assignment).read_text()
    found = [line.strip() for line in text.splitlines() if line.strip().startswith("assert ")]
    return "\n".join([line for line in found if len(line) > 30][:3])


def numpy_only_course(base, assignments=ASSIGNMENTS):
    """The course with only the NumPy-only tasks graded (the other test cells made ungraded)."""
    course = copy_course(base, assignments)
    for assignment in assignments:
        checks = judging.load_checks(course, assignment)
        numpy_steps = {s.name for s in checks.STEPS if s.numpy_only}
        keep = {k for k, v in checks.CHECKS.items() if set(v.steps) <= numpy_steps}
        path = course / "source" / assignment / f"{assignment}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            marks = nb.meta(cell)
            if marks.get("grade") and not marks.get("solution") and marks["grade_id"] not in keep:
                marks["grade"] = False
                marks.pop("points", None)
        nbformat.write(notebook, path)
        text = (course / "grading" / f"checks_{assignment}.py").read_text()
        text += (
            "\nSTEPS = [step for step in STEPS if step.numpy_only]\n"
            f"CHECKS = {{k: v for k, v in CHECKS.items() if k in {sorted(keep)!r}}}\n"
        )
        (course / "grading" / f"checks_{assignment}.py").write_text(text)
    return course


def submit(course, student, assignment, notebook):
    path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def numpy_class(tmp_path_factory, secrets):
    require_sandbox()
    course = numpy_only_course(tmp_path_factory.mktemp("hostile-numpy"))
    attacks = numpy_attacks(secrets)
    for assignment in ASSIGNMENTS:
        submit(course, "blank", assignment, student_version(assignment, rest="blank"))
        for name, answer in attacks.items():
            text = (
                answer.replace("{function}", FUNCTION[assignment])
                .replace("{assignment}", assignment)
                .replace("{checks_line}", checks_line(assignment))
            )
            notebook = student_version(assignment, {NUMPY_CELL[assignment]: text}, rest="blank")
            submit(course, name, assignment, notebook)
    done = grade_command(course, "--workers", "2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return course, results(course), attacks


@pytest.fixture(scope="module")
def full_class(tmp_path_factory, secrets):
    require_sandbox()
    course = copy_course(tmp_path_factory.mktemp("hostile-full"))
    attacks = set()
    for assignment in ASSIGNMENTS:
        submit(course, "honest", assignment, student_version(assignment))
        submit(course, "blank", assignment, student_version(assignment, rest="blank"))
        released = {  # as nbgrader releases it: every solution region replaced by its stub
            c.metadata["nbgrader"]["grade_id"]: cells.released(c.source)
            for c in instructor(assignment).cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
        }
        submit(course, "as_released", assignment, student_version(assignment, released, "blank"))
        for name, answer in model_attacks(assignment).items():
            notebook = student_version(assignment, {MODEL_CELL[assignment]: answer}, rest="blank")
            submit(course, name, assignment, notebook)
            attacks.add(name)
        source = course / "source" / assignment / f"{assignment}.ipynb"
        folder = course / "submitted" / "instructor_file" / assignment
        folder.mkdir(parents=True)
        shutil.copyfile(source, folder / f"{assignment}.ipynb")
        resaved = instructor(assignment)  # opened, a note added, saved: not byte for byte
        resaved.cells.append(nbformat.v4.new_markdown_cell("My notes."))
        submit(course, "instructor_resaved", assignment, resaved)
        for name, target in (
            ("link_to_instructor", source),
            ("link_to_peer", course / "submitted" / "honest" / assignment / f"{assignment}.ipynb"),
        ):
            (course / "submitted" / name / assignment).mkdir(parents=True)
            (course / "submitted" / name / assignment / f"{assignment}.ipynb").symlink_to(target)
    done = grade_command(course, "--workers", "2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return course, results(course), attacks


def secrets_of(course, assignment):
    """Lines that must never reach a student: the checks' code and the hidden tests, and TOKEN."""
    checks = judging.checks_path(course, assignment).read_text()
    hidden = "\n".join(
        m.group(0) for c in instructor(assignment).cells for m in nb.HIDDEN_TESTS.finditer(c.source)
    )
    lines = {
        line.strip() for line in (checks + "\n" + hidden).splitlines() if len(line.strip()) >= 30
    }
    return lines | {TOKEN}


def assert_nothing_leaked(course, graded, students):
    texts = feedback_texts(course)
    for (student, assignment), _ in graded.items():
        if student not in students:
            continue
        own = "\n".join(_own_answers(course, student, assignment))
        shown = [t for name, t in texts.items() if name.split("/")[1:3] == [student, assignment]]
        for secret in secrets_of(course, assignment) - set(own.splitlines()):
            for text in shown:
                assert secret not in text and secret not in text.replace("&#39;", "'"), (
                    student,
                    assignment,
                    secret,
                )


def _own_answers(course, student, assignment):
    path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    if path.is_symlink() or not path.is_file():
        return []
    return [
        line.strip()
        for c in nbformat.read(path, as_version=4).cells
        for line in c.source.splitlines()
    ]


def test_numpy_attacks_earn_no_more_than_the_blank_release_and_are_flagged(numpy_class):
    course, graded, attacks = numpy_class
    for assignment in ASSIGNMENTS:
        blank = graded[("blank", assignment)].score
        for name in attacks:
            result = graded[(name, assignment)]
            assert result.score <= blank, result
            assert result.status == judging.SUSPICIOUS and result.reason, result
    for assignment in ASSIGNMENTS:
        pasted = graded[("pastes_the_checks", assignment)]
        assert "lines of the grader's checks" in pasted.reason, pasted
    assert_nothing_leaked(course, graded, set(attacks))


def test_numpy_attacks_find_nothing_of_the_machine(numpy_class):
    _, graded, _ = numpy_class
    for assignment in ASSIGNMENTS:
        for name in (
            "reads_git_history",
            "reads_instructor_notebook",
            "reads_checks",
            "reads_home",
            "reads_raw_data",
        ):
            message = " ".join(c.message for c in graded[(name, assignment)].checks.values())
            assert "No such file or directory" in message, (name, message)
        environment = " ".join(
            c.message for c in graded[("reads_environment", assignment)].checks.values()
        )
        assert "'HOME': '/sandbox'" in environment, environment  # its own, and nothing of ours
        assert "AEKERAS" not in environment and str(Path.home()) not in environment, environment


def test_honest_work_gets_full_marks_beside_the_attacks_and_the_release_none(full_class):
    _, graded, _ = full_class
    for assignment in ASSIGNMENTS:
        honest = graded[("honest", assignment)]
        assert honest.score == honest.max_score and honest.status == judging.GRADED, honest
        # The release as handed out: no step runs, and no judge passes for want of values.
        released = graded[("as_released", assignment)]
        assert released.score == 0 and released.status == judging.GRADED, released
        assert all("as released" in c.message for c in released.checks.values()), released


def test_model_attacks_earn_no_more_than_the_blank_release_and_are_flagged(full_class):
    course, graded, attacks = full_class
    for assignment in ASSIGNMENTS:
        blank = graded[("blank", assignment)].score
        for name in attacks:
            result = graded[(name, assignment)]
            assert result.score <= blank, result
            assert result.status in (judging.SUSPICIOUS, judging.DAMAGED) or any(
                c.points < c.max_points and "could not" in c.message for c in result.checks.values()
            ), result
        git = " ".join(
            c.message for c in graded[("reads_git_history_with_git", assignment)].checks.values()
        )
        assert (
            "cannot change to" in git or "No such file" in git or "not a git repository" in git
        ), git
    assert_nothing_leaked(course, graded, attacks)


def test_links_and_instructor_notebooks_are_refused_or_not_graded(full_class):
    course, graded, _ = full_class
    for assignment in ASSIGNMENTS:
        for name in ("link_to_instructor", "link_to_peer"):
            result = graded[(name, assignment)]
            assert result.score == 0 and result.status == judging.DAMAGED, result
            assert "is a symbolic link" in result.reason
        for name, words in (
            ("instructor_file", "byte for byte"),
            ("instructor_resaved", "markers"),
        ):
            result = graded[(name, assignment)]
            assert result.score == 0 and result.status == judging.SUSPICIOUS, result
            assert words in result.reason and "not graded" in result.reason, result
    assert_nothing_leaked(course, graded, {"link_to_instructor", "link_to_peer", "instructor_file"})
