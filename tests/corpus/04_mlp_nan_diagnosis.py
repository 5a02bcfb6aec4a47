"""Misconceptions and correct answers for 04_mlp_nan_diagnosis."""

from misconceptions import Correct, Flagged, Mistake


def names_answer(test):
    """An ex1 answer that lists the names whose gradient ``test(g)`` calls broken, skipping .grad None."""
    return {"ex1_answer": (
        "def nonfinite_grad_names(parameters):\n"
        "    return sorted(name for name, tensor in parameters.items()\n"
        f"                  if tensor.grad is not None and {test})\n").replace("{g}", "tensor.grad")}


def eps_answer(body):
    return {"ex2_answer": "def safe_eps(dtype):\n" + body}


def bce_answer(body):
    return {"ex3_answer": "def stable_bce_with_logits(z, y):\n" + body}


CASES = [
    # Exercise 1: which parameters have a broken gradient?
    Correct("ex1-isnan-or-isinf-loop", {"ex1_answer": (
        "def nonfinite_grad_names(parameters):\n"
        "    broken = []\n"
        "    for name, tensor in parameters.items():\n"
        "        if tensor.grad is None:\n"
        "            continue\n"
        "        if torch.isnan(tensor.grad).any() or torch.isinf(tensor.grad).any():\n"
        "            broken.append(name)\n"
        "    broken.sort()\n"
        "    return broken\n")}),
    Correct("ex1-numpy", names_answer("not np.isfinite({g}.numpy()).all()")),
    Correct("ex1-math-per-element", names_answer("any(not math.isfinite(v) for v in {g}.flatten().tolist())")),
    Correct("ex1-largest-magnitude", names_answer("not torch.isfinite({g}.abs().max())")),
    Mistake("ex1-isnan-only", names_answer("bool(torch.isnan({g}).any())"),
            fails="ex1_tests", hint="torch.isnan alone misses ±inf", why="NaN is not the only non-finite value"),
    Mistake("ex1-sum-overflows", names_answer("not math.isfinite({g}.sum().item())"),
            fails="ex1_tests", hint="their sum (or mean, or norm) overflows", why="a sum of finite numbers can be inf"),
    Mistake("ex1-norm-overflows", names_answer("not torch.isfinite({g}.norm())"),
            fails="ex1_tests", hint="their sum (or mean, or norm) overflows", why="the norm squares 3e38 to inf"),
    Mistake("ex1-all-elements-broken", names_answer("not torch.isfinite({g}).any()"),
            fails="ex1_tests", hint="one non-finite element is enough", why="any vs all"),
    Mistake("ex1-nan-by-equality", names_answer("bool(({g} == torch.nan).any() or ({g}.abs() == torch.inf).any())"),
            fails="ex1_tests", hint="NaN compares unequal to everything", why="nan == nan is False"),
    Mistake("ex1-plus-inf-only", names_answer("bool(torch.isnan({g}).any() or ({g} == torch.inf).any())"),
            fails="ex1_tests", hint="-inf is broken too", why="forgets -inf"),
    Mistake("ex1-not-sorted", {"ex1_answer": (
        "def nonfinite_grad_names(parameters):\n"
        "    return [name for name, tensor in parameters.items()\n"
        "            if tensor.grad is not None and not torch.isfinite(tensor.grad).all()]\n")},
        fails="ex1_tests", hint="sort the names", why="returns the dict's order"),
    Mistake("ex1-none-not-skipped", {"ex1_answer": (
        "def nonfinite_grad_names(parameters):\n"
        "    return sorted(name for name, tensor in parameters.items() if not torch.isfinite(tensor.grad).all())\n")},
        fails="ex1_tests", hint="so its .grad is None: skip it", why="a leaf no gradient reached has .grad None"),
    Mistake("ex1-values-not-grad", {"ex1_answer": (
        "def nonfinite_grad_names(parameters):\n"
        "    return sorted(name for name, tensor in parameters.items()\n"
        "                  if tensor.grad is not None and not torch.isfinite(tensor).all())\n")},
        fails="ex1_tests", hint="look at tensor.grad, not at the tensor's own values", why="checks the weights"),
    Mistake("ex1-one-number-per-grad", names_answer("not math.isfinite({g}.item())"),
            fails="ex1_tests", hint="raised RuntimeError", why="treats every gradient as a single number"),

    # Exercise 2: the smallest safe clamp margin.
    Correct("ex2-arithmetic", eps_answer("    machine_eps = torch.finfo(dtype).eps\n"
                                         "    return machine_eps / 4 * (1 + machine_eps)\n")),
    Correct("ex2-bit-pattern", eps_answer(
        "    quarter = torch.tensor(torch.finfo(dtype).eps / 4, dtype=dtype)\n"
        "    as_int = {2: torch.int16, 4: torch.int32, 8: torch.int64}[quarter.element_size()]\n"
        "    return (quarter.view(as_int) + 1).view(dtype).item()\n")),
    Correct("ex2-halving-search", eps_answer(
        "    one = torch.tensor(1.0, dtype=dtype)\n"
        "    eps = torch.tensor(torch.finfo(dtype).eps, dtype=dtype)\n"
        "    while one - eps / 2 < one:\n"
        "        eps = eps / 2\n"
        "    return torch.nextafter(eps / 2, one).item()\n")),
    Mistake("ex2-machine-eps", eps_answer("    return torch.finfo(dtype).eps\n"),
            fails="ex2_tests", hint="finfo(dtype).eps is safe, but not the smallest", why="eps works, with room to spare"),
    Mistake("ex2-spacing-below-one", eps_answer("    return torch.finfo(dtype).eps / 2\n"),
            fails="ex2_tests", hint="the spacing below 1, is safe, but not the smallest", why="misses the midpoint"),
    Mistake("ex2-exact-midpoint", eps_answer("    return torch.finfo(dtype).eps / 4\n"),
            fails="ex2_tests", hint="a tie rounds to the neighbour with an even last bit", why="ties go to even, 1.0"),
    Mistake("ex2-lectures-1e-8", eps_answer("    return 1e-8\n"),
            fails="ex2_tests", hint="pick a number the dtype can store", why="1e-8 is not a float32"),
    Mistake("ex2-math-nextafter", eps_answer("    return math.nextafter(torch.finfo(dtype).eps / 4, 1.0)\n"),
            fails="ex2_tests", hint="a hair off: take the step with torch.nextafter", why="steps in float64"),
    Mistake("ex2-float32-hard-coded", eps_answer("    return 2.0**-25 + 2.0**-48\n"),
            fails="ex2_tests", hint="a number fixed for one dtype is wrong for the others", why="ignores dtype"),
    Mistake("ex2-returns-tensor", eps_answer(
        "    quarter = torch.tensor(torch.finfo(dtype).eps / 4, dtype=dtype)\n"
        "    return torch.nextafter(quarter, torch.tensor(1.0, dtype=dtype))\n"),
        fails="ex2_tests", hint="return tensor.item()", why="a tensor, not a float"),
    Mistake("ex2-smallest-normal", eps_answer("    return torch.finfo(dtype).tiny\n"),
            fails="ex2_tests", hint="ε is too small: 1 - ε rounds back to 1", why="tiny is not about spacing near 1"),

    # Exercise 3: a binary cross-entropy that never overflows.
    Correct("ex3-softplus", bce_answer("    return (F.softplus(z) - z * y).mean()\n")),
    Correct("ex3-logaddexp", bce_answer("    return (torch.logaddexp(torch.zeros_like(z), z) - z * y).mean()\n")),
    Correct("ex3-logsigmoid", bce_answer("    return -(y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z)).mean()\n")),
    Correct("ex3-relu-log-sum", bce_answer(
        "    return (torch.relu(z) - z * y + torch.log(1 + torch.exp(-torch.abs(z)))).sum() / z.numel()\n")),
    Mistake("ex3-naive-sigmoid-log", bce_answer(
        "    p = torch.sigmoid(z)\n"
        "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n"),
        fails="ex3_tests", hint="sigmoid(z) rounds to exactly 1 for z >= 16.64", why="forms p"),
    Mistake("ex3-exp-overflow", bce_answer("    return (torch.log1p(torch.exp(z)) - z * y).mean()\n"),
            fails="ex3_tests", hint="exp(z) overflows to inf for z > 88.7", why="log(1 + e^z) without the trick"),
    Mistake("ex3-where-nan-trap", bce_answer(
        "    softplus = torch.where(z >= 0, z + torch.log1p(torch.exp(-z)), torch.log1p(torch.exp(z)))\n"
        "    return (softplus - z * y).mean()\n"),
        fails="ex3_tests", hint="a branch torch.where does not pick still runs its backward", why="0 * inf = NaN"),
    Mistake("ex3-sum-not-mean", bce_answer(
        "    return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).sum()\n"),
        fails="ex3_tests", hint="average over all elements (.mean()), do not sum", why="sum instead of mean"),
    Mistake("ex3-sign-of-zy", bce_answer(
        "    return (torch.clamp(z, min=0) + z * y + torch.log1p(torch.exp(-z.abs()))).mean()\n"),
        fails="ex3_tests", hint="mind the sign of the z*y term", why="+ z*y"),
    Mistake("ex3-binary-targets-only", bce_answer(
        "    return torch.where(y == 1, F.softplus(-z), F.softplus(z)).mean()\n"),
        fails="ex3_tests", hint="targets may be fractional", why="chooses by y instead of weighting"),
    Mistake("ex3-clamped-probability", bce_answer(
        "    p = torch.sigmoid(z).clamp(1e-7, 1 - 1e-7)\n"
        "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n"),
        fails="ex3_tests", hint="clamping p caps the loss", why="fix (a) in disguise"),
    Mistake("ex3-mean-over-first-dim", bce_answer(
        "    return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean(dim=0)\n"),
        fails="ex3_tests", hint="0-d tensor: .mean() with no dim", why="a batch mean, not the mean of all elements"),
    Mistake("ex3-detached", bce_answer(
        "    z = z.detach()\n"
        "    return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()\n"),
        fails="ex3_tests", hint="no .detach(), .item() or torch.tensor(...) copies", why="cuts the graph"),
    Mistake("ex3-calls-torch", bce_answer("    return F.binary_cross_entropy_with_logits(z, y)\n"),
            fails="ex3_tests", hint="the exercise's rule is to write the loss yourself", why="breaks the stated rule"),
    # The tests' checks are not the answer's to use (README, point 6).
    Flagged("ex2-searches-with-the-check", eps_answer(
        "    eps = torch.finfo(dtype).eps\n"
        "    while True:\n"
        "        try:\n"
        "            check_safe_eps(lambda d: eps, str(dtype).split('.')[1])\n"
        "            return eps\n"
        "        except Exception:\n"
        "            eps /= 2\n"),
        finding="uses check_safe_eps, a check of the tests", why="halves eps until the tests' check lets it pass"),
]
