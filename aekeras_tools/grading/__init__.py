"""The class grader: every submission of an nbgrader course, run in sandboxes that see nothing but it, and
judged outside them by the same judges as the notebooks' hidden tests.

`python3 tasks.py grade [ASSIGNMENT]` (or `python -m aekeras_tools.grading`) grades
`course/assignments/submitted/<student>/<assignment>/<notebook>.ipynb`, writes nbgrader's gradebook,
the formgrader's notebooks, the students' feedback and an LMS file, and prints a table.

Modules, named by what they hold
--------------------------------

- `submissions`: finding submissions, reading them as data, checking what they are (links refused,
  instructor-only content not graded, unusual code flagged);
- `cells`: the instructor notebook's cells as nbgrader marks them, and the cells a step runs;
- `steps`: `Step` (what a checks module asks to run) and running one in a sandbox;
- `sandbox`: the sandbox itself (bubblewrap), `runner.py` and `probe.py` its untrusted side;
- `judging`: loading a checks module, judging one submission, the `Result` record;
- `hidden`: the same judges run from the instructor notebooks' hidden tests (plain nbgrader);
- `reports`: gradebook, formgrader notebook, feedback (`templates/`), LMS file, summary;
- `batch`: a class on Dask distributed (local worker processes, or a running cluster);
- `cli`: the command line.

The threat model
----------------

A submission is code that runs before anything the grader does with it. In `nbgrader autograde` the
hidden tests run in the student's own kernel after the student's cells, so a few lines of an answer
can replace the functions a test calls, read the tests from disk, or loop, allocate, fork and print
until the batch stops. Here:

- **No student code runs in the grader.** The grader reads a submission as data (size-limited JSON,
  links not followed) and takes only its answer cells (by nbgrader grade id), which it puts between
  the instructor's own given cells; no test cell ever goes to a student's process.
- **The walls are an allowlist.** Each step of each submission runs in a new sandbox (sandbox.py,
  bubblewrap) built from an empty file system, which sees only: its own folder `/sandbox` (a small
  tmpfs, the only writable place, with the step's output files as the only host files it can
  write); the grader's runner and the step's job and inputs, read-only under `/grader`; the Python
  installation and the packages the step imports, read-only (for a NumPy-only step NumPy alone, for
  the others the grading environment's site-packages and the aekeras package, never the
  repository: no `.git`, tests, course directory, benchmarks or build outputs); the files of the
  datasets its cells load, read-only under `/data` (none for a step without student code, which gets
  its images as inputs); the system's `/usr` (and the links `/bin`, `/lib`, ... into it), the
  dynamic loader's configuration, `/etc/localtime` and `/etc/fonts`, and an `/etc/passwd` naming
  the sandbox's own user; a private `/tmp` and `/dev/shm`, `/dev` basics and its own `/proc`.
  Nothing else: no home folder (the grader's or anyone's), no machine `/tmp`, no other mount, no
  network (its own network namespace, loopback down), no other process (its own PID namespace), no
  environment variable but those the step sets. It runs as a fresh unprivileged uid when the grader
  is root, or in a user namespace as the grading user, with no capabilities either way; it dies
  with the grader, and has limits on wall clock, CPU, memory, processes, file sizes and the sizes of
  its tmpfs folders.
- **Judges decide outside.** A step's probe calls the student's functions on inputs the grader
  draws afresh and exports plain arrays; the judges (`grading/checks_<assignment>.py`, run in the
  grader's worker) load them without pickle, compute the expected values themselves and pass or
  fail each graded cell with a message. Trained models are judged on images the sandbox never had,
  or rebuilt from their configuration and trained by the grader in a step without student code.
- **One bad notebook costs only itself**: a hang, a memory or process bomb, a flood of output, a
  damaged file ends with a status and a reason for that student; the batch goes on.
- **Nothing of the grading machine reaches a student**: a student's feedback holds their answers
  and the judges' messages, which quote at most the student's own errors, raised in a sandbox that
  could read no file of the machine's but the public ones listed above.

Adding a task to an assignment
------------------------------

1. In the instructor notebook (`course/assignments/source/<assignment>/<assignment>.ipynb`, edited
   through its text twin `source_md/`), add the answer cell (nbgrader: solution) and a test cell
   (autograded, with points) whose visible part checks what a student can check and whose hidden
   part calls the judge:
   `from aekeras_tools.grading.hidden import check` then
   `check("<assignment>", "<grade id of the test cell>", globals())`.
2. In `course/assignments/grading/checks_<assignment>.py`, add a `Step` (the answer cells it runs,
   `numpy_only` if the task asks for NumPy, its `inputs` and its `probe`) and the judge, a function
   `judge(values, inputs)` with `judge.steps = [...]`, under the test cell's grade id in `CHECKS`.
3. Add wrong answers to `tests/test_assignment_mutations.py`: each must lose its points with its
   message under both graders.
"""

__all__ = ["batch", "cells", "cli", "hidden", "judging", "probe", "reports", "sandbox", "steps"]
