"""``make build``: regenerate notebooks/ and solutions/ from source/.

First the generated cells of source/ are brought up to date: the answer rules (from the grader's policy)
and the navigation (from the course order); then the learning path source/index.ipynb is copied to
notebooks/index.ipynb.

Usage: python -m autograd_course.build [ASSIGNMENT_ID ...]   (default: every assignment)
"""

import argparse
from pathlib import Path

import nbformat

from . import answer_rules, navigation
from .course import Course
from .navigation import INDEX
from .release import release_student_version
from .solutions import record_solution


def release_index(course: Course) -> None:
    """The learning path has no exercises: the student copy is the source, normalised by nbformat."""
    nbformat.write(nbformat.read(course.source_dir / INDEX, as_version=4), course.release_dir / INDEX)


def build(course: Course, assignment_ids: list[str]) -> None:
    for assignment_id in assignment_ids:
        for generated in (answer_rules, navigation):
            if generated.update(course, assignment_id):
                print(f"{assignment_id}: {generated.CELL_ID} cell updated in source/")
    release_index(course)
    for assignment_id in assignment_ids:
        release_student_version(course, assignment_id)
        print(f"{assignment_id}: student version -> {course.student_notebook(assignment_id).relative_to(course.root)}")
        target = record_solution(course, assignment_id)
        print(f"{assignment_id}: reference run   -> {target.relative_to(course.root)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment_ids", nargs="*", help="assignments to build (default: all)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course directory (default: .)")
    args = parser.parse_args(argv)
    course = Course(args.root.resolve())
    build(course, args.assignment_ids or course.assignment_ids())


if __name__ == "__main__":
    main()
