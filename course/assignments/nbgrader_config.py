"""nbgrader configuration of the aekeras course: a local course directory, no exchange.

Run every nbgrader command from this folder (course/assignments/) with the
project's environment, e.g. `../../.venv/bin/nbgrader autograde a1_autoencoders`.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

c.CourseDirectory.course_id = "aekeras"
# The course root is the folder nbgrader runs in (this one): instructor notebooks
# in source/<assignment_id>/<notebook>.ipynb; nbgrader writes release/,
# autograded/, feedback/ and gradebook.db next to them, and reads submissions
# from submitted/<student_id>/<assignment_id>/ (all git-ignored).

# Training cells take tens of seconds on a laptop CPU; nbgrader's default of 30 s per cell is too short.
c.Execute.timeout = 600

# nbgrader scores a test cell 0 if it wrote anything to stderr, even when every assert passed. TensorFlow
# writes log lines there from any cell (C++ "E0000 00:00:..." lines, "WARNING:tensorflow:..." retracing
# notices), so drop those outputs before grading. Other stderr output still counts as a failure.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?m)^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ |WARNING: All log messages before absl::InitializeLog"
    r"|WARNING:tensorflow:|WARNING:absl:)"
)

# The hidden tests call the judges of grading/checks_<assignment>.py (instructor-only, never released) through
# aekeras_tools.grading.hidden: put that folder and the repository root (for aekeras_tools) on the path of the
# kernels that nbgrader starts. The author notes of each assignment live in notes/, outside source/, so no
# release, autograded copy or feedback can contain them, whatever the configuration.
_HERE = os.path.dirname(os.path.abspath(__file__))
try:  # aekeras_tools where this process finds it, else in the repository that holds this folder
    import aekeras_tools

    _ROOT = os.path.dirname(os.path.dirname(os.path.abspath(aekeras_tools.__file__)))
except ImportError:
    _ROOT = os.path.dirname(os.path.dirname(_HERE))
for _folder in (os.path.join(_HERE, "grading"), _ROOT):
    if _folder not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [_folder, os.environ.get("PYTHONPATH")])
        )
