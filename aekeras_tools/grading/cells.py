"""The instructor notebook's cells as nbgrader marks them: graded, hand-graded, answer and given cells,
and the cells one step runs (`compose`).

nbgrader keeps its marks in each cell's metadata (`metadata.nbgrader`): a `grade_id`, `solution` for
an answer the student writes, `grade` and `points` for a graded cell (an autograded test cell when it
is code and no answer, a hand-graded answer when it is both), `task` for a task graded by hand.
"""

import re

# nbgrader's region markers (its defaults, which the course uses).
SOLUTION_REGION = re.compile(
    r"^[ \t]*### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*\n?", re.S | re.M
)
HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M
)
MARKERS = re.compile(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)")


def meta(cell):
    """nbgrader's metadata of a cell ({} when it has none, or a malformed one)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    value = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    return value if isinstance(value, dict) else {}


def graded_cells(source):
    """{grade id: points} of the autograded test cells of the instructor notebook."""
    return {
        meta(c)["grade_id"]: float(meta(c).get("points", 0))
        for c in source.cells
        if c.cell_type == "code" and meta(c).get("grade") and not meta(c).get("solution")
    }


def manual_cells(source):
    """{grade id: points} of the cells a person grades (nbgrader's hand-graded answers and tasks)."""
    return {
        meta(c)["grade_id"]: float(meta(c).get("points", 0))
        for c in source.cells
        if (meta(c).get("grade") and meta(c).get("solution")) or meta(c).get("task")
    }


def answer_cells(source):
    """{grade id: cell type} of the answer cells, code and written (nbgrader's solution cells)."""
    return {
        meta(c)["grade_id"]: c.cell_type
        for c in source.cells
        if meta(c).get("solution") and c.cell_type in ("code", "markdown")
    }


def given_cells(source):
    """The grade ids of the instructor's given code cells (locked, neither answers nor tests)."""
    return {
        meta(c)["grade_id"]
        for c in source.cells
        if c.cell_type == "code"
        and meta(c).get("grade_id")
        and not meta(c).get("solution")
        and not meta(c).get("grade")
    }


def compose(source, answers, step):
    """The cells one step runs: the instructor's given code cells and the student's answers.

    Test cells (autograded, hidden parts or not) are never included. A step with `cells=None` runs
    every given code cell and every code answer in the notebook's order; otherwise the answer cells
    it names, after the given cells it names (e.g. the set-up that an answer needs).

    Args:
        source: the instructor notebook (nbformat).
        answers: {grade id: source} of the student's answer cells.
        step: a `steps.Step`.

    Returns:
        [{"id": grade id, "source": code}].
    """
    cells = []
    for cell in source.cells:
        marks = meta(cell)
        if cell.cell_type != "code" or not marks:
            continue
        grade_id = marks.get("grade_id")
        if marks.get("solution"):
            if step.cells is None or grade_id in step.cells:
                cells.append({"id": grade_id, "source": answers.get(grade_id, "")})
        elif not marks.get("grade") and (step.cells is None or grade_id in step.given):
            cells.append({"id": grade_id, "source": cell.source})
    return cells


# nbgrader's stub for a solution region of a Python cell (ClearSolutions.code_stub).
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


def _lines(text):
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def released(text):
    """An answer cell's text as nbgrader releases it: each solution region replaced by the stub,
    indented as the region was, or the whole cell if it has no region."""

    def stub(match):
        indent = re.match(r"[ \t]*", match.group(0)).group(0)
        return "".join(f"{indent}{line}\n" for line in STUB)

    if not SOLUTION_REGION.search(text):
        return "\n".join(STUB)
    return SOLUTION_REGION.sub(stub, text)


def unanswered(source, answers):
    """The grade ids of the code answers in `answers` that are still as released (nothing written)."""
    texts = {meta(c).get("grade_id"): c.source for c in source.cells if meta(c).get("solution")}
    return {
        grade_id
        for grade_id, text in answers.items()
        if grade_id in texts and _lines(text) == _lines(released(texts[grade_id]))
    }
