"""The glossary in the learning path: its numbers are right, and no notebook uses a term before defining or linking it."""

import math
import re

import nbformat
import pytest
import torch

from autograd_course.navigation import CELL_ID
from conftest import COURSE

GLOSSARY_LINK = "../index.ipynb#Glossary"
# A term and how prose writes it; a notebook must define it (in bold) or link the glossary where it first appears.
TERMS = {
    "leaf": r"\bleaf\b|\b(?:the|to|of|its|all|are|as) leaves\b",  # not the verb: "the clamp leaves o2 unchanged"
    "non-leaf": r"\bnon-leaf",
    "logit": r"\blogits?\b",
    "ε₃₂": r"ε₃₂",
    "u₃₂": r"u₃₂",
    "vector–Jacobian product": r"vector[–-]Jacobian product",
    "Hessian–vector product": r"Hessian[–-]vector product",
    "Jacobian–vector product": r"Jacobian[–-]vector product",
    "dual number": r"\bdual numbers?\b",
    "saved tensors": r"\bsaved tensors\b",
    "subnormal": r"\bsubnormals?\b",
    "ε₁₆": r"ε₁₆",
    "u₁₆": r"u₁₆",
    "loss scaling": r"\bloss scaling\b",
    "topological order": r"\btopological order\b",
}


def glossary_text() -> str:
    index = nbformat.read(COURSE.source_dir / "index.ipynb", as_version=4)
    return next(cell.source for cell in index.cells if cell.source.startswith("## Glossary"))


def test_glossary_defines_every_term():
    text = glossary_text()
    for term in TERMS:
        assert f"**{term}**" in text or f"**{term.split('–')[0]}" in text, term


def test_glossary_numbers_are_those_of_float32_and_float64():
    text = glossary_text()
    one = torch.tensor(1.0)
    assert torch.finfo(torch.float32).eps == 2.0**-23
    assert torch.nextafter(one, torch.tensor(2.0)).item() - 1 == 2.0**-23
    assert 1 - torch.nextafter(one, torch.tensor(0.0)).item() == 2.0**-24
    assert torch.finfo(torch.float64).eps == 2.0**-52
    assert "1.19 \\times 10^{-7}" in text and f"{2.0**-23:.3g}" == "1.19e-07"
    assert "5.96 \\times 10^{-8}" in text and f"{2.0**-24:.3g}" == "5.96e-08"
    assert "2.2 \\times 10^{-16}" in text and "1.1 \\times 10^{-16}" in text
    assert "$x > 88.72$" in text and math.log(torch.finfo(torch.float32).max) == pytest.approx(88.7228, abs=1e-4)
    assert torch.isinf(torch.exp(torch.tensor(88.73))) and torch.isfinite(torch.exp(torch.tensor(88.72)))


def test_glossary_numbers_are_those_of_float16_and_bfloat16():
    text = glossary_text()
    half, brain, single = torch.finfo(torch.float16), torch.finfo(torch.bfloat16), torch.finfo(torch.float32)
    assert (half.eps, half.tiny, half.max, brain.eps) == (2.0**-10, 2.0**-14, 65504, 2.0**-7)
    assert (brain.tiny, math.floor(math.log2(brain.max))) == (single.tiny, math.floor(math.log2(single.max)))
    zero = torch.tensor(0.0, dtype=torch.float16)
    assert torch.nextafter(zero, torch.ones_like(zero)).item() == 2.0**-24  # the smallest subnormal
    assert torch.tensor(2.0**-25, dtype=torch.float16).item() == 0  # half of it: a tie, to the even neighbour 0
    for value in (2.0**-10, 2.0**-11, 2.0**-14, 2.0**-24):
        mantissa, exponent = f"{value:.2e}".split("e")
        assert f"{mantissa} \\times 10^{{{int(exponent)}}}" in text, value
    assert "65504" in text


@pytest.mark.parametrize("term", TERMS)
def test_no_notebook_uses_a_term_before_defining_or_linking_it(assignment_id, term):
    notebook = nbformat.read(COURSE.source_notebook(assignment_id), as_version=4)
    # The navigation cell quotes the neighbours' titles: a link, not a use.
    # Headings name a notebook's or section's subject; the prose under them is where a term must be defined.
    prose = [re.sub(r"(?m)^#.*$", "", cell.source) for cell in notebook.cells
             if cell.cell_type == "markdown" and cell.get("id") != CELL_ID]
    first = next((text for text in prose if re.search(TERMS[term], text)), None)
    if first is None:
        return
    defined = re.search(r"\*\*(" + TERMS[term] + r")\*\*", first) is not None
    assert defined or GLOSSARY_LINK in first, f"{assignment_id}: first use of {term!r} is neither bold nor linked"
