"""Run by student B (tests/test_private_exchange.py): every way at A's work, given its paths; prints what worked.

Reading attempts run first, then changes, then removals, so that one success does not hide the next attempt.
"""

import json
import os
import sys


def attempt(action) -> bool:
    try:
        action()
        return True
    except OSError:
        return False


def append(path: str) -> None:
    with open(path, "a") as target:
        target.write("\n")


def create_inside(folder: str) -> None:
    with open(os.path.join(folder, "planted.txt"), "w") as planted:
        planted.write("B was here")


def read(path: str) -> None:
    with open(path, "rb") as source:
        source.read()


def replace_file(path: str) -> None:
    os.unlink(path)
    with open(path, "w") as forged:
        forged.write("{}")


targets = json.loads(sys.argv[1])
released = os.path.join(targets["released"], os.listdir(targets["released"])[0])
results = {
    "list the submissions": attempt(lambda: os.listdir(targets["inbound"])),
    "read A's submission": attempt(lambda: read(targets["notebook"])),
    "read A's submission secret": attempt(lambda: read(targets["secret"])),
    "list the feedback": attempt(lambda: os.listdir(targets["feedback_folder"])),
    "read A's feedback": attempt(lambda: read(targets["feedback"])),
}
results["change A's submission"] = attempt(lambda: append(targets["notebook"])) \
    | attempt(lambda: create_inside(targets["submission"])) | attempt(lambda: replace_file(targets["notebook"]))
results["change A's feedback"] = attempt(lambda: append(targets["feedback"]))
results["change the released files"] = attempt(lambda: append(released)) | attempt(lambda: replace_file(released))
results["delete A's feedback"] = attempt(lambda: os.unlink(targets["feedback"]))
results["delete A's submission"] = attempt(lambda: os.rename(targets["submission"], targets["submission"] + "-gone"))
results["delete the released files"] = attempt(lambda: os.rename(targets["released"], targets["released"] + "-gone"))
results["move the course folder"] = attempt(
    lambda: os.rename(targets["exchange_course"], targets["exchange_course"] + "-gone"))
print(json.dumps(results))
