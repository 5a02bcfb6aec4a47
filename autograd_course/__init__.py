"""Tooling for the PyTorch autograd course.

Modules, one job each:
- ``course``: where things live (assignment ids, source/notebooks/solutions paths).
- ``notebook``: deterministic start-up for a notebook's kernel.
- ``arithmetic``: the environment that gives a kernel the same float bits on every CPU.
- ``checks``: assertions for test cells whose failures teach (expected, got, hint).
- ``numeric``: float64 central finite differences, a reference independent of autograd.
- ``release``: student versions in ``notebooks/`` via nbgrader's generate_assignment.
- ``solutions``: reference notebooks in ``solutions/``, executed with recorded outputs.
- ``build``: ``make build``, both of the above for every assignment.
- ``validate``: ``make validate``, nbgrader's validator with an exit code that means something.
"""
