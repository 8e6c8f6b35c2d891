"""A class on JupyterHub, end to end, between real Unix users (aekeras_tools.hub, issue #34).

`python3 tasks.py hub` starts a demo class (an instructor, two students). As each user's own uid,
the test runs the commands they would type: the instructor releases A1; both students fetch it, one
completes it and one leaves it blank, and both submit; the blank one then tries to read, overwrite,
rename and forge the other's submission, to plant symbolic links in the inbound folder and to
backdate its own; the instructor collects, grades with `python3 tasks.py grade` and releases the
feedback, which each student fetches. Chromium then logs in through the hub's login page as a
student (runs the assignment's set-up cell in JupyterLab) and as the instructor (the formgrader);
the screenshots are kept in build/hub-screenshots/. Last, Ctrl-C stops everything the hub started.

Needs root (it creates users), configurable-http-proxy and Chromium: skipped without them, failed
(with the reason) under CI=true. The checks of bad input run anywhere.
"""

import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from aekeras_tools import browser
from aekeras_tools.hub import accounts
from aekeras_tools.hub import checks
from aekeras_tools.hub import classroom
from aekeras_tools.hub import cli
from aekeras_tools.hub import server
from aekeras_tools.paths import ROOT

from grading_course import student_version

pytestmark = pytest.mark.tensorflow_only  # one backend is enough: it starts TensorFlow kernels

ASSIGNMENT = "a1_autoencoders"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SOURCE = ROOT / "course" / "assignments" / "source" / ASSIGNMENT / NOTEBOOK
SCREENSHOTS = ROOT / "build" / "hub-screenshots"
BACKDATED = "2000-01-01 00:00:00.000000 UTC"


def _missing(browser_needed=False):
    """Why the class cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "the hub test creates Unix users: it must run as root (as CI does)"
    if shutil.which(checks.PROXY) is None:
        return f"{checks.PROXY} is not installed (npm install -g {checks.PROXY})"
    if browser_needed and browser.find_chromium() is None:
        return "Chromium is not installed (Debian: apt-get install chromium)"
    return None


def _require(browser_needed=False):
    reason = _missing(browser_needed)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the hub test cannot run: {reason}")
        pytest.skip(reason)


class Hub:
    """`python3 tasks.py hub` running in the background, and how to act as its users."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="aekeras-hub-", dir="/tmp"))
        self.folder.chmod(0o755)  # every user of the class enters it
        self.prefix = f"aet{os.getpid() % 100000}-"
        self.room = classroom.Classroom(self.folder, students=2, prefix=self.prefix)
        self.port = server.free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        self.lines, self.up = [], threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "tasks.py", "hub", "--", "--dir", str(self.folder)]
            + ["--port", str(self.port), "--prefix", self.prefix, "--students", "2"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, which a Ctrl-C reaches whole
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)
            if line.strip() == server.STOP_LINE:
                self.up.set()

    @property
    def output(self):
        return "".join(self.lines)

    def wait_until_up(self, timeout=420):
        deadline = time.monotonic() + timeout
        while not self.up.wait(1):
            assert self.process.poll() is None, f"the hub command exited:\n{self.output}"
            assert time.monotonic() < deadline, f"the hub did not start:\n{self.output}"
        self.logins = json.loads((self.room.state / "logins.json").read_text())

    def run_as(self, user, *command, cwd=None, check=True):
        """Runs `command` as `user` (their uid, gid and groups) in their home or `cwd`."""
        cwd = str(cwd or self.room.home(user))
        argv = self.room.as_user(user, ["sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", cwd])
        result = subprocess.run(
            [*argv, *command], capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
        )
        output = result.stdout + result.stderr
        if check:
            assert result.returncode == 0, f"{user}: {' '.join(command)} failed:\n{output[-6000:]}"
        return result.returncode, output

    def interrupt(self, timeout=120):
        """What Ctrl-C in the terminal does: SIGINT to the command's process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout)

    def close(self):
        if self.process.poll() is None:
            with_pgroup = self.process.pid
            try:
                os.killpg(with_pgroup, signal.SIGINT)
                self.process.wait(120)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(with_pgroup, signal.SIGKILL)
        self.process.stdout.close()
        cli.remove(self.room)
        shutil.rmtree(self.folder, ignore_errors=True)


def _completed(released):
    """The released notebook with a student's correct answers: the instructor's solutions as a
    student writes them (grading_course.student_version: no region markers, the student's own text,
    since the grader does not grade the instructor's text line for line)."""
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in student_version(ASSIGNMENT).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    notebook = nbformat.reads(released, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    return nbformat.writes(notebook)


def _attacks(inbound, victim_submission, instructor_source):
    """The shell script the blank student runs: each attempt prints its name and its outcome."""
    victim = f"{inbound}/{victim_submission}"
    return f"""
try() {{ name=$1; shift; if out=$("$@" 2>&1); then echo "$name: SUCCEEDED $out"; else echo "$name: FAILED $out"; fi; }}
try list ls {inbound}
try read cat "{victim}/{NOTEBOOK}"
try overwrite cp "$HOME/{ASSIGNMENT}/{NOTEBOOK}" "{victim}/{NOTEBOOK}"
try delete rm -f "{victim}/{NOTEBOOK}"
try rename mv "{victim}" "{inbound}/mine"
try home ls "$VICTIM_HOME"
forged="{inbound}/$VICTIM+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+forged"
try forge sh -c 'mkdir "$1" && cp "$HOME/{ASSIGNMENT}/{NOTEBOOK}" "$1/" && chmod -R a+rwX "$1"' sh "$forged"
try link ln -s "{instructor_source}" "{inbound}/$USER+{ASSIGNMENT}+2099-01-02 00:00:00.000000 UTC+link"
inner="{inbound}/$USER+{ASSIGNMENT}+2099-01-03 00:00:00.000000 UTC+inner"
try inner_link sh -c 'mkdir "$1" && ln -s "$2/{NOTEBOOK}" "$1/{NOTEBOOK}"' sh "$inner" "{instructor_source}"
"""


@pytest.fixture(scope="module")
def hub_class():
    _require()
    running = Hub()
    try:
        running.wait_until_up()
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def flow(hub_class):
    """The class from release to feedback; every command's output, by step."""
    h, room = hub_class, hub_class.room
    done, student1, student2 = {}, *room.students
    course = room.course()
    inbound = room.exchange / classroom.COURSE_ID / "inbound"
    start = time.perf_counter()
    for step in ("generate_assignment", "release_assignment"):
        done[step] = h.run_as(room.instructor, "nbgrader", step, ASSIGNMENT, cwd=course)[1]
    for student in room.students:
        done[f"fetch {student}"] = h.run_as(student, "nbgrader", "fetch_assignment", ASSIGNMENT)[1]
    mine = room.home(student1) / ASSIGNMENT / NOTEBOOK
    script = "cat > " + str(mine)
    completed = _completed(mine.read_text())
    subprocess.run(
        room.as_user(student1, ["sh", "-c", script]), input=completed, text=True, check=True
    )
    for student in room.students:
        done[f"submit {student}"] = h.run_as(student, "nbgrader", "submit", ASSIGNMENT)[1]
    victim = next(p.name for p in inbound.iterdir() if p.name.startswith(f"{student1}+"))
    source = course / "source" / ASSIGNMENT
    script = f"VICTIM={student1} VICTIM_HOME={room.home(student1)}; " + _attacks(
        inbound, victim, source
    )
    done["attacks"] = h.run_as(student2, "sh", "-c", script)[1]
    # A better timestamp: the blank student backdates its own submission (timestamp.txt and name).
    own = next(
        p.name
        for p in inbound.iterdir()
        if p.name.startswith(f"{student2}+") and "2099" not in p.name
    )
    backdated = f"{student2}+{ASSIGNMENT}+{BACKDATED}+old"
    script = (
        f'printf "{BACKDATED}" > "{inbound}/{own}/timestamp.txt" && '
        f'touch -d 2000-01-01 "{inbound}/{own}"/* && mv "{inbound}/{own}" "{inbound}/{backdated}"'
    )
    done["backdate"] = h.run_as(student2, "sh", "-c", script)
    done["collect"] = h.run_as(room.instructor, "nbgrader", "collect", ASSIGNMENT, cwd=course)[1]
    grading = time.perf_counter()
    done["grade"] = h.run_as(
        room.instructor, "python3", "tasks.py", "grade", ASSIGNMENT, cwd=course.parent.parent
    )[1]
    done["grade_s"] = time.perf_counter() - grading
    done["release_feedback"] = h.run_as(
        room.instructor, "nbgrader", "release_feedback", ASSIGNMENT, cwd=course
    )[1]
    for student in room.students:
        done[f"fetch_feedback {student}"] = h.run_as(
            student, "nbgrader", "fetch_feedback", ASSIGNMENT
        )[1]
    # Where each student's feedback went (feedback/<hash>.html -> <student>/<hash>.html), and
    # what the blank student gets from listing the folder and reading each by its name.
    feedback = room.exchange / classroom.COURSE_ID / "feedback"
    done["feedback_links"] = {
        p.name: os.readlink(p).split("/")[0] for p in feedback.glob("*.html") if p.is_symlink()
    }
    done["read_feedback"] = {
        name: h.run_as(student2, "cat", str(feedback / name), check=False)
        for name in [".", *done["feedback_links"]]
    }
    done["read_feedback"]["."] = h.run_as(student2, "ls", str(feedback), check=False)
    done["flow_s"] = time.perf_counter() - start
    print(f"flow: {done['flow_s']:.0f} s, grading {done['grade_s']:.0f} s")
    return done


def test_the_hub_command_prints_the_address_and_the_logins(hub_class):
    out = hub_class.output
    assert f"runs at http://127.0.0.1:{hub_class.port}/" in out, out
    for user in hub_class.room.users:
        assert re.search(rf"{user}\s+password {re.escape(hub_class.logins[user])}", out), out
    assert f"/user/{hub_class.room.instructor}/formgrader" in out


def test_every_user_runs_the_users_environment_and_homes_are_private(hub_class):
    room = hub_class.room
    for user in room.users:
        _, out = hub_class.run_as(user, "python3", "-c", "import sys, nbgrader; print(sys.prefix)")
        assert out.strip().splitlines()[-1] == str(room.env), out
        assert (room.home(user).stat().st_mode & 0o777) == 0o700
    code, out = hub_class.run_as(
        room.students[1], "ls", str(room.home(room.students[0])), check=False
    )
    assert code != 0 and "Permission denied" in out, out


def test_students_fetch_and_submit_into_their_own_accounts(hub_class, flow):
    room = hub_class.room
    for student in room.students:
        fetched = room.home(student) / ASSIGNMENT / NOTEBOOK
        assert fetched.stat().st_uid == room.home(student).stat().st_uid
        assert f"Submitted as: {classroom.COURSE_ID} {ASSIGNMENT}" in flow[f"submit {student}"]


def test_a_student_cannot_read_overwrite_or_move_a_classmates_submission(flow):
    attempts = dict(
        line.split(": ", 1) for line in flow["attacks"].splitlines() if ": " in line[:14]
    )
    for attempt in ("list", "read", "overwrite", "delete", "rename", "home"):
        assert attempts[attempt].startswith("FAILED"), flow["attacks"]
    for attempt in ("read", "overwrite", "delete", "home", "list"):
        assert "Permission denied" in attempts[attempt], attempts[attempt]
    assert "Operation not permitted" in attempts["rename"], attempts["rename"]


def test_collect_refuses_forgeries_and_links_with_a_reason(hub_class, flow):
    student1, student2 = hub_class.room.students
    log = flow["collect"]
    assert re.search(
        rf"REFUSED '{student1}\+{ASSIGNMENT}\+2099-01-01[^']*forged'.*owned by '{student2}', "
        rf"not by '{student1}'",
        log,
    ), log
    assert re.search(r"REFUSED '[^']*\+link'.*is a symbolic link \(to '[^']*source", log), log
    assert re.search(r"REFUSED '[^']*\+inner'.*holds a symbolic link, 'a1_autoencoders", log), log
    assert f"Collecting submission: {student1} {ASSIGNMENT}" in log
    assert f"Collecting submission: {student2} {ASSIGNMENT}" in log


def test_a_backdated_submission_is_flagged_and_gets_the_time_of_its_files(hub_class, flow):
    student2 = hub_class.room.students[1]
    assert flow["backdate"][0] == 0, flow["backdate"]
    log = flow["collect"]
    assert re.search(rf"FLAGGED '{student2}\+.*timestamp.txt says 2000-01-01 00:00:00 UTC", log), (
        log
    )
    assert re.search(r"FLAGGED .*its folder name says 2000-01-01", log), log
    kept = hub_class.room.course() / "submitted" / student2 / ASSIGNMENT / "timestamp.txt"
    assert not kept.read_text().startswith("2000"), kept.read_text()


def test_the_instructor_grades_with_tasks_py_grade_9_and_0(hub_class, flow):
    student1, student2 = hub_class.room.students
    with open(hub_class.room.course() / "grades_lms.csv", newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert set(rows) == {student1, student2}, rows
    assert (rows[student1]["score"], rows[student1]["max_score"]) == ("9", "9"), flow["grade"]
    assert (rows[student2]["score"], rows[student2]["max_score"]) == ("0", "9"), flow["grade"]
    assert rows[student1]["status"] == rows[student2]["status"] == "graded", flow["grade"]


def test_each_student_fetches_only_their_own_feedback(hub_class, flow):
    room = hub_class.room
    assert sorted(flow["feedback_links"].values()) == room.students, flow["release_feedback"]
    for student in room.students:
        fetched = list((room.home(student) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(fetched) == 1, flow[f"fetch_feedback {student}"]
        sent = room.course() / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert fetched[0].read_bytes() == sent.read_bytes(), student
    reader = room.students[1]
    for name, (code, out) in flow["read_feedback"].items():
        if name == ".":
            assert code != 0 and "Permission denied" in out, out  # no listing
        elif flow["feedback_links"][name] == reader:
            assert code == 0, out
        else:
            assert code != 0 and "Permission denied" in out, out  # a classmate's, by its name


def test_nobody_but_the_student_and_the_instructor_can_read_a_submission(hub_class, flow):
    room = hub_class.room
    inbound = room.exchange / classroom.COURSE_ID / "inbound"
    submissions = [e for e in inbound.iterdir() if (e / "submission_secret.txt").exists()]
    assert len(submissions) == 2, submissions  # made by `nbgrader submit` (the others are attacks)
    for entry in submissions:
        owner = entry.name.split("+")[0]
        for notebook in entry.glob("*.ipynb"):
            for user in room.users:
                code, _ = hub_class.run_as(user, "cat", str(notebook), check=False)
                assert (code == 0) == (user in (owner, room.instructor)), (user, notebook)
    code, out = hub_class.run_as(room.students[0], "ls", str(room.course()), check=False)
    assert code != 0 and "Permission denied" in out


def _log_in(chromium, hub_class, user):
    page = chromium.open(f"{hub_class.address}/hub/login", timeout=120)
    raw = page.page
    raw.fill("#username_input", user)
    raw.fill("#password_input", hub_class.logins[user])
    raw.click("#login_submit")
    raw.wait_for_url(f"**/user/{user}/lab**", timeout=240_000)
    return page


def test_a_student_logs_in_opens_the_assignment_and_runs_its_set_up_cell(hub_class, flow):
    _require(browser_needed=True)
    student = hub_class.room.students[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with browser.Chromium(window=(1400, 1000)) as chromium:
        page = _log_in(chromium, hub_class, student)
        raw = page.page
        raw.goto(f"{hub_class.address}/user/{student}/lab/tree/{ASSIGNMENT}/{NOTEBOOK}")
        cell = raw.locator(".jp-CodeCell").filter(has_text="aekeras.notebook.setup(").first
        cell.wait_for(timeout=180_000)
        raw.locator(".jp-StatusBar-TextItem").filter(has_text="(aekeras) | Idle").first.wait_for(
            timeout=240_000
        )
        assert cell.locator(".jp-OutputArea-output").count() == 0  # fresh: nothing ran yet
        cell.locator(".jp-InputArea-editor").click()
        raw.keyboard.press("Shift+Enter")
        report = cell.locator(".jp-OutputArea-output").filter(has_text="Backend")
        report.wait_for(timeout=240_000)
        text = report.inner_text()
        cell.scroll_into_view_if_needed()
        raw.screenshot(path=str(SCREENSHOTS / "student-jupyterlab.png"))
        prompt = cell.locator(".jp-InputPrompt").inner_text()
        formgrader = raw.goto(f"{hub_class.address}/user/{student}/formgrader").status
    assert re.search(r"Backend \w+, device: ", text), text
    assert re.search(r"\[\d+\]", prompt), prompt
    assert formgrader == 404  # disabled for students (it would only show their own files anyway)


def test_the_instructor_logs_in_and_sees_the_submissions_in_the_formgrader(hub_class, flow):
    _require(browser_needed=True)
    room = hub_class.room
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with browser.Chromium(window=(1400, 900)) as chromium:
        page = _log_in(chromium, hub_class, room.instructor)
        raw = page.page
        base = f"{hub_class.address}/user/{room.instructor}/formgrader"
        raw.goto(f"{base}/manage_submissions/{ASSIGNMENT}")
        for student in room.students:
            raw.locator("td", has_text=student).first.wait_for(timeout=120_000)
        raw.screenshot(path=str(SCREENSHOTS / "instructor-formgrader-submissions.png"))
        raw.goto(f"{base}/gradebook/{ASSIGNMENT}/{ASSIGNMENT}")
        names = raw.locator("a.name-shown")
        names.nth(len(room.students) - 1).wait_for(state="attached", timeout=120_000)
        raw.locator("#toggle_names").click()  # "Show All Names" (the table hides them)
        for student in room.students:
            names.filter(has_text=student).first.wait_for(timeout=60_000)
        table = raw.inner_text("table")
        raw.screenshot(path=str(SCREENSHOTS / "instructor-formgrader-scores.png"))
    rows = {s: next(line for line in table.splitlines() if s in line) for s in room.students}
    assert "9 / 9" in rows[room.students[0]] and "0 / 9" in rows[room.students[1]], table


def test_ctrl_c_stops_the_hub_the_proxy_and_every_server(hub_class, flow):
    room = hub_class.room
    assert hub_class.interrupt() == 0, hub_class.output
    assert "Stopped the hub" in hub_class.output
    assert server.class_processes(room) == [], "processes of the class's users are still running"
    assert server.proxy_pid(room) is None
    checks.check_port("127.0.0.1", hub_class.port)  # free again


# ----------------------------------------------------------------- bad input (no root needed)


def _main(capsys, *argv):
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def test_under_ci_a_hub_test_that_cannot_run_fails_with_the_reason(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run: .* must run as root"):
        _require()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="must run as root"):
        _require()


def test_refuses_to_run_without_root(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code, err = _main(capsys, "--dir", str(tmp_path / "hub"))
    assert code == 2
    assert "must run as root" in err and "Received: uid 1000" in err and "sudo" in err, err
    assert not (tmp_path / "hub").exists()


def test_refuses_without_configurable_http_proxy_and_says_how_to_install_it(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PATH", str(tmp_path))
    code, err = _main(capsys, "--dir", str(tmp_path / "hub"))
    assert code == 2
    assert "npm install -g configurable-http-proxy" in err and f"PATH={tmp_path}" in err, err
    assert not (tmp_path / "hub").exists()


def test_refuses_a_port_that_is_taken(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(checks, "find_proxy", lambda: "/usr/bin/configurable-http-proxy")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = _main(capsys, "--dir", str(tmp_path / "hub"), "--port", str(port))
    assert code == 2
    assert f"Port {port} on 127.0.0.1 is taken" in err and f"Received: --port {port}" in err, err
    assert "--port 8001" in err
    assert not (tmp_path / "hub").exists()


def test_refuses_a_folder_other_users_cannot_enter():
    with tempfile.TemporaryDirectory(dir="/tmp") as base:
        Path(base).chmod(0o755)
        private = Path(base) / "private"
        private.mkdir(mode=0o700)
        with pytest.raises(classroom.HubError) as error:
            checks.check_reachable(private / "hub")
    message = str(error.value)
    assert f"Other users cannot enter {private} (mode 700)" in message, message
    assert f"Received: --dir {private / 'hub'}" in message and classroom.DEFAULT_DIR in message


def test_never_changes_an_account_it_did_not_make():
    with pytest.raises(classroom.HubError, match=r"'root' exists and was not made by the hub"):
        accounts.ensure_user("root")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--students", "0"], "--students must be between 1 and 200. Received: --students 0"),
        (["--port", "70000"], "--port must be between 1 and 65535. Received: --port 70000"),
        (["--prefix", "Bad_"], "Received: --prefix 'Bad_'"),
    ],
)
def test_refuses_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_collect_as_one_user_refuses_links_and_records_the_time_of_the_files(tmp_path, caplog):
    """The checks of aekeras_tools.hub.exchange.Collect that need no second user (any machine)."""
    import getpass

    from nbgrader.coursedir import CourseDirectory

    from aekeras_tools.hub import exchange

    me = getpass.getuser()
    inbound = tmp_path / "exchange" / "course" / "inbound"
    inbound.mkdir(parents=True)
    (tmp_path / "secret.ipynb").write_text("{}")

    def submission(stamp, tag, timestamp=None):
        folder = inbound / f"{me}+a1+{stamp}+{tag}"
        folder.mkdir()
        (folder / "a1.ipynb").write_text(json.dumps({"tag": tag}))
        (folder / "timestamp.txt").write_text(timestamp or stamp)
        return folder

    now = time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime())
    submission(now, "genuine")
    (inbound / f"{me}+a1+2099-01-01 00:00:00.000000 UTC+link").symlink_to(tmp_path)
    inner = submission("2099-01-02 00:00:00.000000 UTC", "inner", timestamp=now)
    (inner / "a1.ipynb").unlink()
    (inner / "a1.ipynb").symlink_to(tmp_path / "secret.ipynb")
    fifo = submission("2099-01-03 00:00:00.000000 UTC", "fifo", timestamp=now)
    os.mkfifo(fifo / "pipe")
    old = submission("2000-01-01 00:00:00.000000 UTC", "old")  # the newest: made last
    course = tmp_path / "course"
    coursedir = CourseDirectory(root=str(course), course_id="course", assignment_id="a1")
    collect = exchange.Collect(coursedir=coursedir, root=str(tmp_path / "exchange"))
    with caplog.at_level("INFO"):
        collect.start()
    log = caplog.text
    assert "+link' (claims to be by" in log and "it is a symbolic link" in log, log
    assert f"it holds a symbolic link, 'a1.ipynb' -> '{tmp_path / 'secret.ipynb'}'" in log, log
    assert "'pipe' is neither a folder nor a regular file" in log, log
    assert re.search(r"FLAGGED .*\+old'.*timestamp.txt says 2000-01-01 00:00:00 UTC", log), log
    kept = course / "submitted" / me / "a1"
    assert json.loads((kept / "a1.ipynb").read_text()) == {"tag": "old"}
    recorded = (kept / "timestamp.txt").read_text()
    changed = time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.stat(old).st_ctime))
    assert recorded.startswith(changed), (recorded, changed)
