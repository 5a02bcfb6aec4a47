"""Misconceptions and correct answers for 06_gradient_checking."""

from misconceptions import Correct, Flagged, Mistake


def numerical_gradient(body: str) -> dict[str, str]:
    return {"ex1_answer": "def numerical_gradient(f, x, h=1e-6):\n" + body}


# The loop of the reference answer with one line changed: {setup}, {step} and {result} are filled in per case.
LOOP = """\
    point = {setup}
    gradient = torch.zeros_like(point)
    flat_point, flat_gradient = point.view(-1), gradient.view(-1)
    with torch.no_grad():
        for i in range(point.numel()):
            original = flat_point[i].item()
            flat_point[i] = original + h
            above = f(point)
            flat_point[i] = original - h
            below = f(point)
            flat_point[i] = original
            flat_gradient[i] = {step}
    return {result}
"""


def loop(setup="x.detach().to(torch.float64).clone()", step="(above - below) / (2 * h)", result="gradient"):
    return numerical_gradient(LOOP.format(setup=setup, step=step, result=result))


RELATIVE_ERROR = """\
def relative_error(a, n):
    a = torch.as_tensor(a).detach().to(torch.float64)
    n = torch.as_tensor(n).detach().to(torch.float64)
    scale = torch.maximum(a.abs(), n.abs())
    return ((a - n).abs() / torch.where(scale == 0, torch.ones_like(scale), scale)).max().item()
"""

DIRECTIONAL = """\
def directional_check(f, grad_f, x, v, h=1e-6):
    point = x.detach().to(torch.float64)
    direction = v.detach().to(torch.float64)
    analytic = {analytic}
    with torch.no_grad():
        numerical = {numerical}
    return relative_error(analytic, numerical)
"""


def ex2(relative_error=RELATIVE_ERROR, analytic="(grad_f(point).to(torch.float64) * direction).sum()",
        numerical="(f(point + h * direction) - f(point - h * direction)) / (2 * h)"):
    return {"ex2_answer": relative_error + "\n\n" + DIRECTIONAL.format(analytic=analytic, numerical=numerical)}


def relative_error(body: str) -> dict[str, str]:
    return ex2(relative_error="def relative_error(a, n):\n"
                              "    a = torch.as_tensor(a).detach().to(torch.float64)\n"
                              "    n = torch.as_tensor(n).detach().to(torch.float64)\n" + body)


CASES = [
    # Exercise 1: numerical_gradient.
    Correct("ex1-unit-vectors", numerical_gradient(
        "    point = x.detach().double()\n"
        "    flat = []\n"
        "    with torch.no_grad():\n"
        "        for i in range(point.numel()):\n"
        "            step = torch.zeros(point.numel(), dtype=torch.float64)\n"
        "            step[i] = h\n"
        "            step = step.reshape(point.shape)\n"
        "            flat.append(((f(point + step) - f(point - step)) / (2 * h)).item())\n"
        "    return torch.tensor(flat, dtype=torch.float64).reshape(point.shape)\n")),
    Correct("ex1-ndindex-clones", numerical_gradient(
        "    point = x.detach().to(torch.float64)\n"
        "    gradient = torch.empty_like(point)\n"
        "    for index in np.ndindex(tuple(point.shape)):\n"
        "        above, below = point.clone(), point.clone()\n"
        "        above[index] += h\n"
        "        below[index] -= h\n"
        "        gradient[index] = (f(above) - f(below)) / (2 * h)\n"
        "    return gradient\n")),
    Correct("ex1-eye-rows", numerical_gradient(
        "    point = x.detach().to(torch.float64).clone()\n"
        "    basis = torch.eye(point.numel(), dtype=torch.float64)\n"
        "    values = [f(point + h * e.view_as(point)) - f(point - h * e.view_as(point)) for e in basis]\n"
        "    return (torch.stack(values) / (2 * h)).detach().view_as(point)\n")),
    Mistake("ex1-one-sided", loop(step="(above - f(point)) / h"), fails="ex1_tests",
            hint="one-sided (f(x + h) - f(x)) / h", why="forward difference: error O(h), not O(h²)"),
    Mistake("ex1-divide-by-h", loop(step="(above - below) / h"), fails="ex1_tests",
            hint="divide their difference by 2h, not by h", why="x + h and x - h are 2h apart"),
    Mistake("ex1-autograd", numerical_gradient(
        "    point = x.detach().to(torch.float64).clone().requires_grad_()\n"
        "    f(point).backward()\n"
        "    return point.grad\n"), fails="ex1_tests", hint="and no autograd",
            why="breaks the rule: the reference must share nothing with autograd"),
    Mistake("ex1-torch-func-grad", numerical_gradient(
        "    return torch.func.grad(f)(x.detach().to(torch.float64))\n"), fails="ex1_tests", hint="and no autograd",
            why="breaks the rule through another autograd API"),
    Mistake("ex1-all-at-once", numerical_gradient(
        "    point = x.detach().to(torch.float64)\n"
        "    slope = (f(point + h) - f(point - h)) / (2 * h)\n"
        "    return torch.full_like(point, slope.item())\n"), fails="ex1_tests", hint="you moved all elements at once",
            why="a directional derivative along (1, ..., 1), not the partials"),
    Mistake("ex1-float32", loop(setup="x.detach().clone()", result="gradient.to(torch.float64)"), fails="ex1_tests",
            hint="compute the differences in float64", why="float32 differences with h = 1e-6 (section 3.3)"),
    Mistake("ex1-fixed-step", numerical_gradient(
        "    h = 1e-5\n" + LOOP.format(setup="x.detach().to(torch.float64).clone()", step="(above - below) / (2 * h)",
                                       result="gradient")), fails="ex1_tests", hint="use the step h you are given",
            why="ignores the h argument"),
    Mistake("ex1-not-put-back", numerical_gradient(LOOP.format(
        setup="x.detach().to(torch.float64).clone()", step="(above - below) / (2 * h)", result="gradient").replace(
        "            flat_point[i] = original\n", "")), fails="ex1_tests", hint="put element i back",
            why="element i stays at x_i - h while the next partials are taken"),
    Mistake("ex1-flat-result", loop(result="gradient.view(-1)"), fails="ex1_tests",
            hint="not a flat one", why="returns the flat gradient of a matrix"),
    Mistake("ex1-len-loop", numerical_gradient(
        "    point = x.detach().to(torch.float64).clone()\n"
        "    gradient = torch.zeros_like(point)\n"
        "    with torch.no_grad():\n"
        "        for i in range(len(point)):\n"
        "            above, below = point.clone(), point.clone()\n"
        "            above[i] += h\n"
        "            below[i] -= h\n"
        "            gradient[i] = (f(above) - f(below)) / (2 * h)\n"
        "    return gradient\n"), fails="ex1_tests", hint="x[i] of a matrix is a whole row",
            why="len() and x[i] assume a vector"),
    # "Leave x exactly as it was": each way of changing it gets the hint that names it.
    Mistake("ex1-flag-switched-off", numerical_gradient("    x.requires_grad_(False)\n" + LOOP.format(
        setup="x.to(torch.float64).clone()", step="(above - below) / (2 * h)", result="gradient")),
        fails="ex1_tests", hint="x's requires_grad was switched", why="turns x's flag off to write into a copy"),
    Mistake("ex1-x-converted", numerical_gradient("    x.data = x.data.to(torch.float64)\n" + LOOP.format(
        setup="x.detach()", step="(above - below) / (2 * h)", result="gradient")),
        fails="ex1_tests", hint="x itself was converted", why="converts x itself to float64 through .data"),
    Mistake("ex1-writes-into-x", numerical_gradient(
        "    point = x.detach().to(torch.float64)\n"
        "    gradient = torch.zeros_like(point)\n"
        "    flat_point, flat_gradient = point.view(-1), gradient.view(-1)\n"
        "    with torch.no_grad():\n"
        "        for i in range(point.numel()):\n"
        "            flat_point[i] += h\n            above = f(point)\n"
        "            flat_point[i] -= 2 * h\n            below = f(point)\n"
        "            flat_point[i] += h\n"
        "            flat_gradient[i] = (above - below) / (2 * h)\n"
        "    return gradient\n"),
        fails="ex1_tests", hint="for a float64 x, .to(torch.float64) is x itself",
        why="no copy: a float64 x is moved in place, and += h, -= 2h, += h does not bring it back exactly"),
    # Exercise 2: relative_error and directional_check.
    Correct("ex2-numpy-nan-to-num", {"ex2_answer": (
        "def relative_error(a, n):\n"
        "    a = np.asarray(torch.as_tensor(a).detach().double())\n"
        "    n = np.asarray(torch.as_tensor(n).detach().double())\n"
        "    scale = np.maximum(np.abs(a), np.abs(n))\n"
        "    with np.errstate(invalid='ignore', divide='ignore'):\n"
        "        ratio = np.nan_to_num(np.abs(a - n) / scale, nan=0.0)\n"
        "    return float(ratio.max())\n\n\n"
        "def directional_check(f, grad_f, x, v, h=1e-6):\n"
        "    x, v = x.detach().double(), v.detach().double()\n"
        "    analytic = torch.dot(grad_f(x).double().flatten(), v.flatten())\n"
        "    numerical = (f(x + h * v).detach() - f(x - h * v).detach()) / (2 * h)\n"
        "    return relative_error(analytic, numerical)\n")}),
    Correct("ex2-masked-floats", {"ex2_answer": (
        "def relative_error(a, n):\n"
        "    a = torch.as_tensor(a, dtype=torch.float64).detach().flatten()\n"
        "    n = torch.as_tensor(n, dtype=torch.float64).detach().flatten()\n"
        "    worst = 0.0\n"
        "    for ai, ni in zip(a.tolist(), n.tolist()):\n"
        "        if ai != 0 or ni != 0:\n"
        "            worst = max(worst, abs(ai - ni) / max(abs(ai), abs(ni)))\n"
        "    return worst\n\n\n"
        "def directional_check(f, grad_f, x, v, h=1e-6):\n"
        "    x64 = x.detach().to(torch.float64)\n"
        "    v64 = v.detach().to(torch.float64)\n"
        "    analytic = float((grad_f(x64) * v64).sum())\n"
        "    with torch.no_grad():\n"
        "        numerical = float(f(x64 + h * v64) - f(x64 - h * v64)) / (2 * h)\n"
        "    return relative_error(torch.tensor(analytic), torch.tensor(numerical))\n")}),
    Correct("ex2-where-and-tensordot", ex2(
        relative_error=("def relative_error(a, n):\n"
                        "    a, n = torch.as_tensor(a).double(), torch.as_tensor(n).double()\n"
                        "    scale = torch.maximum(a.abs(), n.abs())\n"
                        "    ratio = torch.where(scale > 0, (a - n).abs() / scale, torch.zeros_like(scale))\n"
                        "    return float(ratio.max())\n"),
        analytic="torch.tensordot(grad_f(point).to(torch.float64), direction, dims=direction.dim())")),
    Mistake("ex2-nan-for-zeros", relative_error("    return ((a - n).abs() / torch.maximum(a.abs(), n.abs())).max().item()\n"),
            fails="ex2_tests", hint="0 against 0 gives 0/0 = nan", why="0/0 where both are 0"),
    Mistake("ex2-divide-by-a", relative_error(
        "    ratio = (a - n).abs() / torch.where(a == 0, torch.ones_like(a), a.abs())\n"
        "    return ratio.max().item()\n"), fails="ex2_tests", hint="not always by the same one of them",
            why="relative to the analytic value only: not symmetric"),
    Mistake("ex2-no-abs-in-max", relative_error(
        "    scale = torch.maximum(a, n)\n"
        "    return ((a - n).abs() / torch.where(scale == 0, torch.ones_like(scale), scale)).max().item()\n"),
            fails="ex2_tests", hint="max(a_i, n_i) of two negative numbers", why="max of signed values"),
    Mistake("ex2-mean", relative_error(
        "    scale = torch.maximum(a.abs(), n.abs())\n"
        "    return ((a - n).abs() / torch.where(scale == 0, torch.ones_like(scale), scale)).mean().item()\n"),
            fails="ex2_tests", hint="not their mean", why="averages away the worst element"),
    Mistake("ex2-whole-tensors", relative_error(
        "    scale = max(a.abs().max().item(), n.abs().max().item())\n"
        "    return (a - n).abs().max().item() / scale if scale > 0 else 0.0\n"),
            fails="ex2_tests", hint="over the whole tensors mixes elements", why="one scale for every element"),
    Mistake("ex2-sum-denominator", relative_error(
        "    scale = a.abs() + n.abs()\n"
        "    return ((a - n).abs() / torch.where(scale == 0, torch.ones_like(scale), scale)).max().item()\n"),
            fails="ex2_tests", hint="not by |a_i| + |n_i|", why="another normalisation, half as large"),
    Mistake("ex2-epsilon", relative_error(
        "    return ((a - n).abs() / (torch.maximum(a.abs(), n.abs()) + 1e-8)).max().item()\n"),
            fails="ex2_tests", hint="do not add a small number to the denominator", why="eps swamps small gradients"),
    Mistake("ex2-float32", ex2(relative_error=RELATIVE_ERROR.replace("torch.float64", "torch.float32")),
            fails="ex2_tests", hint="in float32, 1 and 1 + 1e-12 are the same number", why="compares in float32"),
    Mistake("ex2-returns-tensor", ex2(relative_error=RELATIVE_ERROR.replace(".max().item()", ".max()")),
            fails="ex2_tests", hint="with .item()", why="a 0-dim tensor, not a float"),
    Mistake("ex2-one-sided", ex2(numerical="(f(point + h * direction) - f(point)) / h"), fails="ex2_tests",
            hint="one-sided (f(x + h v) - f(x)) / h", why="forward difference along v, already in float64"),
    Mistake("ex2-divide-by-h", ex2(numerical="(f(point + h * direction) - f(point - h * direction)) / h"),
            fails="ex2_tests", hint="divide by 2h", why="the two points are 2h apart"),
    Mistake("ex2-unit-direction", ex2(numerical=(
        "(f(point + h * direction / direction.norm()) - f(point - h * direction / direction.norm())) / (2 * h)")),
            fails="ex2_tests", hint="not along v / |v|", why="normalises v on one side only"),
    Mistake("ex2-not-summed", ex2(analytic="grad_f(point).to(torch.float64) * direction"), fails="ex2_tests",
            hint="sum the products over the elements", why="elementwise products instead of the dot product"),
    Mistake("ex2-float32-differences", ex2(analytic="(grad_f(x.detach()) * v).sum()",
                                           numerical="(f(x.detach() + h * v) - f(x.detach() - h * v)) / (2 * h)"),
            fails="ex2_tests", hint="compute both numbers in float64", why="float32 differences with h = 1e-6"),
    Mistake("ex2-autograd-not-grad-f", ex2(analytic=(
        "torch.dot(torch.func.grad(f)(point).flatten(), direction.flatten())")), fails="ex2_tests",
            hint="with the grad_f you are given", why="checks autograd instead of the hand-written gradient"),
    Mistake("ex2-per-element", ex2(numerical=(
        "sum((f(point + h * e.view_as(point)) - f(point - h * e.view_as(point))) / (2 * h) * d\n"
        "                        for e, d in zip(torch.eye(point.numel(), dtype=torch.float64), direction.flatten()))")),
            fails="ex2_tests", hint="two evaluations, not one pair per element",
            why="the full numerical gradient dotted with v: 2n evaluations, and another truncation error"),
    # The tests' checks are not the answer's to use (README, point 6).
    Flagged("ex1-tests-itself", {"ex1_answer": loop()["ex1_answer"]
                                 + "\n\ncheck_central_difference(numerical_gradient, [1.0, -2.0, 0.5], 0.1)\n"},
            finding="uses check_central_difference, a check of the tests",
            why="copies the test cell's check into the answer"),
]
