"""One pygments lexer class for IPython's tracebacks in graded kernels, instead of a new one for every frame.

stack_data (which IPython's traceback display uses) highlights each frame's code with a lexer class it defines anew
on every call, to mark the executing node. pygments compiles a lexer class's token rules at its first instance, so
every frame of every traceback compiled PythonLexer's rules again: about 13 ms a frame here, and IPython formats each
error twice (for the display and for its history), so 100 to 300 ms for a cell that raises, which is most of a
failing test's cost. ``highlighted_with_ranges`` gives the same lines with one class, compiled once in the kernel
host; ``install`` puts it where stack_data looks it up. Trusted code, run before any student code exists.
"""

import pygments
from pygments.lexers import PythonLexer
from stack_data import core, utils


class ExecutingNodeLexer(PythonLexer):
    """Python, with the tokens that start inside one of ``ranges`` (character offsets) marked ``ExecutingNode``."""

    def __init__(self, ranges, **options):
        super().__init__(**options)
        self.ranges = ranges

    def get_tokens(self, text, unfiltered=False):
        length = 0
        for token_type, value in super().get_tokens(text, unfiltered):
            if any(start <= length < end for start, end in self.ranges):
                token_type = token_type.ExecutingNode
            length += len(value)
            yield token_type, value


def highlighted_with_ranges(formatter, code: str, ranges) -> list[str]:
    """What ``stack_data.utils._pygmented_with_ranges`` returns, with its lexer class made once."""
    try:
        highlighted = pygments.highlight(code, ExecutingNodeLexer(ranges, stripnl=False), formatter)
    except Exception:  # as stack_data does: code without highlighting rather than no traceback
        highlighted = code
    return highlighted.splitlines()


def install() -> None:
    ExecutingNodeLexer(())  # its first instance compiles the rules: here, in the host, for every kernel it forks
    core._pygmented_with_ranges = utils._pygmented_with_ranges = highlighted_with_ranges
