"""``make build``: regenerate notebooks/ and solutions/ from source/.

Usage: python -m autograd_course.build [ASSIGNMENT_ID ...]   (default: every assignment)
"""

import argparse
from pathlib import Path

from .course import Course
from .release import release_student_version
from .solutions import record_solution


def build(course: Course, assignment_ids: list[str]) -> None:
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
