"""Helpers of the nbgrader tests: a temporary copy of the course directory, driven with the `nbgrader` command.

Used by tests/test_assignments.py (release, autograding, what students never see) and
tests/test_assignment_mutations.py (wrong answers lose points).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

COURSE_DIR = Path(__file__).resolve().parents[1] / "course" / "assignments"
COURSE_ID = "aekeras"
ASSIGNMENTS = sorted(p.name for p in (COURSE_DIR / "source").iterdir() if p.is_dir())
GENERATED = (
    "release",
    "submitted",
    "autograded",
    "feedback",
    "downloaded",
    "gradebook.db",
    "gradebook.db-journal",
    "grades.csv",
    ".nbgrader.log",
    ".ipynb_checkpoints",
    "__pycache__",
)


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def grade_id(cell):
    return nbgrader_meta(cell).get("grade_id")


def is_autograder_test(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def is_manual_answer(cell):
    meta = nbgrader_meta(cell)
    return meta.get("grade", False) and meta.get("solution", False)


def notebook_names(assignment):
    return sorted(p.stem for p in (COURSE_DIR / "source" / assignment).glob("*.ipynb"))


def read(path):
    return nbformat.read(path, as_version=4)


def source_notebook(assignment, notebook):
    return read(COURSE_DIR / "source" / assignment / f"{notebook}.ipynb")


def error_text(cell):
    """What a student sees of a failed cell: the exception name and message."""
    return "\n".join(
        f"{out.ename}: {out.evalue}"
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    )


class Course:
    """A copy of the course directory and the environment that nbgrader runs in."""

    def __init__(self, root, env):
        self.root = root
        self.env = env

    @classmethod
    def copy(cls, base):
        """Copies the course directory under `base` and makes the notebooks' "python3" kernel this interpreter."""
        root = base / "assignments"
        shutil.copytree(COURSE_DIR, root, ignore=shutil.ignore_patterns(*GENERATED))
        # Whatever kernels the user has installed (JUPYTER_PATH comes first in Jupyter's search path).
        kernel_dir = base / "jupyter" / "kernels" / "python3"
        kernel_dir.mkdir(parents=True)
        kernel_dir.joinpath("kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "Python 3 (aekeras tests)",
                    "language": "python",
                }
            )
        )
        env = dict(os.environ)
        env["JUPYTER_PATH"] = os.pathsep.join(
            filter(None, [str(base / "jupyter"), env.get("JUPYTER_PATH")])
        )
        # The hidden tests call aekeras_tools.grading.hidden (nbgrader_config.py finds it here).
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")])
        )
        # nbgrader runs the `alembic` command when it creates the gradebook: it must be on PATH.
        env["PATH"] = os.pathsep.join(
            filter(None, [os.path.dirname(sys.executable), env.get("PATH")])
        )
        env.pop("AEKERAS_FULL_RUN", None)
        return cls(root, env)

    def nbgrader(self, *args):
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        assert result.returncode == 0, (
            f"nbgrader {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
        )
        return result

    def release(self, assignment, notebook):
        return self.root / "release" / assignment / f"{notebook}.ipynb"

    def autograded(self, student, assignment, notebook):
        return read(self.root / "autograded" / student / assignment / f"{notebook}.ipynb")

    def submit(self, student, assignment, notebook, nb):
        path = self.root / "submitted" / student / assignment / f"{notebook}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)

    def grades(self, assignment, student):
        """{grade id: (auto_score, max_score)} of one submission, from the gradebook."""
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", course_id=COURSE_ID) as gb:
            submission = gb.find_submission(assignment, student)
            return {
                grade.name: (grade.auto_score, grade.max_score)
                for notebook in submission.notebooks
                for grade in notebook.grades
            }
