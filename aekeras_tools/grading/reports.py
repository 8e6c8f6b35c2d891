"""What grading writes: nbgrader's gradebook, the formgrader's notebook, the student's feedback, the
LMS file and the summary table.

Only the process that started the batch writes these (nbgrader's gradebook is one SQLite file: one
writer), each result as it arrives, so a batch killed midway loses nothing it finished.

- The gradebook (`gradebook.db`): the autograded scores, and the cells a person grades marked as
  waiting for nbgrader's formgrader.
- `autograded/<student>/<assignment>/<notebook>.ipynb`, the notebook the formgrader shows: the
  instructor's notebook as the template, the student's answers in place, each test cell's visible
  part (hidden tests removed) with its check's message as the output, no output of student code.
- `feedback/<student>/<assignment>/<notebook>.html`, beside copies of the submission's
  `timestamp.txt` and `submission_secret.txt` (nbgrader's layout: `nbgrader release_feedback` sends
  it on), rendered from `templates/feedback.html.j2`: the student's answers and, per graded cell,
  its score, maximum and check's message; never the code of a test cell or of the checks.
- `grades_lms.csv`: one row per student and assignment.
"""

import copy
import csv
import functools
import json
import os
import sys
import warnings
from pathlib import Path

import jinja2
import nbformat

from aekeras_tools.grading import cells as nb

COURSE_ID = "aekeras"
RESULT_FILE = "aekeras_result.json"
LMS_CSV = "grades_lms.csv"
# Files of nbgrader's submission folder that release_feedback needs beside the feedback (copied as data).
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")
CSV_COLUMNS = (
    "student",
    "assignment",
    "score",
    "max_score",
    "manual_to_grade",
    "status",
    "reason",
)


def result_path(course_dir, student, assignment):
    return Path(course_dir) / "autograded" / student / assignment / RESULT_FILE


# ----------------------------------------------------------------- the gradebook
class Gradebook:
    """nbgrader's gradebook of a course directory, kept open for a batch: `record(result)` writes one
    result at once (a context manager; the assignments of `sources` are made or updated on entry).

    Args:
        course_dir: the course directory (its `gradebook.db`).
        sources: {assignment: (notebook name, instructor notebook)}.
    """

    def __init__(self, course_dir, sources):
        self.path = Path(course_dir) / "gradebook.db"
        self.sources = sources

    def __enter__(self):
        from nbgrader.api import Gradebook

        # nbgrader runs the `alembic` command of this environment when it creates the gradebook.
        scripts = os.path.dirname(sys.executable)
        if scripts not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = os.pathsep.join(filter(None, [scripts, os.environ.get("PATH")]))
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        # nbgrader's add_submission links the new row to its student before adding it to the
        # session; SQLAlchemy warns at the next flush (nbgrader's own autograde does the same).
        warnings.filterwarnings("ignore", r"Object of type <\w+> not in session")
        self.gb = Gradebook(f"sqlite:///{self.path}", course_id=COURSE_ID)
        for assignment, (notebook, source) in self.sources.items():
            self.gb.update_or_create_assignment(assignment)
            self.gb.update_or_create_notebook(notebook, assignment)
            for cell in source.cells:
                marks = nb.meta(cell)
                if marks.get("grade"):
                    self.gb.update_or_create_grade_cell(
                        marks["grade_id"],
                        notebook,
                        assignment,
                        max_score=float(marks.get("points", 0)),
                        cell_type=cell.cell_type,
                    )
                if marks.get("solution"):
                    self.gb.update_or_create_solution_cell(marks["grade_id"], notebook, assignment)
        return self

    def record(self, result, folder=None):
        """Writes one result; `folder` is the submission's, whose `timestamp.txt` (nbgrader's submit
        and collect write it) becomes the submission's time, as `nbgrader autograde` records it: the
        formgrader counts a submission as autograded when the two agree."""
        notebook = self.sources[result.assignment][0]
        self.gb.update_or_create_student(result.student)
        timestamp = submitted_at(folder) if folder is not None else None
        self.gb.update_or_create_submission(
            result.assignment, result.student, **({"timestamp": timestamp} if timestamp else {})
        )
        for grade_id, check in result.checks.items():
            grade = self.gb.find_grade(grade_id, notebook, result.assignment, result.student)
            grade.auto_score = check.points
            grade.needs_manual_grade = False
        # The cells a person grades: nbgrader's formgrader lists them as waiting.
        for grade_id in result.manual:
            grade = self.gb.find_grade(grade_id, notebook, result.assignment, result.student)
            grade.auto_score = None
            grade.needs_manual_grade = True
        self.gb.db.commit()

    def __exit__(self, *exc):
        self.gb.close()
        self._warnings.__exit__(*exc)
        return False


def submitted_at(folder):
    """The time in a submission folder's `timestamp.txt` (a datetime), or None (none, or unreadable)."""
    from nbgrader.utils import parse_utc

    path = Path(folder) / "timestamp.txt"
    if path.is_symlink() or not path.is_file() or path.stat().st_size > 4096:
        return None
    try:
        return parse_utc(path.read_text(encoding="utf-8", errors="replace").strip())
    except (ValueError, OverflowError):
        return None


# ----------------------------------------------------------------- formgrader and feedback
def autograded_notebook(source, result):
    """The notebook nbgrader's formgrader shows a person (see the module docstring)."""
    notebook = copy.deepcopy(source)
    for cell in notebook.cells:
        marks = nb.meta(cell)
        grade_id = marks.get("grade_id")
        if marks.get("solution"):
            cell.source = result.answers.get(grade_id, "")
        elif marks.get("grade") and cell.cell_type == "code":
            cell.source = nb.HIDDEN_TESTS.sub("", cell.source)
            check = result.checks.get(grade_id)
            if check and check.points < check.max_points:
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error", ename="AssertionError", evalue=check.message, traceback=[]
                    )
                ]
        if cell.cell_type == "code" and not (marks.get("grade") and not marks.get("solution")):
            cell.outputs = []
    return notebook


@functools.cache
def _template():
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template("feedback.html.j2")


def feedback_html(source, result):
    """The feedback a student reads (see the module docstring): a self-contained HTML page."""
    items = []
    for cell in source.cells:
        marks = nb.meta(cell)
        grade_id = marks.get("grade_id")
        if cell.cell_type == "markdown" and not marks.get("solution"):
            items += [
                {"kind": "title", "text": line.lstrip("#").strip()}
                for line in cell.source.splitlines()
                if line.startswith("#")
            ]
        elif marks.get("solution"):
            items.append(
                {
                    "kind": "answer",
                    "grade_id": grade_id,
                    "text": result.answers.get(grade_id, "(missing)"),
                    "manual": result.manual.get(grade_id),
                }
            )
        elif grade_id in result.checks:
            check = result.checks[grade_id]
            items.append(
                {
                    "kind": "check",
                    "grade_id": grade_id,
                    "check": check,
                    "passed": check.points >= check.max_points,
                }
            )
    return _template().render(result=result, items=items)


def write_result(course_dir, result, submission=None, source=None, notebook=None):
    """Writes the result file and, given the submission and the instructor notebook, the formgrader's
    notebook and the feedback (nbgrader's layout; the submission's two files copied as data)."""
    path = result_path(course_dir, result.student, result.assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(), indent=1))
    if submission is None or source is None:
        return
    folders = {
        kind: Path(course_dir) / kind / result.student / result.assignment
        for kind in ("autograded", "feedback")
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
        if submission.path is not None or submission.folder.is_dir():
            _copy_submission_files(submission.folder, folder)
    nbformat.write(autograded_notebook(source, result), folders["autograded"] / f"{notebook}.ipynb")
    (folders["feedback"] / f"{notebook}.html").write_text(
        feedback_html(source, result), encoding="utf-8"
    )


def _copy_submission_files(origin, folder):
    if origin.is_symlink() or not origin.is_dir():
        return
    for name in SUBMISSION_FILES:
        path = origin / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 4096:
            (folder / name).write_bytes(path.read_bytes())


# ----------------------------------------------------------------- for people
def write_csv(path, results):
    """One row per student and assignment: what an LMS imports (the autograded score and maximum, the
    points still to grade by hand, status, reason)."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for r in sorted(results, key=lambda r: (r.student, r.assignment)):
            writer.writerow(
                [
                    r.student,
                    r.assignment,
                    f"{r.score:g}",
                    f"{r.max_score:g}",
                    f"{r.manual_max_score:g}",
                    r.status,
                    r.reason,
                ]
            )


def summary(results):
    """The table printed at the end: one row per student and assignment (the autograded score of the
    autograded maximum, and the points still to grade by hand)."""
    rows = [("student", "assignment", "score", "status", "reason")]
    for r in sorted(results, key=lambda r: (r.student, r.assignment)):
        manual = r.manual_max_score
        rows.append(
            (
                r.student,
                r.assignment,
                f"{r.score:g}/{r.max_score:g}" + (f" +{manual:g} by hand" if manual else ""),
                r.status,
                r.reason[:120],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4]
        for row in rows
    )
