"""``make report ASSIGNMENT=<id>``: after grading, what the class got wrong, for the instructor.

Reads the course folder's gradebook, autograded notebooks and grading records, and writes for each assignment
``reports/<id>/index.html`` (opens offline), its figures as PNG files and ``report.json`` (the same numbers), then
``reports/index.html``, an overview of every assignment reported there. Students are named only with ``--names``.

Usage: python -m autograd_course.report ASSIGNMENT [ASSIGNMENT ...] [--root COURSE] [--output FOLDER] [--names]
"""

import argparse
import json
import sys
from pathlib import Path

from . import figures, page
from .analysis import analyse
from .records import Reader

REPORT_JSON = "report.json"


def write(reader: Reader, assignment: str, output: Path, names: bool) -> Path:
    """reports/<assignment>/: the page, its figures and report.json."""
    analysis = analyse(reader.assignment(assignment), names)
    folder = output / assignment
    folder.mkdir(parents=True, exist_ok=True)
    drawn = figures.draw(analysis, folder)
    (folder / REPORT_JSON).write_text(json.dumps(analysis.as_json(), indent=1, ensure_ascii=False) + "\n")
    target = folder / "index.html"
    target.write_text(page.render(analysis, drawn), encoding="utf-8")
    return target


def write_index(output: Path) -> Path:
    reports = [json.loads(path.read_text()) for path in sorted(output.glob(f"*/{REPORT_JSON}"))]
    target = output / "index.html"
    target.write_text(page.render_index(reports), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="+", help="one or more assignment ids")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course folder (default: here)")
    parser.add_argument("--output", type=Path, help="where to write (default: ROOT/reports)")
    parser.add_argument("--names", action="store_true", help="name the students (default: anonymous)")
    args = parser.parse_args(argv)
    reader = Reader(args.root)
    output = args.output or reader.root / "reports"
    for assignment in args.assignment:
        print(f"{assignment}: {write(reader, assignment, output, args.names)}")
    print(f"overview: {write_index(output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
