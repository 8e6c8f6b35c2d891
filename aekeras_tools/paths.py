"""Folders of the repository that the tools read and write (standard library only).

`tasks.py` imports this module with the system Python, before any virtual
environment exists, so it imports nothing but the standard library.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
# The lecture notebooks, in their order: 01_*.ipynb, 02_*.ipynb, ...
LECTURES = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
SITE_TEMPLATES = COURSE / "site" / "templates"
STYLESHEET = COURSE / "site" / "course.css"
ASSIGNMENTS = COURSE / "assignments" / "source"
GRADING = COURSE / "assignments" / "grading"
# `python3 tasks.py lectures` writes the rendered course and its executed notebooks here.
BUILD = ROOT / "build" / "course"
EXECUTED = BUILD / "notebooks"
TEST_RESULTS = ROOT / "build" / "test-results"
RESULTS = ROOT / "benchmarks" / "results"
