"""nbgrader's exchange, with every submission and every student's feedback private by file permissions.

nbgrader's default exchange relies on names nobody can guess: a submission folder is mode 0777 with world-readable
files (nbgrader issue #978), the inbound folder has no sticky bit, and feedback is readable by whoever learns its
file name. Here the kernel's permission checks do the work, so a student who knows every path still cannot read,
change or delete a classmate's work. Under ``{root}/{course}/`` (the course folder, made by root for the instructor,
group = the course's graders, setgid so that everything below gets that group):

- ``outbound/`` 0755: released assignments, read-only for students (as in nbgrader's default).
- ``inbound/`` 3773: students create submissions but cannot list them; the sticky bit keeps anyone but a folder's
  owner (and the instructor) from renaming or deleting it. A submission is built in a folder only its owner can
  enter, made 0750/0640 (readable by the graders' group only), then renamed into place in one step. Collect takes a
  submission only from the student whose Unix account made it: a folder named after a classmate is refused.
- ``feedback-by-student/<student>/``: made by the student at submit time, 2770, so only that student (its owner) and
  the graders get in. Release feedback writes each student's HTML there, and nbgrader's own name for it in
  ``feedback/`` (0711, not listable) is a symbolic link to it: nbgrader's fetch_feedback and list work unchanged,
  and the link leads nowhere for anyone else.

The exchange root itself is root's, 0755, so no student can rename the course folder away.
"""

import glob
import os
import pwd
import re
import secrets
import shutil
import stat
import tempfile
from pathlib import Path

from nbgrader.exchange.default import (Exchange, ExchangeCollect, ExchangeFetchAssignment, ExchangeFetchFeedback,
                                       ExchangeList, ExchangeReleaseAssignment, ExchangeReleaseFeedback,
                                       ExchangeSubmit)
from nbgrader.utils import get_username, notebook_hash

INBOUND_MODE = 0o3773  # setgid + sticky; owner and graders rwx; students may create (wx) but not list
SUBMISSION_DIR_MODE, SUBMISSION_FILE_MODE = 0o750, 0o640
RECEIPTS = ("timestamp.txt", "submission_secret.txt")
FEEDBACK_LINKS_MODE = 0o711  # nbgrader's names for feedback: not listable
FEEDBACK_HOMES = "feedback-by-student"
FEEDBACK_HOMES_MODE = 0o3773  # as inbound: each student makes their own folder, nobody lists or removes another's
FEEDBACK_HOME_MODE = 0o2770
FEEDBACK_FILE_MODE = 0o644  # readable only through its folder, which only its student (and the graders) can enter


def owner_of(path: str) -> str:
    """The user name of whoever made ``path`` (the link itself for a symbolic link: it cannot be borrowed)."""
    uid = os.lstat(path).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


class PrivateExchange(Exchange):
    """What every step shares: the course folder must exist (root makes it), the root need not be world-writable."""

    def ensure_root(self):
        if not os.path.isdir(self.course_folder()):
            self.fail(f"The course's exchange folder {self.course_folder()} does not exist; it is made by the "
                      "administrator (make hub), not by nbgrader.")

    def course_folder(self) -> str:
        return os.path.join(self.root, self.coursedir.course_id)

    def feedback_home(self, student: str) -> str:
        return os.path.join(self.course_folder(), FEEDBACK_HOMES, student)


class PrivateReleaseAssignment(PrivateExchange, ExchangeReleaseAssignment):
    def init_dest(self):
        super().init_dest()
        set_mode(self.inbound_path, INBOUND_MODE)  # nbgrader's 2733 lacks the sticky bit
        # nbgrader makes feedback/ at the first release_feedback; before it, fetch_feedback would fail.
        self.ensure_directory(os.path.join(self.course_path, "feedback"), FEEDBACK_LINKS_MODE)
        homes = os.path.join(self.course_path, FEEDBACK_HOMES)
        self.ensure_directory(homes, FEEDBACK_HOMES_MODE)
        set_mode(homes, FEEDBACK_HOMES_MODE)


def set_mode(path: str, mode: int) -> None:
    """``chmod`` unless the mode is already right: another grader (groupshared) releases into folders they do not own
    and may not chmod."""
    if stat.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)


class PrivateFetchAssignment(PrivateExchange, ExchangeFetchAssignment):
    pass


class PrivateList(PrivateExchange, ExchangeList):
    pass


class PrivateFetchFeedback(PrivateExchange, ExchangeFetchFeedback):
    pass


class PrivateSubmit(PrivateExchange, ExchangeSubmit):
    def init_dest(self):
        me = get_username()
        if self.coursedir.student_id not in ("*", me):
            self.fail(f"You are {me}: you cannot submit as {self.coursedir.student_id}.")
        super().init_dest()

    def copy_files(self):
        self.init_release()
        self.check_filename_diff()
        secret = secrets.token_hex(64)
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        self.log.info("Source: %s", self.src_path)
        self.log.info("Destination: %s", dest)
        staging = tempfile.mkdtemp(prefix=".submitting-", dir=self.inbound_path)  # 0700: nobody else gets in
        try:
            built = os.path.join(staging, "submission")
            self.do_copy(self.src_path, built)
            # Written where the graders' group is still inherited (copying made ``built`` the student's group's),
            # then moved in: the instructor must read them.
            self.write_receipt(staging, secret)
            for name in RECEIPTS:
                os.rename(os.path.join(staging, name), os.path.join(built, name))
            self.set_perms(built, fileperms=SUBMISSION_FILE_MODE, dirperms=SUBMISSION_DIR_MODE)
            os.rename(built, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.ensure_feedback_home()
        # The student's own record, as nbgrader's submit keeps it: nbgrader list and fetch_feedback read it.
        kept = self.assignment_filename.rsplit("+", 1)[0] if self.add_random_string else self.assignment_filename
        os.makedirs(self.cache_path, exist_ok=True)
        self.do_copy(self.src_path, os.path.join(self.cache_path, kept))
        self.write_receipt(os.path.join(self.cache_path, kept), secret)
        self.log.info("Submitted as: %s %s %s", self.coursedir.course_id, self.coursedir.assignment_id,
                      self.timestamp)

    def write_receipt(self, folder: str, secret: str) -> None:
        """timestamp.txt and submission_secret.txt, which collect and release_feedback read."""
        for name, text in zip(RECEIPTS, (self.timestamp, secret)):
            with open(os.path.join(folder, name), "w") as receipt:
                receipt.write(text)

    def ensure_feedback_home(self) -> None:
        home, me = self.feedback_home(get_username()), get_username()
        try:
            os.mkdir(home)
            os.chmod(home, FEEDBACK_HOME_MODE)
        except FileExistsError:
            if owner_of(home) != me:
                self.log.error("%s was made by %s, not by you: your feedback cannot be delivered; tell your "
                               "instructor.", home, owner_of(home))
        except FileNotFoundError:
            self.log.warning("This course's exchange has no %s folder: ask your instructor to release again.",
                             FEEDBACK_HOMES)


class PrivateCollect(PrivateExchange, ExchangeCollect):
    """Collects a submission only from the Unix account whose name it bears (nbgrader's own check only warns)."""

    def _path_to_record(self, path):
        record = super()._path_to_record(path)
        made_by = owner_of(path)
        if made_by != record["username"]:
            self.log.error("Not collected: %s is named after %s but was made by %s.", path, record["username"],
                           made_by)
            record["forged_by"] = made_by
            record["username"] += f" (forged by {made_by})"  # grouped apart, so the student's own is still taken
        return record

    def init_src(self):
        super().init_src()
        self.src_records = [record for record in self.src_records if "forged_by" not in record]


class PrivateReleaseFeedback(PrivateExchange, ExchangeReleaseFeedback):
    def copy_files(self):
        excluded = set(filter(None, (self.coursedir.student_id_exclude or "").split(",")))
        pattern = re.escape(os.path.sep).join([
            self.coursedir.format_path(self.coursedir.feedback_directory, "(?P<student_id>.*)",
                                       self.coursedir.assignment_id, escape=True),
            "(?P<notebook_id>.*).html"])
        for html_file in sorted(glob.glob(os.path.join(self.src_path, "*.html"))):
            match = re.match(pattern, html_file)
            if match is None:
                self.log.error("Could not match '%s' with regexp '%s'", html_file, pattern)
                continue
            student, notebook_id = match["student_id"], match["notebook_id"]
            if student not in excluded:
                self.release_one(student, notebook_id, html_file)

    def release_one(self, student: str, notebook_id: str, html_file: str) -> None:
        home = self.feedback_home(student)
        if not os.path.isdir(home) or os.path.islink(home) or owner_of(home) != student:
            made = f"made by {owner_of(home)}" if os.path.lexists(home) else "missing"
            self.log.error("Feedback for %s not released: their folder %s is %s (it is made when they submit "
                           "through this exchange).", student, home, made)
            return
        with open(os.path.join(os.path.dirname(html_file), "submission_secret.txt")) as receipt:
            checksum = notebook_hash(secret=receipt.read(), notebook_id=notebook_id)
        delivered = os.path.join(home, f"{checksum}.html")
        shutil.copy(html_file, delivered + ".partial")
        os.chmod(delivered + ".partial", FEEDBACK_FILE_MODE)
        os.replace(delivered + ".partial", delivered)
        link = os.path.join(self.dest_path, f"{checksum}.html")
        os.symlink(os.path.relpath(delivered, self.dest_path), link + ".partial")
        os.replace(link + ".partial", link)
        self.log.info("Feedback released to %s for %s (%s)", delivered, student, notebook_id)


def prepare_course_folder(root: Path, course_id: str, instructor: str, graders_group: str) -> None:
    """As root: the exchange root (root's, 0755) and the course folder in it (the instructor's; the graders' group
    writes there too, as nbgrader's ``groupshared`` graders do)."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    course = root / course_id
    course.mkdir(exist_ok=True)
    shutil.chown(course, instructor, graders_group)
    os.chmod(course, 0o2775)


def use_private_exchange(c, root: str) -> None:
    """Configure nbgrader (``c``, an nbgrader_config.py's config) to use this exchange at ``root``."""
    c.Exchange.root = root
    for step, exchange in (("exchange", PrivateExchange), ("release_assignment", PrivateReleaseAssignment),
                           ("fetch_assignment", PrivateFetchAssignment), ("submit", PrivateSubmit),
                           ("collect", PrivateCollect), ("list", PrivateList),
                           ("fetch_feedback", PrivateFetchFeedback), ("release_feedback", PrivateReleaseFeedback)):
        setattr(c.ExchangeFactory, step, f"{exchange.__module__}.{exchange.__qualname__}")
