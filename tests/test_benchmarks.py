"""The benchmark scripts' helpers: result tables and the lecture times read from nbval's report."""

import datetime
import os
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import keras
import nbformat
import pytest

from aekeras import notebook as aekeras_notebook
from aekeras_tools import claims_audit
from aekeras_tools import hinton2006
from aekeras_tools import lecture_claims
from aekeras_tools import lecture_times
from aekeras_tools import results as common
from aekeras_tools.paths import LECTURES
from aekeras_tools.paths import ROOT


def test_table_aligns_columns_in_markdown():
    text = common.table(["a", "long header"], [[1, "x"], ["wider cell", 2.5]])
    lines = text.splitlines()
    assert lines[0] == "| a          | long header |"
    assert lines[1] == "| ---------- | ----------- |"
    assert lines[3] == "| wider cell | 2.5         |"
    assert len({len(line) for line in lines}) == 1


def test_result_file_records_date_commit_backend_machine_and_command(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(sys, "argv", ["hinton2006.py", "--only", "mnist", "--name", "a b"])
    start = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    text = common.write_result("demo", "A title", "| x |", notes=["Devices: 4"])
    end = datetime.datetime.now(datetime.UTC)

    assert (tmp_path / "results" / "demo.md").read_text() == text
    title, blank, run, machine, command, note, blank2, body = text.splitlines()
    assert (title, blank, note, blank2, body) == ("# A title", "", "Devices: 4", "", "| x |")
    match = re.fullmatch(r"Run (\S+ \S+) UTC, commit (.+), backend (\w+)\.", run)
    stamp = datetime.datetime.strptime(match[1], "%Y-%m-%d %H:%M").replace(tzinfo=datetime.UTC)
    assert start <= stamp <= end
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=Path(common.__file__).parent,
    ).stdout.strip()
    assert match[2].split()[0] == (head or "?")
    backend = keras.backend.backend()
    assert match[3] == backend
    assert machine.startswith("Machine: ") and f"{os.cpu_count()} cores" in machine
    assert f"Keras {keras.__version__} ({backend})" in machine
    assert (
        command
        == f"Command: `KERAS_BACKEND={backend} python hinton2006.py --only mnist --name 'a b'`"
    )


def test_result_file_names_a_module_run_with_python_m(monkeypatch):
    # `python -m aekeras_tools.hinton2006 --only mnist` sets sys.argv[0] to the module's file.
    monkeypatch.setattr(sys, "argv", [hinton2006.__file__, "--only", "mnist"])
    backend = keras.backend.backend()
    assert common.command() == (
        f"KERAS_BACKEND={backend} python -m aekeras_tools.hinton2006 --only mnist"
    )


def test_spread_of_seeds_is_mean_sample_std_and_range():
    stats = hinton2006.spread([3.4, 3.0, 3.2])
    assert stats["mean"] == pytest.approx(3.2)
    assert stats["std"] == pytest.approx(0.2)  # sample std: sqrt((0.04 + 0.04) / 2)
    assert (stats["min"], stats["max"]) == (3.0, 3.4)
    with pytest.raises(ValueError, match=r"at least two values. Received: values=\[3.0\]"):
        hinton2006.spread([3.0])


def _mnist_result(seed, ae_error, pca_error=12.0, train_error=2.0):
    return {
        "dataset": "MNIST 784-1000-500-250-30",
        "paper": (3.0, 13.87),
        "ours": (ae_error, pca_error),
        "train_error": train_error,
        "wall": 600.0,
        "cpu": 1200.0,
        "trajectory": [],
        "settings": "120 epochs",
        "seed": seed,
    }


def _rows(text):
    """The cells of a Markdown table's data rows."""
    lines = [line for line in text.splitlines() if line.startswith("|")][2:]
    # A cell's own "|" is escaped as "\|" (Markdown); split on the others only.
    return [
        [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip("|"))]
        for line in lines
    ]


def test_report_of_several_seeds_gives_each_seed_and_their_spread():
    results = [
        _mnist_result(s, e, train_error=t)
        for s, e, t in [(0, 3.0, 2.0), (1, 3.4, 2.2), (2, 3.2, 2.1)]
    ]
    body = hinton2006.report(results, budget_minutes=30)
    main, seeds = body.split("Seeds (")
    assert [row[0] for row in _rows(main)] == [
        f"MNIST 784-1000-500-250-30, seed {s}" for s in range(3)
    ]
    assert _rows(seeds) == [
        ["MNIST 784-1000-500-250-30", "0", "3.000", "0.250", "2.000"],
        ["MNIST 784-1000-500-250-30", "1", "3.400", "0.283", "2.200"],
        ["MNIST 784-1000-500-250-30", "2", "3.200", "0.267", "2.100"],
        [
            "MNIST 784-1000-500-250-30",
            "mean ± std (min-max) of 3",
            "3.200 ± 0.200 (3.000-3.400)",
            "0.267 ± 0.017 (0.250-0.283)",
            "2.100 ± 0.100 (2.000-2.200)",
        ],
    ]


def test_report_of_one_seed_has_no_seed_table():
    body = hinton2006.report([_mnist_result(0, 3.1)], budget_minutes=30)
    assert "Seeds" not in body and "seed" not in _rows(body)[0][0]


def test_report_gives_the_training_time_to_reach_the_paper():
    result = _mnist_result(0, 2.98)
    result["trajectory"] = [(10, 4.1, 4.6, 120.0), (20, 2.5, 3.0, 240.0), (30, 2.3, 2.9, 360.0)]
    body = hinton2006.report([result], budget_minutes=30)
    assert ["20", "2.500", "3.000", "4.0 min"] in _rows(body.split("errors during training")[1])
    assert "first at or below the paper's 3: epoch 20, after 4.0 min of training." in body
    result["trajectory"] = result["trajectory"][:1]
    assert "not reached at the measured epochs" in hinton2006.report([result], budget_minutes=30)


def test_seed_processes_get_every_argument_but_the_seeds_jobs_and_name():
    argv = [
        "--only",
        "mnist",
        "--seeds",
        "0",
        "1",
        "2",
        "--jobs=3",
        "--name",
        "x",
        "--lr-mnist",
        "-1",
    ]
    argv += ["--seed=4", "--epochs-mnist", "5"]
    assert hinton2006.child_arguments(argv) == [
        "--only",
        "mnist",
        "--lr-mnist",
        "-1",
        "--epochs-mnist",
        "5",
    ]


def test_seeds_flag_trains_once_per_seed_from_that_seed(monkeypatch):
    draws, reported = [], []

    def mnist(args):
        draws.append(random.random())  # keras.utils.set_random_seed seeds Python's RNG too
        return {"dataset": "MNIST"}

    monkeypatch.setattr(hinton2006, "mnist", mnist)
    monkeypatch.setattr(hinton2006, "report", lambda results, budget: reported.extend(results))
    monkeypatch.setattr(hinton2006, "write_result", lambda name, title, body, notes: None)
    hinton2006.main(["--only", "mnist", "--seeds", "0", "1", "2"])
    assert [r["seed"] for r in reported] == [0, 1, 2]
    assert draws == [random.Random(s).random() for s in (0, 1, 2)]


def test_seeds_must_be_distinct(capsys):
    with pytest.raises(SystemExit):
        hinton2006.main(["--only", "mnist", "--seeds", "0", "0"])
    assert "--seeds must be distinct. Received: [0, 0]" in capsys.readouterr().err


def _junit(path, cases):
    """Writes a pytest-style JUnit report: cases are (classname, name, seconds, outcome)."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<testsuites><testsuite>"]
    for classname, name, seconds, outcome in cases:
        child = {"passed": "", "failed": "<failure/>", "skipped": "<skipped/>"}[outcome]
        lines.append(
            f'<testcase classname="{classname}" name="{name}" time="{seconds}">{child}</testcase>'
        )
    lines.append("</testsuite></testsuites>")
    path.write_text("\n".join(lines))
    return path


def test_lecture_times_reads_times_and_outcomes_from_a_report(tmp_path):
    # A hand-written report stands in for the clock: the times are exact.
    junit = _junit(
        tmp_path / "report.xml",
        [
            ("course.01_intro.ipynb", "Cell 0", 12.5, "passed"),
            ("course.01_intro.ipynb", "Cell 1", 100.25, "passed"),
            ("course.02_long.ipynb", "Cell 0", 301.0, "failed"),
            ("course.02_long.ipynb", "Cell 1", 0.5, "skipped"),
            ("tests.test_models", "test_something", 9.0, "passed"),  # not a notebook cell
        ],
    )
    times = lecture_times.notebook_times(junit)
    assert times == {
        "01_intro": [("Cell 0", 12.5, True), ("Cell 1", 100.25, True)],
        "02_long": [("Cell 0", 301.0, False), ("Cell 1", 0.5, False)],
    }


def test_lecture_times_report_flags_lectures_over_the_limit(tmp_path, monkeypatch):
    # One report per backend, named as `tasks.py test` writes them.
    jax_report = _junit(
        tmp_path / "jax.xml",
        [
            ("course.01_intro.ipynb", "Cell 0", 100.0, "passed"),
            ("course.01_intro.ipynb", "Cell 1", 200.0, "passed"),  # 300 s: at the limit
            ("course.02_long.ipynb", "Cell 0", 250.0, "passed"),
            ("course.02_long.ipynb", "Cell 1", 51.0, "passed"),  # 301 s: over it
        ],
    )
    torch_report = _junit(
        tmp_path / "torch.xml", [("course.01_intro.ipynb", "Cell 0", 42.0, "passed")]
    )
    written = {}
    monkeypatch.setattr(
        lecture_times, "write_result", lambda name, title, body: written.update({name: body})
    )
    monkeypatch.setattr(lecture_times, "device_of", lambda backend: f"GPU of {backend}")
    argv = ["lecture_times.py", "--junit", str(jax_report), str(torch_report), "--name", "times"]
    monkeypatch.setattr(sys, "argv", argv)
    assert lecture_times.main() == 0
    table = [line for line in written["times"].splitlines() if line.startswith("|")]
    rows = {tuple(c.strip() for c in line.split("|")[1:4]): line for line in table}
    intro, long = rows["jax", "GPU of jax", "01_intro"], rows["jax", "GPU of jax", "02_long"]
    assert "300 s (5.0 min)" in intro and intro.rstrip(" |").endswith("yes")
    assert "Cell 1: 200 s" in intro
    assert "301 s (5.0 min)" in long and long.rstrip(" |").endswith("NO")
    assert "601 s (10.0 min)" in rows["jax", "GPU of jax", "**all lectures**"]
    assert "42 s (0.7 min)" in rows["torch", "GPU of torch", "01_intro"]


@pytest.mark.tensorflow_only  # runs a notebook kernel, like the nbval run it reads
def test_lecture_times_sums_cells_per_notebook_from_nbval_junit(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    for name, sleeps in [("01_fast", [0.0]), ("02_slow", [0.0, 0.6])]:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [
            nbformat.v4.new_code_cell(f"import time; time.sleep({s})") for s in sleeps
        ]
        nbformat.write(nb, course / f"{name}.ipynb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("assert False, 'a failing cell'")]
    nbformat.write(nb, course / "03_broken.ipynb")
    junit = tmp_path / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "course",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={junit}",
        ],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )

    times = lecture_times.notebook_times(junit)

    assert sorted(times) == ["01_fast", "02_slow", "03_broken"]
    assert [ok for _, _, ok in times["02_slow"]] == [True, True]
    assert times["03_broken"][0][2] is False
    slow_cell = times["02_slow"][1]
    # A lower bound only: a loaded machine can make the cell slower, never faster.
    assert slow_cell[0] == "Cell 1" and slow_cell[1] >= 0.6


def _claim_output(description, value, comparison, threshold, full_run=False):
    """The display output `aekeras.notebook.claim` gives in a Jupyter kernel (failed ones too)."""
    import aekeras

    shown = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aekeras.notebook, "_in_kernel", lambda: True)
        patch.setattr(aekeras.notebook, "_display", shown.append)
        patch.setenv("AEKERAS_FULL_RUN", "1" if full_run else "0")
        try:
            aekeras.notebook.claim(description, value, comparison, threshold)
        except AssertionError:
            pass  # shown before it raised
    return nbformat.v4.new_output("display_data", data=shown[0])


def _setup_output(backend="jax", device="NVIDIA H200"):
    """The display output `aekeras.notebook.setup` gives in a Jupyter kernel on `device`."""
    import aekeras

    shown = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aekeras.notebook, "_in_kernel", lambda: True)
        patch.setattr(aekeras.notebook, "_display", shown.append)
        patch.setattr(aekeras.notebook, "devices", lambda: [device])
        patch.setattr(aekeras.notebook, "_inline_figures", lambda: None)
        aekeras.notebook.setup(seed=0)
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.framework import config  # no public API to undo it

        config.disable_op_determinism()  # setup() turned it on for the whole process
    (bundle,) = shown
    record = bundle[aekeras.notebook.SETUP_MIMETYPE]
    record["backend"] = backend  # as if run on that backend: the record is what the script reads
    return nbformat.v4.new_output("display_data", data=bundle)


def _executed_lecture(outputs, start="2026-11-27T10:00:00Z", end="2026-11-27T10:02:05Z"):
    setup = nbformat.v4.new_code_cell("info = aekeras.notebook.setup(seed=0)")
    setup.outputs = [_setup_output()]
    setup.metadata["execution"] = {"iopub.execute_input": start}
    check = nbformat.v4.new_code_cell("aekeras.notebook.claim(...)")
    check.outputs = outputs
    check.metadata["execution"] = {"shell.execute_reply": end}
    setup.execution_count, check.execution_count = 1, 2
    return nbformat.v4.new_notebook(cells=[setup, check])


def test_lecture_claims_tabulates_every_claim_with_its_margin():
    nb = _executed_lecture(
        [
            _claim_output("deep AE / PCA test error", 0.31, "<", 0.65),
            _claim_output("AUC, plain AE", 0.97, ">", 0.9),
        ]
    )
    body = lecture_claims.report([("01_autoencoders", nb)])
    summary, claims = body.split("Each claim")
    assert _rows(summary) == [
        ["01_autoencoders", "jax, NVIDIA H200", "default", "125 s (2.1 min)", "2", "passed"]
    ]
    assert _rows(claims) == [
        ["01_autoencoders", "deep AE / PCA test error", "0.31", "< 0.65", "0.34", "52%"],
        ["01_autoencoders", "AUC, plain AE", "0.97", "> 0.9", "0.07", "8%"],
    ]


def test_lecture_claims_reports_a_failed_lecture_and_the_full_settings():
    error = nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="claim FAILED: ratio = 0.9 < 0.7", traceback=[]
    )
    nb = _executed_lecture([_claim_output("ratio", 0.1, "<", 0.5, full_run=True), error])
    (row,) = _rows(lecture_claims.report([("03_denoising", nb)]).split("Each claim")[0])
    assert row[2] == "full"
    assert row[5] == "FAILED: AssertionError: claim FAILED: ratio = 0.9 < 0.7"


def test_lecture_claims_reads_executed_notebooks_into_a_result_file(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    path = tmp_path / "01_autoencoders.ipynb"
    nbformat.write(_executed_lecture([_claim_output("ratio", 0.1, "<", 0.5)]), path)
    lecture_claims.main([str(path), "--name", "claims", "--note", "Thresholds as of today."])
    text = (tmp_path / "results" / "claims.md").read_text()
    assert "commit" in text and "backend jax." in text and "| ratio " in text
    assert "\nThresholds as of today.\n" in text


def test_lecture_claims_names_the_result_by_the_settings_the_lectures_ran(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    paths = []
    for name, full in [("01_a", True), ("02_b", False)]:
        nb = _executed_lecture([_claim_output("ratio", 0.1, "<", 0.5, full_run=full)])
        nb.cells[0].outputs[0].data[aekeras_notebook.SETUP_MIMETYPE]["full_run"] = full
        paths.append(tmp_path / f"{name}.ipynb")
        nbformat.write(nb, paths[-1])
    assert lecture_claims.main([str(paths[0])]) == 0
    assert "full" in (tmp_path / "results" / "lectures_full_run.md").read_text()
    assert lecture_claims.main([str(p) for p in paths]) == 0  # mixed: the default table
    # One run's table; lecture_claims.md is the audit's (claims_audit).
    assert "| 02_b " in (tmp_path / "results" / "lecture_claims_run.md").read_text()


def test_claim_records_of_the_library_are_what_the_script_reads():
    output = _claim_output("ratio", 0.25, "<=", 0.5)
    (row,) = _rows(
        lecture_claims.report([("x", _executed_lecture([output]))]).split("Each claim")[1]
    )
    assert row[1:] == ["ratio", "0.25", "<= 0.5", "0.25", "50%"]


def test_lecture_claims_reports_a_run_stopped_before_the_end():
    nb = _executed_lecture([_claim_output("ratio", 0.1, "<", 0.5)])
    nb.cells.append(nbformat.v4.new_code_cell("print('never ran')"))
    (row,) = _rows(lecture_claims.report([("01", nb)]).split("Each claim")[0])
    assert row[5] == "INCOMPLETE: 2 of 3 code cells ran"


def _claim_descriptions(path):
    """The literal descriptions of the `claim(...)` calls in a lecture's code cells."""
    import ast

    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or "claim(" not in cell.source:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if not isinstance(node, ast.Call):
                continue
            if (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "claim":
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    found.append(first.value)
    return found


def test_claims_audit_passes_every_claim_the_lectures_make_on_three_backends_and_seeds():
    # benchmarks/results/lecture_claims.md, the audit (python3 tasks.py claims: seeds 0-2 of
    # every lecture on each backend): rerun it when a claim is added or its computation changes.
    text = (ROOT / "benchmarks" / "results" / "lecture_claims.md").read_text()
    tables = [block for block in text.split("\n\n") if block.startswith("|")]
    runs, audited = _rows(tables[0]), _rows(tables[1])
    assert {row[7] for row in runs} == {"passed"}, "a lecture failed in a run of the audit"
    seeds = defaultdict(set)
    for lecture, backend, seed, *_ in runs:
        seeds[lecture, backend].add(seed)
    for path in LECTURES:
        for backend in ("jax", "tensorflow", "torch"):
            assert len(seeds[path.stem, backend]) >= 3, (path.stem, backend, seeds)
    header = [c.strip() for c in tables[1].splitlines()[0].strip("|").split("|")]
    assert header[3:6] == ["jax", "tensorflow", "torch"], header
    for path in LECTURES:
        rows = {row[1]: row for row in audited if row[0] == path.stem}
        for description in _claim_descriptions(path):
            row = rows.get(description)
            assert row is not None, f"the audit lacks {description!r} of {path.name}; rerun it"
            assert row[-1] == "yes", (path.name, row)
            assert all(cell != "-" for cell in row[3:6]), (path.name, row)  # every backend


def _audited_run(backend, seed, values, bound=("<", 0.65)):
    """An executed lecture of the audit: the claims `values` (description -> value) on `backend`."""
    outputs = [_claim_output(d, v, *bound) for d, v in values.items()]
    nb = _executed_lecture(outputs)
    record = nb.cells[0].outputs[0].data[aekeras_notebook.SETUP_MIMETYPE]
    record["backend"], record["seed"] = backend, seed
    nb.metadata["aekeras_audit"] = {"commit": "abc1234", "seed": seed}
    return nb


def test_claims_audit_gives_each_backends_spread_and_margin_in_sds():
    runs = []
    for backend, values in {"jax": [0.30, 0.32, 0.34], "torch": [0.60, 0.62, 0.64]}.items():
        for seed, value in enumerate(values):
            nb = _audited_run(backend, seed, {"AE / PCA": value})
            runs.append((backend, seed, "01_autoencoders", nb))
    (row,), dropped = claims_audit.audit(runs)
    assert dropped == []
    mean, sd, margin = row["per_backend"]["jax"]
    assert mean == pytest.approx(0.32) and sd == pytest.approx(0.02)
    assert margin == pytest.approx((0.65 - 0.32) / 0.02)  # 16.5 SDs
    assert row["per_backend"]["torch"][2] == pytest.approx((0.65 - 0.62) / 0.02)  # 1.5 SDs
    # Held in every run, but torch's mean is 1.5 SDs from the bound: not audited.
    assert row["held"] and not row["passes"] and row["worst"] == pytest.approx(1.5)
    body = claims_audit.report(runs)
    (cells,) = _rows(body.split("claims. Per backend")[1])
    assert cells == [
        "01_autoencoders",
        "AE / PCA",
        "< 0.65",
        "0.32 ± 0.02 (16.5)",
        "0.62 ± 0.02 (1.5)",
        "1.5",
        "NO",
    ]
    assert "1 of 1 claims are within 3 SDs of their bound on some backend" in body
    assert len(_rows(body.split("claims. Per backend")[0])) == 6  # a row per lecture run


def test_claims_audit_counts_a_failed_run_and_a_value_that_never_changes():
    runs = [
        ("jax", s, "02_sparse", _audited_run("jax", s, {"ratio": v, "constant": 0.5}))
        for s, v in enumerate([0.1, 0.2, 0.7])  # the last run fails "< 0.65"
    ]
    (failed, constant), _ = claims_audit.audit(runs)
    assert failed["claim"] == "ratio" and not failed["held"] and not failed["passes"]
    assert failed["per_backend"]["jax"][0] == pytest.approx(1 / 3)  # the failed value counts
    assert constant["per_backend"]["jax"][1] == 0 and constant["worst"] == float("inf")
    assert constant["passes"]
    body = claims_audit.report(runs)
    assert "NO (fails a run)" in body and "∞ (SD 0)" in body


def test_claims_audit_refuses_runs_with_two_bounds_for_one_claim():
    runs = [
        ("jax", 0, "01", _audited_run("jax", 0, {"ratio": 0.3}, bound=("<", 0.65))),
        ("jax", 1, "01", _audited_run("jax", 1, {"ratio": 0.3}, bound=("<", 0.5))),
    ]
    with pytest.raises(
        ValueError, match=r"'ratio' of 01 has two bounds.*remove build/claims_audit"
    ):
        claims_audit.audit(runs)


def test_claims_audit_reads_the_runs_it_kept_into_the_result_file(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    root = tmp_path / "audit"
    for backend in ("jax", "torch"):
        for seed in (0, 1, 2):
            folder = claims_audit.run_folder(backend, seed, root)
            folder.mkdir(parents=True)
            nb = _audited_run(backend, seed, {"ratio": 0.1 + 0.01 * seed})
            nbformat.write(nb, folder / "01_autoencoders.ipynb")
    source = tmp_path / "lectures" / "01_autoencoders.ipynb"
    source.parent.mkdir()
    code = 'aekeras.notebook.claim("ratio", ratio, "<", 0.65)'
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), source)
    argv = ["report", "--root", str(root), "--name", "claims", "--lectures", str(source)]
    assert claims_audit.main(argv) == 0
    text = (tmp_path / "results" / "claims.md").read_text()
    assert "Seeds 0, 1, 2 (AEKERAS_SEED) on jax, torch" in text and "commit abc1234" in text
    assert "| 01_autoencoders | ratio | < 0.65 | 0.11 ± 0.01 (54.0) | 0.11 ± 0.01 (54.0) |" in text
    assert "Every claim holds in every run, at least 3 SDs from its bound" in text


def _lecture_source(tmp_path, code):
    path = tmp_path / "01_autoencoders.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), path)
    return claims_audit.source_bounds(path)


def test_claims_audit_takes_the_bounds_the_lectures_have_now(tmp_path):
    # Values do not depend on a bound: a bound set from the audit's values is audited as set,
    # and a claim a lecture no longer makes leaves the table.
    sources = {
        "01_autoencoders": _lecture_source(
            tmp_path,
            'aekeras.notebook.claim("AE / PCA", ratio, "<", 0.75)\n'
            "for name in names:\n"
            '    aekeras.notebook.claim(f"AUC, {name}", auc[name], "<", limit)\n',
        )
    }
    runs = [
        (b, s, "01_autoencoders", _audited_run(b, s, {"AE / PCA": v, "AUC, plain": 0.5, "gone": 0}))
        for b in ("jax", "torch")
        for s, v in enumerate([0.60, 0.62, 0.64])
    ]
    (ratio, auc), dropped = claims_audit.audit(runs, sources=sources)
    assert dropped == [("01_autoencoders", "gone")]
    assert ratio["bound"] == 0.75 and ratio["bound_changed"] and ratio["passes"]
    assert ratio["worst"] == pytest.approx((0.75 - 0.62) / 0.02)
    # The f-string's call matches; its bound is no literal, so the one on record stays.
    assert (auc["comparison"], auc["bound"], auc["bound_changed"]) == ("<", 0.65, False)
    body = claims_audit.report(runs, sources=sources)
    assert "| < 0.75 * |" in body and "Bounds marked * were set after the runs" in body
    assert "No longer claimed by the lectures (left out): 01_autoencoders: gone." in body


def test_claims_audit_flags_a_claim_missing_from_some_runs():
    runs = [
        ("jax", 0, "01", _audited_run("jax", 0, {"a": 0.1, "b": 0.1})),
        ("jax", 1, "01", _audited_run("jax", 1, {"a": 0.2})),  # stopped before "b"
        ("jax", 2, "01", _audited_run("jax", 2, {"a": 0.3, "b": 0.2})),
    ]
    (a, b), _ = claims_audit.audit(runs)
    assert a["passes"] and not b["passes"] and b["missing"] == 1
    assert "NO (missing in 1 runs)" in claims_audit.report(runs)


def test_claims_audit_uses_the_seed_variable_of_the_library():
    assert claims_audit.SEED_VARIABLE == aekeras_notebook.SEED_VARIABLE
