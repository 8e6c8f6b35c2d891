"""Submissions: finding them in nbgrader's course directory, reading them as data, and checking what they are.

A submission is `submitted/<student>/<assignment>/<notebook>.ipynb`. It is never executed here: it is
read as JSON (size-limited, without following links), and only its answer cells (found by nbgrader
grade id) go on to the sandboxes. Before that, it is checked for what it is:

- **Links are not followed.** A student folder, assignment folder or notebook that is a symbolic
  link (nbgrader's `collect` copies what a link left in the exchange points at; a link in
  `submitted/` could point at the instructor's notebook or at another student's) is refused: the
  submission is `damaged`, with the reason, and nothing behind the link is read.
- **Instructor-only content is not the student's work.** A notebook that is the instructor
  notebook byte for byte, that holds nbgrader's solution or hidden-test region markers, a line of the
  hidden tests or lines of the grader's checks, or an answer that is the instructor's solution line
  for line, is not graded: status `suspicious`, score 0 until a person decides.
- **Code that no answer needs** (importing `sys` or `ctypes`, reading frames, naming absolute paths,
  listing folders or reading the environment, ...) is graded as usual and flagged `suspicious` for a
  person to read.
"""

import dataclasses
import json
import os
import re
from pathlib import Path

from aekeras_tools.grading import cells as nb

MAX_NOTEBOOK_BYTES = 20 * 2**20  # larger submissions are damaged (outputs of a flood)
# What no answer cell needs, with the reason a person reads in the summary.
SUSPICIOUS_CODE = (
    (
        r"\bimport\s+(sys|ctypes|subprocess|socket|gc|inspect|builtins|importlib|signal)\b",
        "imports `{0}`",
    ),
    (
        r"\bfrom\s+(sys|ctypes|subprocess|socket|gc|inspect|builtins|importlib|signal)\b",
        "imports from `{0}`",
    ),
    (
        r"\b(__import__|_getframe|setprofile|settrace|__builtins__|__code__|__globals__)\b",
        "uses `{0}`",
    ),
    (r"\b(os\.(?:system|fork|kill|popen|exec\w*|spawn\w*)|open\s*\(\s*['\"]/)", "calls `{0}`"),
    (r"(?<![.\w])(exec|eval|compile)\s*\(", "calls `{0}`"),
    (
        r"\b(os\.(?:listdir|scandir|walk|environ|getenv|chdir)|expanduser|Path\.home|glob\.\w+)\b",
        "looks around the machine (`{0}`)",
    ),
    (r"(?<![\w'\"])[fFrRbB]{0,2}['\"](/[\w.~-][^'\"]{0,60})", "names the path `{0}`"),
)
MIN_LINE = (
    24  # a line of the tests or checks this long, not in the release, marks instructor content
)
MIN_SOLUTION_LINES = 3  # an answer equal to a solution region this long is the instructor's
MIN_CHECKS_LINES = 3  # distinct lines of the checks module: one can be an honest answer's idiom


@dataclasses.dataclass
class Submission:
    """One student's folder for one assignment: `path` is the notebook found there (None if none could
    be read), `problems` what was wrong with the folder itself."""

    student: str
    assignment: str
    folder: Path
    path: Path | None
    problems: tuple[str, ...] = ()

    def payload(self):
        """Plain values (for a Dask worker that imports nothing of ours to receive them)."""
        return {
            "student": self.student,
            "assignment": self.assignment,
            "folder": str(self.folder),
            "path": None if self.path is None else str(self.path),
            "problems": list(self.problems),
        }

    @classmethod
    def from_payload(cls, payload):
        path = payload["path"]
        return cls(
            payload["student"],
            payload["assignment"],
            Path(payload["folder"]),
            None if path is None else Path(path),
            tuple(payload["problems"]),
        )


def _link(path):
    target = os.readlink(path)
    return f"{path.name} is a symbolic link (to {target}); links are not followed"


def discover(course_dir, assignment, notebook, students=None):
    """The submissions of `assignment` under submitted/, one per student folder, sorted by student.

    Links are refused, not followed (see the module docstring): such a submission has no `path` and
    its `problems` say why.
    """
    submitted = Path(course_dir) / "submitted"
    found = []
    if not submitted.is_dir():
        return found
    for entry in sorted(os.scandir(submitted), key=lambda e: e.name):
        student = entry.name
        if students and student not in students:
            continue
        if entry.is_symlink():
            folder = Path(entry.path) / assignment
            found.append(Submission(student, assignment, folder, None, (_link(Path(entry.path)),)))
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path) / assignment
        if folder.is_symlink():
            found.append(Submission(student, assignment, folder, None, (_link(folder),)))
            continue
        if not folder.is_dir():
            continue
        problems, regular = [], []
        for path in sorted(folder.glob("*.ipynb")):
            if path.is_symlink():
                problems.append(_link(path))
            elif path.is_file():
                regular.append(path)
        expected = folder / f"{notebook}.ipynb"
        path = expected if expected in regular else (regular or [None])[0]
        found.append(Submission(student, assignment, folder, path, tuple(problems)))
    return found


def read_bytes(path):
    """The file's bytes, without following a link; a ValueError says why it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        raise ValueError(f"the notebook cannot be opened ({error.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        if os.fstat(file.fileno()).st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
        return file.read(MAX_NOTEBOOK_BYTES + 1)


def parse(data):
    """(cells, problems) of a notebook's bytes, read as data: `cells` is its list of cell dicts."""
    try:
        notebook = json.loads(data.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as error:
        return [], [
            f"the file is not valid JSON ({error.msg}, line {error.lineno}); it cannot be opened "
            "as a notebook"
        ]
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return [], ["the file is not a notebook (no list of cells)"]
    if not cells:
        return [], ["the notebook has no cells"]
    return [c for c in cells if isinstance(c, dict)], []


def text_of(cell):
    text = cell.get("source", "")
    text = "".join(map(str, text)) if isinstance(text, list) else str(text)
    return text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be written


def answers_of(cells, source):
    """(answers {grade id: source}, problems) of a submission's cells: the answer cells of the
    instructor notebook, code and written, found by grade id and cell type."""
    expected = nb.answer_cells(source)
    answers, problems = {}, []
    for cell in cells:
        grade_id = nb.meta(cell).get("grade_id")
        if grade_id not in expected or cell.get("cell_type") != expected[grade_id]:
            continue
        if grade_id in answers:
            problems.append(
                f"the answer cell {grade_id} appears more than once; the first copy was graded"
            )
            continue
        answers[grade_id] = text_of(cell)
    missing = sorted(expected.keys() - answers.keys())
    if missing:
        problems.append(
            f"answer cells missing (deleted, or their metadata changed): {', '.join(missing)}"
        )
    return answers, problems


def read(submission, source, expected_name):
    """(raw bytes, cells, answers, problems) of a submission: everything the grader takes from it."""
    problems = list(submission.problems)
    if submission.path is None:
        return b"", [], {}, [*problems, "no notebook in the submission folder"]
    if submission.path.name != expected_name:
        problems.append(f"the notebook is named {submission.path.name}, not {expected_name}")
    try:
        data = read_bytes(submission.path)
    except ValueError as error:
        return b"", [], {}, [*problems, str(error)]
    cells, more = parse(data)
    answers, missing = answers_of(cells, source) if cells else ({}, [])
    return data, cells, answers, [*problems, *more, *missing]


def suspicious(answers):
    """Reasons to have a person read the answer cells: code that no answer needs."""
    reasons = []
    for grade_id, text in answers.items():
        for pattern, reason in SUSPICIOUS_CODE:
            match = re.search(pattern, text)
            if match:
                reasons.append(f"{grade_id} {reason.format(match.group(1))}")
    return reasons


# ----------------------------------------------------------------- instructor-only content
def _lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclasses.dataclass(frozen=True)
class Fingerprints:
    """What marks a notebook as carrying instructor-only content (see `fingerprints`)."""

    notebook: bytes
    hidden: frozenset
    checks: frozenset
    solutions: tuple


def fingerprints(source_path, source, checks_path):
    """The instructor notebook's bytes, the distinctive lines of its hidden tests and of the checks
    module (long lines that the released notebook does not hold), and its solution regions."""
    released, hidden, solutions = [], [], []
    for cell in source.cells:
        text = cell.source
        hidden += [m.group(0) for m in nb.HIDDEN_TESTS.finditer(text)]
        regions = [m.group(0) for m in nb.SOLUTION_REGION.finditer(text)]
        solutions += [tuple(_lines(nb.MARKERS.sub("", region))) for region in regions]
        released.append(nb.SOLUTION_REGION.sub("", nb.HIDDEN_TESTS.sub("", text)))
    public = set(_lines("\n".join(released)))

    def distinctive(lines):
        return frozenset(
            line
            for line in lines
            if len(line) >= MIN_LINE and line not in public and not line.startswith("#")
        )

    checks = ""
    if checks_path is not None and Path(checks_path).is_file():
        checks = Path(checks_path).read_text(encoding="utf-8")
    solutions = tuple(s for s in solutions if len(s) >= MIN_SOLUTION_LINES)
    return Fingerprints(
        Path(source_path).read_bytes(),
        distinctive(_lines("\n".join(hidden))),
        distinctive(_lines(checks)) - distinctive(_lines("\n".join(hidden))),
        solutions,
    )


def instructor_content(data, cells, answers, prints):
    """Reasons why a submission carries instructor-only content ([] if it does not).

    A line of the hidden tests marks it; of the checks module, whose code can share an idiom with
    an honest answer (`sum(np.prod(w.shape) for w in model.trainable_weights)`), it takes
    `MIN_CHECKS_LINES` distinct ones. The reasons name where, never what: they reach the student's
    feedback.
    """
    if data and data == prints.notebook:
        return ["it is the instructor notebook, byte for byte"]
    reasons, from_checks = [], set()
    for index, cell in enumerate(cells):
        text = text_of(cell)
        where = nb.meta(cell).get("grade_id") or f"cell {index + 1}"
        if nb.MARKERS.search(text):
            reasons.append(f"{where} holds nbgrader's solution or hidden-test markers")
            continue
        lines = _lines(text)
        copied = sum(line in prints.hidden for line in lines)
        if copied:
            reasons.append(f"{where} holds {copied} line(s) of the hidden tests")
        from_checks.update(line for line in lines if line in prints.checks)
    if len(from_checks) >= MIN_CHECKS_LINES:
        reasons.append(f"the notebook holds {len(from_checks)} lines of the grader's checks")
    for grade_id, text in answers.items():
        lines = _lines(text)
        for solution in prints.solutions:
            n = len(solution)
            if any(tuple(lines[i : i + n]) == solution for i in range(len(lines) - n + 1)):
                reasons.append(f"{grade_id} holds the instructor's solution, line for line")
                break
    return sorted(set(reasons))
