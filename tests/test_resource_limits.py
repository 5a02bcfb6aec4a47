"""What a submission may take of the grader's machine: bytes in files, resident memory; and a full course disk.

The cap on files is a size-limited tmpfs the grader mounts, and the memory limit a cgroup it creates: both need
root, as CI and `make autograde` on a grading machine have (README, "Grading you can trust").
"""

import ast
import copy
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_course.grading import autograde, batch
from autograd_course.grading.diskspace import RESERVE_BYTES, DiskFull, free_bytes, is_disk_full, stop_when_full
from autograd_course.grading.resources import (MOUNT_NAME, MemoryCgroup, Scratch, UsageWatch, own_memory_cgroup,
                                               size_text, unmount_abandoned)
from grading_course import ASSIGNMENT, findings_said, grade, gradebook_scores, make_course, outcome, solved, submit

MiB = 2**20
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs and making a cgroup need root")

# 16 MiB blocks, as many as 2 GiB into each place; what was written where, and how each place stopped.
FILLER = """import numpy
block = numpy.zeros(2**21)
written = {}
for place in ("/tmp", "."):
    written[place] = 0
    try:
        for number in range(128):
            block.tofile(f"{place}/fill{number}.bin")
            written[place] += block.nbytes
    except OSError as error:
        print(place, "stopped by", type(error).__name__)
print("written", written)
"""
ONE_BIG_FILE = "import numpy\ntry:\n    numpy.zeros(2**24).tofile('big.bin')\nexcept OSError:\n    pass\n"  # 128 MiB
ALLOCATE = "kept = torch.ones(1000 * 2**18)\n"  # 1000 MiB of float32, every page touched


def with_first_answer_prefixed(notebook, code: str):
    changed = copy.deepcopy(notebook)
    answer = next(cell for cell in changed.cells if cell.get("id") == "ex1_answer")
    answer.source = code + answer.source
    return changed


def first_answer_output(root: Path, student: str) -> str:
    graded = json.loads((root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    answer = next(cell for cell in graded["cells"] if cell.get("id") == "ex1_answer")
    return "".join("".join(output.get("text", "")) for output in answer["outputs"])


def configure(root: Path, **limits: int) -> None:
    with open(root / "nbgrader_config.py", "a") as config:
        config.writelines(f"c.Sandbox.{name} = {value}\n" for name, value in limits.items())


@needs_root
def test_a_submission_filling_its_folder_and_tmp_stops_at_the_cap_beside_honest_classmates(tmp_path):
    """One worker, in order: the filler's classmate after it runs in the same, emptied, scratch."""
    root = make_course(tmp_path)
    solved_notebook = solved(root)
    submit(root, "a_honest", solved_notebook)
    submit(root, "b_filler", with_first_answer_prefixed(solved_notebook, FILLER))
    submit(root, "c_honest", solved_notebook)
    submit(root, "d_one_big_file", with_first_answer_prefixed(solved_notebook, ONE_BIG_FILE))
    result = grade(root, "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    for honest in ("a_honest", "c_honest"):
        assert (outcome(root, honest)["status"], outcome(root, honest)["score"]) == ("graded", 6), result.stdout
    filler = outcome(root, "b_filler")
    assert (filler["status"], filler["score"]) == ("flagged", 0)
    assert any("limit of 256 MiB on what a submission may write" in finding for finding in findings_said(filler))
    said = first_answer_output(root, "b_filler")
    assert "/tmp stopped by OSError" in said and ". stopped by OSError" in said, said
    written = ast.literal_eval(re.search(r"written (\{.*\})", said).group(1))
    assert 200 * MiB < written["/tmp"] + written["."] <= 256 * MiB, written
    big = outcome(root, "d_one_big_file")
    assert (big["status"], big["score"]) == ("flagged", 0)
    assert "after the run: wrote a file up to the limit of 64 MiB on one file (big.bin)" in findings_said(big)
    assert gradebook_scores(root) == {"a_honest": 6, "b_filler": 0, "c_honest": 6, "d_one_big_file": 0}


@needs_root
def test_a_submission_whose_own_files_do_not_fit_is_an_error_that_says_so(tmp_path):
    root = make_course(tmp_path)
    configure(root, storage_limit=64 * MiB)
    submit(root, "a_hoarder", solved(root))
    for number in range(3):
        (root / "submitted" / "a_hoarder" / ASSIGNMENT / f"data{number}.bin").write_bytes(bytes(30 * MiB))
    submit(root, "b_honest", solved(root))
    result = grade(root, "--workers", "1")
    assert result.returncode == 1  # an error, graded again by the next run
    hoarder = outcome(root, "a_hoarder")
    assert hoarder["status"] == "error" and "own files do not fit in the 64 MiB" in hoarder["reason"], hoarder
    assert (outcome(root, "b_honest")["status"], outcome(root, "b_honest")["score"]) == ("graded", 6)

@needs_root
@pytest.mark.skipif(own_memory_cgroup() is None, reason="no memory cgroup on this machine")
def test_resident_memory_is_limited_with_the_files_in_tmp_counted(tmp_path):
    """1000 MiB of tensors fit in 1.5 GiB; with 448 MiB of files in /tmp beside them they do not."""
    root = make_course(tmp_path)
    configure(root, resident_memory_limit=1536 * MiB, storage_limit=512 * MiB)
    solved_notebook = solved(root)
    tmp_filler = "import numpy\nfor number in range(28):\n    numpy.zeros(2**21).tofile(f'/tmp/fill{number}.bin')\n"
    submit(root, "a_allocates", with_first_answer_prefixed(solved_notebook, ALLOCATE))
    submit(root, "b_fills_tmp_then_allocates", with_first_answer_prefixed(solved_notebook, tmp_filler + ALLOCATE))
    submit(root, "c_honest", solved_notebook)
    result = grade(root, "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (outcome(root, "a_allocates")["status"], outcome(root, "a_allocates")["score"]) == ("graded", 6)
    killed = outcome(root, "b_fills_tmp_then_allocates")
    assert killed["score"] == 0
    assert "the kernel was killed at the memory limit (1536 MiB resident, files in /tmp included)" in killed["notes"]
    assert (outcome(root, "c_honest")["status"], outcome(root, "c_honest")["score"]) == ("graded", 6)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs for a course folder, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "course-disk", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "--lazy", str(disk)], check=True)


def course_with_a_data_file_each(root: Path, students: list[str]) -> None:
    make_course(root)
    for student in students:
        submit(root, student, solved(root))
        (root / "submitted" / student / ASSIGNMENT / "measurements.bin").write_bytes(os.urandom(4 * MiB))


def fill(disk: Path, leave: int) -> Path:
    filler = disk / "someone-elses-files.bin"
    filler.write_bytes(bytes(free_bytes(disk) - leave))
    return filler


STUDENTS = ["ada", "ben", "cy"]


@needs_root
def test_a_batch_on_a_nearly_full_disk_stops_keeping_every_grade_and_the_rerun_completes_it(small_disk):
    """Room for the reserve and one submission's autograded copy (4 MiB of data each), not two."""
    root = small_disk / "course"
    root.mkdir()
    course_with_a_data_file_each(root, STUDENTS)
    assert grade(root, "--workers", "1", "--student", "ada").returncode == 0  # the gradebook, and ada's grade
    before = gradebook_scores(root)
    filler = fill(small_disk, leave=RESERVE_BYTES + 6 * MiB)

    stopped = grade(root, "--workers", "1")
    assert stopped.returncode == 3, stopped.stdout + stopped.stderr
    assert "Stopped: the course folder is full" in stopped.stderr and "run the same command again" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    recorded = sorted(path.stem for path in (root / "grading" / ASSIGNMENT).glob("*.json"))
    assert recorded == ["ada", "ben"]  # ben's grades fitted, cy's would not have
    assert {student: gradebook_scores(root)[student] for student in before} == before == {"ada": 6}

    filler.unlink()
    completed = grade(root, "--workers", "1")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert gradebook_scores(root) == {student: 6 for student in STUDENTS}
    assert all(outcome(root, student)["status"] == "graded" for student in STUDENTS)


@needs_root
def test_a_write_that_finds_no_space_after_the_check_stops_the_batch_as_cleanly(small_disk, monkeypatch, capsys):
    """Another program fills the disk between the check and the write: the failing write stops the batch."""
    root = small_disk / "course"
    root.mkdir()
    course_with_a_data_file_each(root, STUDENTS)
    assert grade(root, "--workers", "1", "--student", "ada").returncode == 0
    filler = fill(small_disk, leave=6 * MiB)  # ben's copy fits, cy's does not
    monkeypatch.setattr(batch, "check_room", lambda paths, needed: None)
    assert autograde.main([ASSIGNMENT, "--root", str(root), "--workers", "1", "--no-progress"]) == 3
    assert "Stopped: the course folder is full" in capsys.readouterr().err
    assert sorted(path.stem for path in (root / "grading" / ASSIGNMENT).glob("*.json")) == ["ada", "ben"]
    assert gradebook_scores(root) == {"ada": 6, "ben": 6}

    filler.unlink()
    monkeypatch.undo()
    assert grade(root, "--workers", "1").returncode == 0
    assert gradebook_scores(root) == {student: 6 for student in STUDENTS}


@needs_root
def test_writes_that_found_no_space_are_told_from_other_errors(small_disk):
    database = sqlite3.connect(small_disk / "grades.db")
    database.execute("create table grade (student text, score blob)")
    fill(small_disk, leave=0)
    with pytest.raises(OSError) as full_file:
        (small_disk / "outcome.json").write_bytes(bytes(MiB))
    with pytest.raises(sqlite3.OperationalError) as full_database:
        with database:
            database.execute("insert into grade values ('ada', ?)", (bytes(MiB),))
    assert is_disk_full(full_file.value) and is_disk_full(full_database.value)
    with pytest.raises(DiskFull), stop_when_full():
        raise RuntimeError("while saving grades") from full_database.value
    with pytest.raises(FileNotFoundError), stop_when_full():
        (small_disk / "missing" / "outcome.json").write_text("{}")


@needs_root
def test_a_scratch_holds_its_size_and_no_more(tmp_path):
    scratch = Scratch.mount(tmp_path, size=8 * MiB, files=100)
    try:
        watch = UsageWatch(scratch)
        watch.start()
        with pytest.raises(OSError) as full:
            (tmp_path / "big.bin").write_bytes(bytes(16 * MiB))
        assert is_disk_full(full.value)
        assert watch.stop() == scratch.used() == 8 * MiB and scratch.filled(watch.peak)
        (tmp_path / "big.bin").unlink()
        assert scratch.used() == 0 and not scratch.filled(7 * MiB - 1) and scratch.filled(7 * MiB)
        with pytest.raises(OSError):  # inodes are memory too
            for number in range(101):
                (tmp_path / f"empty{number}").touch()
    finally:
        scratch.unmount()
    assert not os.path.ismount(tmp_path)


@needs_root
def test_the_scratch_of_a_grader_killed_with_kill_9_is_unmounted_by_the_next_one(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    abandoned, ours = tmp_path / "abandoned", tmp_path / "ours"
    for folder, owner in ((abandoned, dead.pid), (ours, os.getpid())):
        folder.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", f"{MOUNT_NAME}-{owner}", str(folder)], check=True)
    try:
        unmount_abandoned()
        assert not os.path.ismount(abandoned) and os.path.ismount(ours)
    finally:
        subprocess.run(["umount", "--lazy", str(ours)], check=True)


@needs_root
@pytest.mark.skipif(own_memory_cgroup() is None, reason="no memory cgroup on this machine")
def test_a_memory_cgroup_kills_what_outgrows_it_and_nothing_else():
    group = MemoryCgroup.create(f"autograd-course-test-{os.getpid()}", 128 * MiB)
    try:
        fits = subprocess.run(group.enter([sys.executable, "-c", "kept = bytearray(32 * 2**20)"]))
        assert fits.returncode == 0 and group.oom_kills() == 0
        outgrows = subprocess.run(group.enter([sys.executable, "-c", "kept = bytearray(256 * 2**20)"]))
        assert outgrows.returncode == -9 and group.oom_kills() == 1
        reused = MemoryCgroup.create(group.path.name, 384 * MiB)  # as a grader killed with kill -9 leaves it
        assert subprocess.run(reused.enter([sys.executable, "-c", "kept = bytearray(256 * 2**20)"])).returncode == 0
    finally:
        group.remove()
    assert not group.path.exists()


def test_limits_read_as_the_readme_states_them():
    assert [size_text(size) for size in (256 * MiB, 1536 * MiB, 2 * 2**30, 243 * MiB + 1)] == [
        "256 MiB", "1536 MiB", "2 GiB", "243 MiB"]
