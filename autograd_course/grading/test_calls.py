"""A judged test cell read as data: its calls of the notebook's checks, and the version of it the kernel runs.

A judged test cell (``autograd_course.cases``) is nothing but calls ``check(answer, *inputs, **options)``: a check
of the notebook's module, the name of the student's function, then literal inputs and options. Its hidden block
holds more such calls. The grader reads every call here, outside the kernel, so that it knows each case it must
receive values for; the kernel gets the visible calls as written and each hidden call reduced to
``check.record(answer, *inputs)``: the inputs arrive when the case runs, and nothing else of the hidden block
(its options and messages, its comments) ever enters the kernel.
"""

import ast
import re
from dataclasses import dataclass, field

from . import syntax

HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n(.*?)^[ \t]*### END HIDDEN TESTS[ \t]*$\n?",
                          re.DOTALL | re.MULTILINE)


class NotJudged(ValueError):
    """A test cell that is not a list of check calls (an instructor's mistake, reported when the grader starts)."""


@dataclass(frozen=True)
class Case:
    check: str  # the check's name in the notebook's module
    answer: str  # the student's function it calls
    inputs: tuple
    options: dict = field(default_factory=dict)
    hidden: bool = False

    def recorded(self) -> str:
        """The hidden call as the kernel runs it: the check, the answer and the inputs, nothing more."""
        return f"{self.check}.record({', '.join([self.answer, *map(repr, self.inputs)])})"


def _case(statement: ast.stmt, hidden: bool) -> Case:
    call = statement.value if isinstance(statement, ast.Expr) else None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or not call.args \
            or not isinstance(call.args[0], ast.Name):
        raise NotJudged(f"line {statement.lineno}: not a call check(answer, *inputs): {ast.unparse(statement)}")
    try:
        inputs = tuple(ast.literal_eval(argument) for argument in call.args[1:])
        options = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    except ValueError:
        raise NotJudged(f"line {statement.lineno}: inputs and options must be literals: {ast.unparse(call)}") from None
    if None in options:
        raise NotJudged(f"line {statement.lineno}: no **options: {ast.unparse(call)}")
    return Case(call.func.id, call.args[0].id, inputs, options, hidden)


def cases_of(source: str) -> list[Case]:
    """Every call of a judged test cell, in the order they run."""
    parts = HIDDEN_BLOCK.split(source)  # visible, hidden, visible, ... (the pattern's one group is the hidden code)
    return [_case(statement, hidden=index % 2 == 1) for index, part in enumerate(parts)
            for statement in syntax.parse(part).body]


def kernel_version(source: str) -> str:
    """The test cell the kernel runs: the visible calls as written, each hidden call as ``Case.recorded``."""
    def recorded(block: re.Match) -> str:
        return "".join(f"{_case(statement, True).recorded()}\n" for statement in syntax.parse(block.group(1)).body)

    return HIDDEN_BLOCK.sub(recorded, source)
