"""nbgrader's file-system exchange, hardened for a class of Unix users (the demo hub's exchange).

`python3 tasks.py hub` copies this module into the users' environment as `aekeras_hub_exchange` and
selects its classes in the global `nbgrader_config.py` (`ExchangeFactory`), so `nbgrader collect`,
`release_feedback`, `submit` and the JupyterLab extensions (assignment list, formgrader) use them.
It imports only the standard library and nbgrader (0.9).

(One module of over 400 lines: it travels as one file, which the hub, or the administrator of
another hub (README, "The same configuration elsewhere"), copies whole into the users' environment.)

The threat model: a student is a Unix user who can run any code as themselves, including nbgrader
commands of their own making, so nothing on the student's side is trusted. What stops each attack is
the file system (the folders `aekeras_tools.hub.accounts` makes as root) or the instructor's side of
the exchange (this module, run as the instructor). The exchange `<root>/<course>/`:

- `<root>` belongs to root, mode 0755: nobody else writes there. nbgrader insists that every user
  can write it (jupyter/nbgrader#1225); here every exchange class checks only that it can enter it.
- `outbound/`: the instructor's, 0755; releases are the same for every student.
- `inbound/`: the instructor's, group graders, mode 3733 (setgid, sticky, write-only for others): a
  student can create an entry but neither list the folder nor rename or delete another's entry.
  `Submit` makes a submission 0750/0640 (nbgrader makes it 0777/0644, readable and writable by
  anyone who learns its name, jupyter/nbgrader#1097); the setgid folder gives it the graders' group.
- `feedback/`: the instructor's, 0711; one folder per student, `feedback/<student>/` (the
  instructor's, the student's group, 2750, made by root). `ReleaseFeedback` puts each file there
  and a link `feedback/<hash>.html` to it, where nbgrader's own `fetch_feedback` and `list` look:
  another student who learns the hash still cannot read it.

`Collect` (the instructor's side) trusts no name, link or date the student wrote. It refuses, with
the reason in the log, an entry that is a symbolic link, holds one (nbgrader's collect copies what a
link points to, such as the instructor's solutions), holds anything but folders and regular files,
or is not owned, with all it holds, by the student whose name it carries (a classmate's forgery,
where nbgrader only warns). It reads each file once, through descriptors that never follow links,
and copies what it read. A submission's time is when its files last changed (the newest ctime, which
no user can set back); when the student's `timestamp.txt` or folder name disagrees with it by more
than `timestamp_tolerance` seconds, the log flags it and the collected `timestamp.txt` holds the
file system's time (jupyter/nbgrader#1104). The newest valid submission of each student is
collected (with `--before-duedate`, the newest on time when there is one); `--update` replaces an
earlier one as nbgrader does.
"""

import contextlib
import datetime
import fnmatch
import glob
import os
import pwd
import re
import secrets
import shutil
import stat

from nbgrader.api import Gradebook
from nbgrader.api import MissingEntry
from nbgrader.exchange import default
from nbgrader.utils import ignore_patterns
from nbgrader.utils import notebook_hash
from nbgrader.utils import parse_utc
from traitlets import Float

# Modes of a submission in the inbound folder: the student's, readable by the graders' group.
SUBMISSION_DIR_MODE = 0o750
SUBMISSION_FILE_MODE = 0o640


class RefusedSubmission(Exception):
    """An inbound entry that `Collect` will not copy; the message says why."""


class _EnterableRoot:
    """The exchange root need only exist and be enterable (nbgrader wants it writable by all)."""

    def ensure_root(self):
        if not os.path.isdir(self.root) or not os.access(self.root, os.X_OK):
            self.fail(
                "The exchange folder does not exist or you cannot enter it; ask the administrator "
                f"of the hub (it is made by `python3 tasks.py hub`). Received: {self.root}"
            )


class Exchange(_EnterableRoot, default.Exchange):
    pass


class FetchAssignment(_EnterableRoot, default.ExchangeFetchAssignment):
    pass


class FetchFeedback(_EnterableRoot, default.ExchangeFetchFeedback):
    pass


class List(_EnterableRoot, default.ExchangeList):
    pass


class ReleaseAssignment(_EnterableRoot, default.ExchangeReleaseAssignment):
    pass


class Submit(_EnterableRoot, default.ExchangeSubmit):
    """nbgrader's submit, without the world-readable files and the world-writable folder."""

    def copy_files(self):
        self.init_release()
        secret = secrets.token_hex(64)
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        if self.add_random_string:
            cache = os.path.join(self.cache_path, self.assignment_filename.rsplit("+", 1)[0])
        else:
            cache = os.path.join(self.cache_path, self.assignment_filename)
        self.log.info(f"Source: {self.src_path}")
        self.log.info(f"Destination: {dest}")
        self.check_filename_diff()
        # Built in a private folder, then moved into place whole: nobody sees a partial submission
        # or one with nbgrader's open modes (no "+" in the name: collect passes over it). Every file
        # is made while its folder still has the setgid bit of inbound/, so it gets the graders'
        # group (nbgrader's copy ends with the source's modes, which clear that bit).
        staging = os.path.join(self.inbound_path, f".partial-{secrets.token_hex(8)}")
        os.mkdir(staging, 0o700)
        try:
            built = os.path.join(staging, "submission")
            os.mkdir(built, 0o700)
            for name, text in (
                ("timestamp.txt", self.timestamp),
                ("submission_secret.txt", secret),
            ):
                _write(os.path.join(built, name), text.encode(), SUBMISSION_FILE_MODE)
            self._copy_into(self.src_path, built)
            self.set_perms(built, fileperms=SUBMISSION_FILE_MODE, dirperms=SUBMISSION_DIR_MODE)
            os.rename(built, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(self.cache_path, exist_ok=True)
        self.do_copy(self.src_path, cache)
        for name, text in (("timestamp.txt", self.timestamp), ("submission_secret.txt", secret)):
            _write(os.path.join(cache, name), text.encode(), 0o600)
        self.log.info(
            f"Submitted as: {self.coursedir.course_id} {self.coursedir.assignment_id} "
            f"{self.timestamp}"
        )

    def _copy_into(self, src, dest):
        """nbgrader's do_copy (size limits, CourseDirectory.ignore/include) into an existing folder,
        without copying modes, and never over timestamp.txt or submission_secret.txt."""
        size = self.get_size(src)
        if size > 1000 * self.coursedir.max_dir_size:
            self.fail(
                f"Directory size is too big. Size is {size}, maximum size is "
                f"{1000 * self.coursedir.max_dir_size}"
            )
        ignore = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )

        def skip(folder, names):
            own = {"timestamp.txt", "submission_secret.txt"} if folder == src else set()
            return [*ignore(folder, names), *(n for n in names if n in own)]

        shutil.copytree(src, dest, ignore=skip, copy_function=shutil.copyfile, dirs_exist_ok=True)


class ReleaseFeedback(_EnterableRoot, default.ExchangeReleaseFeedback):
    """Feedback into `feedback/<student>/`, reached through the link nbgrader's clients look for."""

    def copy_files(self):
        exclude = set(filter(None, (self.coursedir.student_id_exclude or "").split(",")))
        pattern = re.escape(os.path.sep).join(
            [
                self.coursedir.format_path(
                    self.coursedir.feedback_directory,
                    "(?P<student_id>.*)",
                    self.coursedir.assignment_id,
                    escape=True,
                ),
                "(?P<notebook_id>.*).html",
            ]
        )
        for html in sorted(glob.glob(os.path.join(self.src_path, "*.html"))):
            match = re.match(pattern, html)
            if match is None:
                self.log.error(f"Could not match {html!r} with {pattern!r}")
                continue
            student, notebook = match.group("student_id"), match.group("notebook_id")
            if student in exclude:
                continue
            folder = os.path.join(self.dest_path, student)
            problem = _feedback_folder_problem(folder, student)
            if problem:
                self.log.error(
                    f"Feedback for {student!r} not released: {problem}. Each student needs a "
                    f"folder of their own there; `python3 tasks.py hub` (as root) makes one for "
                    f"every student of the class. Received: {folder}"
                )
                continue
            try:
                with open(os.path.join(os.path.dirname(html), "submission_secret.txt")) as fh:
                    checksum = notebook_hash(secret=fh.read(), notebook_id=notebook)
            except FileNotFoundError:
                self.log.error(
                    f"Feedback for {student!r} not released: the submission has no "
                    "submission_secret.txt (it was not made by `nbgrader submit`), so the "
                    "student's nbgrader could not find it"
                )
                continue
            target = os.path.join(folder, f"{checksum}.html")
            with open(html, "rb") as fh:
                _write(target + ".tmp", fh.read(), 0o640)
            os.replace(target + ".tmp", target)
            link = os.path.join(self.dest_path, f"{checksum}.html")
            if os.path.lexists(link + ".tmp"):
                os.unlink(link + ".tmp")
            os.symlink(os.path.join(student, f"{checksum}.html"), link + ".tmp")
            os.replace(link + ".tmp", link)
            self.log.info(
                f"Released feedback for {student!r} on {self.coursedir.assignment_id}/{notebook} "
                f"to {target}"
            )


class Collect(_EnterableRoot, default.ExchangeCollect):
    """nbgrader's collect, which refuses what a student could forge (see the module docstring)."""

    timestamp_tolerance = Float(
        120.0,
        help="Seconds by which a submission's claimed time (timestamp.txt, its folder name) may "
        "differ from when its files last changed before it is flagged and replaced.",
    ).tag(config=True)

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not os.access(self.inbound_path, os.R_OK | os.X_OK):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        wanted = self.coursedir.student_id or "*"
        found = {}
        for name in sorted(os.listdir(self.inbound_path)):
            parts = name.rsplit("+", 3)
            if len(parts) < 3 or parts[1] != self.coursedir.assignment_id:
                continue
            student = parts[0]
            if not fnmatch.fnmatchcase(student, wanted):
                continue
            try:
                record = self.read_submission(name, student, parts[2])
            except RefusedSubmission as exc:
                self.log.error(f"REFUSED {name!r} (claims to be by {student!r}): {exc}")
                continue
            except OSError as exc:
                self.log.error(
                    f"REFUSED {name!r} (claims to be by {student!r}): unreadable ({exc})"
                )
                continue
            for flag in record["flags"]:
                self.log.warning(f"FLAGGED {name!r} of {student!r}: {flag}")
            found.setdefault(student, []).append(record)
        duedate = None
        if self.before_duedate:
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
                with contextlib.suppress(MissingEntry):
                    duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
        # Each student's newest valid submission (by when its files last changed); with
        # --before-duedate, the newest on time when there is one.
        self.src_records = []
        for student in sorted(found):
            records = sorted(found[student], key=lambda r: r["received"], reverse=True)
            on_time = [r for r in records if duedate is None or r["received"] <= duedate]
            self.src_records.append((on_time or records)[0])

    def read_submission(self, name, student, claimed_in_name):
        """Reads one inbound entry without following links: {'files', 'received', ...}.

        Raises:
            RefusedSubmission: If a student could have forged it (the message says how).
        """
        path = os.path.join(self.inbound_path, name)
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise RefusedSubmission(
                f"it is a symbolic link (to {os.readlink(path)!r}), not a folder a student "
                "submitted; nbgrader's collect would copy what it points to"
            )
        try:
            expected_uid = pwd.getpwnam(student).pw_uid
        except KeyError:
            raise RefusedSubmission(f"there is no user {student!r} on this machine") from None
        limit = 1000 * self.coursedir.max_dir_size
        reader = _TreeReader(expected_uid, student, limit, self._ignored)
        files, newest = reader.read(path)
        received = datetime.datetime.fromtimestamp(newest, datetime.UTC)
        received = received.replace(tzinfo=None)
        flags = []
        claims = {"its folder name": claimed_in_name}
        if "timestamp.txt" in files:
            claims["timestamp.txt"] = files["timestamp.txt"].decode("utf-8", "replace").strip()
        else:
            flags.append("it has no timestamp.txt")
        for where, text in claims.items():
            try:
                claimed = parse_utc(text)
            except (ValueError, OverflowError, TypeError):
                flags.append(f"{where} holds no date ({text[:60]!r})")
                continue
            gap = (received - claimed).total_seconds()
            if abs(gap) > self.timestamp_tolerance:
                flags.append(
                    f"{where} says {claimed:%Y-%m-%d %H:%M:%S} UTC, but its files last changed at "
                    f"{received:%Y-%m-%d %H:%M:%S} UTC ({gap:+.0f} s); the collected "
                    "timestamp.txt holds the latter"
                )
        if flags or "timestamp.txt" not in files:
            timestamp = received.replace(tzinfo=datetime.UTC)
            timestamp = timestamp.astimezone(datetime.UTC).strftime(self.timestamp_format)
            files["timestamp.txt"] = timestamp.encode()
        return {
            "username": student,
            "filename": name,
            "files": files,
            "received": received,
            "timestamp": parse_utc(files["timestamp.txt"].decode()),
            "flags": flags,
        }

    def _ignored(self, name, size, is_dir):
        """Why nbgrader's copy would skip this entry (CourseDirectory.ignore/include/max_file_size)."""
        if any(fnmatch.fnmatch(name, g) for g in self.coursedir.ignore):
            return "excluded"
        if is_dir:
            return None
        if self.coursedir.include and not any(
            fnmatch.fnmatch(name, g) for g in self.coursedir.include
        ):
            return "not included"
        if self.coursedir.max_file_size and size > 1000 * self.coursedir.max_file_size:
            self.log.warning(
                f"Ignoring file too large {name!r} ({size} bytes; CourseDirectory.max_file_size)"
            )
            return "too large"
        return None

    def copy_files(self):
        if not self.src_records:
            self.log.warning(
                f"No submissions of {self.coursedir.assignment_id!r} for course "
                f"{self.coursedir.course_id!r} to collect"
            )
        for rec in self.src_records:
            student = rec["username"]
            dest = self.coursedir.format_path(
                self.coursedir.submitted_directory, student, self.coursedir.assignment_id
            )
            if os.path.isdir(dest):  # as nbgrader decides, on the recorded timestamps
                existing = self.coursedir.get_existing_timestamp(dest)
                newer = existing is None or rec["timestamp"] > existing
                if not (self.update and newer) and not (
                    self.before_duedate and existing != rec["timestamp"]
                ):
                    self.log.info(
                        f"No newer submission to collect: {student} {self.coursedir.assignment_id}"
                        if self.update
                        else f"Submission already exists, use --update to update: {student} "
                        f"{self.coursedir.assignment_id}"
                    )
                    continue
                self.log.info(f"Updating submission: {student} {self.coursedir.assignment_id}")
                shutil.rmtree(dest)
            else:
                self.log.info(f"Collecting submission: {student} {self.coursedir.assignment_id}")
            for relative, content in rec["files"].items():
                target = os.path.join(dest, relative)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                _write(target, content, 0o644)


class _TreeReader:
    """Reads a folder tree through descriptors (never following a link) into {path: bytes}, checking
    that the folder and everything in it belong to one user and are folders or regular files."""

    def __init__(self, uid, owner, limit, ignored):
        self.uid, self.owner, self.limit, self.ignored = uid, owner, limit, ignored
        self.total, self.newest, self.files = 0, 0.0, {}

    def _check(self, info, relative, kind):
        if info.st_uid != self.uid:
            try:
                actual = pwd.getpwuid(info.st_uid).pw_name
            except KeyError:
                actual = f"uid {info.st_uid}"
            what = f"{kind} {relative!r}" if relative else "it"
            raise RefusedSubmission(
                f"{what} is owned by {actual!r}, not by {self.owner!r}: someone else made it"
            )
        self.newest = max(self.newest, info.st_ctime)

    def read(self, path):
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(path, flags)
        try:
            info = os.fstat(fd)
            self._check(info, "", "the folder")
            self._walk(fd, "")
        finally:
            os.close(fd)
        return self.files, self.newest

    def _walk(self, dir_fd, prefix):
        for name in sorted(os.listdir(dir_fd)):
            relative = os.path.join(prefix, name)
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                target = os.readlink(name, dir_fd=dir_fd)
                raise RefusedSubmission(
                    f"it holds a symbolic link, {relative!r} -> {target!r}; nbgrader's collect "
                    "would copy what it points to"
                )
            is_dir = stat.S_ISDIR(info.st_mode)
            if not is_dir and not stat.S_ISREG(info.st_mode):
                raise RefusedSubmission(f"{relative!r} is neither a folder nor a regular file")
            if self.ignored(name, info.st_size, is_dir):
                continue
            if is_dir:
                flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
                fd = os.open(name, flags, dir_fd=dir_fd)
                try:
                    self._check(os.fstat(fd), relative, "the folder")
                    self._walk(fd, relative)
                finally:
                    os.close(fd)
                continue
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            fd = os.open(name, flags, dir_fd=dir_fd)
            try:
                opened = os.fstat(fd)
                if not stat.S_ISREG(opened.st_mode):
                    raise RefusedSubmission(f"{relative!r} changed into something else while read")
                self._check(opened, relative, "the file")
                chunks, size = [], 0
                while chunk := os.read(fd, 1 << 20):
                    size += len(chunk)
                    if self.total + size > self.limit:
                        raise RefusedSubmission(
                            f"it is larger than CourseDirectory.max_dir_size ({self.limit} bytes)"
                        )
                    chunks.append(chunk)
                self.total += size
                self.files[relative] = b"".join(chunks)
            finally:
                os.close(fd)


def _feedback_folder_problem(folder, student):
    """Why `folder` cannot hold `student`'s feedback (None when it can)."""
    try:
        info = os.lstat(folder)
        gid = pwd.getpwnam(student).pw_gid
    except FileNotFoundError:
        return "it has no feedback folder"
    except KeyError:
        return f"there is no user {student!r} on this machine"
    if not stat.S_ISDIR(info.st_mode):
        return "its feedback folder is not a folder"
    if info.st_uid != os.geteuid():
        return "its feedback folder is not yours"
    if info.st_gid != gid or info.st_mode & 0o007:
        return (
            f"its feedback folder is not private to the student (group {info.st_gid}, mode "
            f"{stat.S_IMODE(info.st_mode):o}; expected group {gid} and no access for others)"
        )
    return None


def _write(path, content, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


# The ExchangeFactory settings that select these classes (aekeras_tools.hub.environment writes
# them into the users' nbgrader_config.py).
FACTORY = {
    "exchange": "Exchange",
    "fetch_assignment": "FetchAssignment",
    "fetch_feedback": "FetchFeedback",
    "list": "List",
    "release_assignment": "ReleaseAssignment",
    "release_feedback": "ReleaseFeedback",
    "submit": "Submit",
    "collect": "Collect",
}
