"""Read what the reference notebooks recorded, to check it against independent computations."""

import math
import re
from functools import cache

import nbformat
import torch

from autograd_course.course import this_course

GRAPH_ANNOTATION = re.compile(r",\s*(grad_fn=<\w+>|requires_grad=True)")


@cache
def solution_cells(assignment_id: str) -> dict[str, nbformat.NotebookNode]:
    notebook = nbformat.read(this_course().solution_notebook(assignment_id), as_version=4)
    return {cell.id: cell for cell in notebook.cells}


def recorded_value(assignment_id: str, cell_id: str) -> str:
    """The text/plain of the cell's result (its last expression), as the student sees it."""
    results = [out for out in solution_cells(assignment_id)[cell_id].outputs if out.output_type == "execute_result"]
    assert len(results) == 1, f"{assignment_id}:{cell_id} should end in one displayed value"
    return results[0].data["text/plain"]


def recorded_stdout(assignment_id: str, cell_id: str) -> str:
    return "".join(out.text for out in solution_cells(assignment_id)[cell_id].outputs
                   if out.output_type == "stream" and out.name == "stdout")


def recorded_error(assignment_id: str, cell_id: str) -> str:
    """'ExceptionName: message' of the error the cell recorded."""
    errors = [out for out in solution_cells(assignment_id)[cell_id].outputs if out.output_type == "error"]
    assert len(errors) == 1, f"{assignment_id}:{cell_id} should record one error"
    return f"{errors[0].ename}: {errors[0].evalue}"


def parse_tensor(text: str):
    """The tensor (or tuple of tensors) a ``tensor(...)`` repr shows, without its graph annotations."""
    def tensor(values, dtype=torch.float32):
        # Called from the eval below, but this frame has the builtins torch needs for its lazy imports.
        return torch.tensor(values, dtype=dtype)

    plain = GRAPH_ANNOTATION.sub("", text)
    return eval(plain, {"__builtins__": {}}, {"tensor": tensor, "torch": torch, "nan": math.nan, "inf": math.inf})


def printed_by_torch(value) -> str:
    """How torch prints an exactly computed float64 value once it is stored in float32."""
    return repr(torch.as_tensor(value, dtype=torch.float64).to(torch.float32))


def assert_tensor_text(text: str, exact, where: str = "printed") -> None:
    """A printed tensor equals the independent float64 value to every printed digit.

    Exact string equality is asked first (graph and float64 annotations aside); when float32
    rounding puts the two on either side of a printed digit, they must still agree within half a
    unit of the last printed digit.
    """
    plain = GRAPH_ANNOTATION.sub("", text).replace(", dtype=torch.float64", "")
    expected = printed_by_torch(exact)
    if plain == expected:
        return
    recorded = parse_tensor(plain).to(torch.float64)
    exact = torch.as_tensor(exact, dtype=torch.float64)
    assert recorded.shape == exact.shape and torch.allclose(recorded, exact, rtol=0, atol=5e-5, equal_nan=True), (
        f"{where} {text}, an independent computation gives {expected}")


def assert_recorded_tensor(assignment_id: str, cell_id: str, exact) -> None:
    """The tensor a cell displays as its value, to every printed digit (see assert_tensor_text)."""
    assert_tensor_text(recorded_value(assignment_id, cell_id), exact, where=f"{assignment_id}:{cell_id} recorded")
