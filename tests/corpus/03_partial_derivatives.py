"""Misconceptions and correct answers for 03_partial_derivatives."""

from misconceptions import Correct, Flagged, Mistake


def partials(body: str) -> dict[str, str]:
    return {"ex1_answer": "def partials_by_hand(x, y):\n" + body}


def gradient(body: str, before: str = "") -> dict[str, str]:
    return {"ex2_answer": before + "def gradient_with_autograd(f, point):\n" + body}


def directional(body: str) -> dict[str, str]:
    return {"ex3_answer": "def directional_derivative(f, point, direction):\n" + body}


XY = "    x, y = torch.tensor(x), torch.tensor(y)\n"
FLOAT_LEAF = "    leaf = torch.tensor(point, dtype=torch.float32, requires_grad=True)\n"
# The gradient by autograd, then the unit direction, for the exercise 3 answers that differ only after it.
GRAD_AND_STEP = FLOAT_LEAF + "    f(leaf).backward()\n    step = torch.tensor(direction, dtype=torch.float32)\n"
REUSED_LEAF = "leaf = torch.zeros(3, requires_grad=True)\n\n\n"
REFILL = ("    global leaf\n    if leaf.shape != (len(point),):\n        leaf = torch.zeros(len(point), requires_grad=True)\n"
          "    with torch.no_grad():\n        leaf.copy_(torch.tensor(point, dtype=torch.float32))\n")

CASES = [
    # Exercise 1: the two partials of g(x, y) = x²y + sin y by hand.
    Correct("ex1-math-then-tensor", partials(
        "    return torch.tensor([2 * x * y, x**2 + math.cos(y)])\n")),
    Correct("ex1-float64-stack", partials(
        "    x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)\n"
        "    return torch.stack((2 * x * y, x * x + torch.cos(y)))\n")),
    Correct("ex1-numpy", partials(
        "    return torch.from_numpy(np.array([2 * x * y, x**2 + np.cos(y)]))\n")),
    Correct("ex1-named-partials", partials(
        "    dg_dx = 2.0 * x * y\n"
        "    dg_dy = x**2 + math.cos(y)\n"
        "    return torch.as_tensor([dg_dx, dg_dy])\n")),
    Mistake("ex1-drops-y", partials(XY + "    return torch.stack([2 * x, x**2 + torch.cos(y)])\n"),
            fails="ex1_tests", hint="y is a constant factor, keep it", why="differentiates x² and forgets its factor y"),
    Mistake("ex1-drops-x-squared", partials(XY + "    return torch.stack([2 * x * y, torch.cos(y)])\n"),
            fails="ex1_tests", hint="∂(x²y)/∂y = x²", why="treats x²y as constant in y"),
    Mistake("ex1-minus-cos", partials(XY + "    return torch.stack([2 * x * y, x**2 - torch.cos(y)])\n"),
            fails="ex1_tests", hint="the derivative of sin y is +cos y", why="sign of d sin"),
    Mistake("ex1-sin-not-differentiated", partials(XY + "    return torch.stack([2 * x * y, x**2 + torch.sin(y)])\n"),
            fails="ex1_tests", hint="its derivative is cos y", why="copies sin y unchanged"),
    Mistake("ex1-sin-in-x-partial", partials(XY + "    return torch.stack([2 * x * y + torch.cos(y), x**2 + torch.cos(y)])\n"),
            fails="ex1_tests", hint="sin y does not depend on x", why="differentiates every term in every variable"),
    Mistake("ex1-swapped-order", partials(XY + "    return torch.stack([x**2 + torch.cos(y), 2 * x * y])\n"),
            fails="ex1_tests", hint="in that order", why="(∂g/∂y, ∂g/∂x)"),
    Mistake("ex1-total-derivative", partials(XY + "    return 2 * x * y + x**2 + torch.cos(y)\n"),
            fails="ex1_tests", hint="the gradient is a vector, not their sum", why="adds the partials"),
    Mistake("ex1-returns-list", partials("    return [2 * x * y, x**2 + math.cos(y)]\n"),
            fails="ex1_tests", hint="put both partials in one tensor", why="a list, not a tensor"),
    Mistake("ex1-uses-backward", partials(
        "    v = torch.tensor([x, y], requires_grad=True)\n"
        "    (v[0]**2 * v[1] + torch.sin(v[1])).backward()\n"
        "    return v.grad\n"),
        fails="ex1_tests", hint="rule is formulas you derive, with no backward pass", why="breaks the rule"),
    Mistake("ex1-notebook-finite-difference", partials(
        "    return central_difference(lambda v: v[0]**2 * v[1] + torch.sin(v[1]), [x, y])\n"),
        fails="ex1_tests", hint="called central_difference, which measures the slopes by a finite difference",
        why="breaks the rule: the notebook's own finite-difference helper instead of derived formulas"),

    # Exercise 2: the whole gradient with one backward pass.
    Correct("ex2-autograd-grad", gradient(
        FLOAT_LEAF + "    return torch.autograd.grad(f(leaf), leaf)[0]\n")),
    Correct("ex2-func-grad", gradient("    return torch.func.grad(f)(torch.tensor(point, dtype=torch.float32))\n")),
    Correct("ex2-float64", gradient(
        "    leaf = torch.tensor(point, dtype=torch.float64, requires_grad=True)\n"
        "    f(leaf).backward()\n"
        "    return leaf.grad\n")),
    Correct("ex2-as-tensor-float", gradient(
        "    leaf = torch.as_tensor(point).float().requires_grad_()\n"
        "    f(leaf).backward()\n"
        "    return leaf.grad\n")),
    Mistake("ex2-integer-leaf", gradient(
        "    leaf = torch.tensor(point, requires_grad=True)\n"
        "    f(leaf).backward()\n"
        "    return leaf.grad\n"),
        fails="ex2_tests", hint="'Only Tensors of floating point' means the leaf is an integer tensor",
        why="whole numbers make an int64 tensor"),
    Mistake("ex2-returns-value", gradient(FLOAT_LEAF + "    value = f(leaf)\n    value.backward()\n    return value\n"),
            fails="ex2_tests", hint="you returned f(point), the value", why="the output, not the gradient"),
    Mistake("ex2-no-requires-grad", gradient(
        "    leaf = torch.tensor(point, dtype=torch.float32)\n    f(leaf).backward()\n    return leaf.grad\n"),
        fails="ex2_tests", hint="'does not require grad' means the leaf needs requires_grad=True",
        why="a leaf autograd does not track"),
    Mistake("ex2-returns-list", gradient(FLOAT_LEAF + "    f(leaf).backward()\n    return leaf.grad.tolist()\n"),
            fails="ex2_tests", hint="not a list or numbers", why="a list, not a tensor"),
    Mistake("ex2-reused-leaf", gradient(REFILL + "    f(leaf).backward()\n    return leaf.grad\n", before=REUSED_LEAF),
            fails="ex2_tests", hint="the .grad of a reused leaf adds up", why="gradients accumulate on a reused leaf"),
    Mistake("ex2-aliased-grad", gradient(
        REFILL + "    if leaf.grad is not None:\n        leaf.grad.zero_()\n    f(leaf).backward()\n    return leaf.grad\n",
        before=REUSED_LEAF),
        fails="ex2_tests", hint="changed the tensor the first call returned", why="every result is one tensor"),
    Mistake("ex2-leaf-cached-per-point", gradient(
        "    key = tuple(point)\n    if key not in LEAVES:\n"
        "        LEAVES[key] = torch.tensor(point, dtype=torch.float32, requires_grad=True)\n"
        "    f(LEAVES[key]).backward()\n    return LEAVES[key].grad\n", before="LEAVES = {}\n\n\n"),
        fails="ex2_tests", hint="the .grad of a leaf kept per point adds up over calls with the same point",
        why="one leaf per input value: right until an input comes again"),
    Mistake("ex2-result-cached-per-point", gradient(
        "    key = tuple(point)\n    if key not in GRADIENTS:\n" + FLOAT_LEAF.replace("    ", "        ", 1)
        + "        f(leaf).backward()\n        GRADIENTS[key] = leaf.grad\n    return GRADIENTS[key]\n",
        before="GRADIENTS = {}\n\n\n"),
        fails="ex2_tests", hint="you returned the gradient of x·y + exp(z), the first call's f",
        why="remembers the gradient per point, as if f never changed"),
    Mistake("ex2-one-partial-at-a-time", gradient(
        "    partials = []\n"
        "    for i in range(len(point)):\n"
        "        leaf = torch.tensor(point, dtype=torch.float32, requires_grad=True)\n"
        "        f(leaf).backward()\n"
        "        partials.append(leaf.grad[i])\n"
        "    return torch.stack(partials)\n"),
        fails="ex2_tests", hint="rule is one backward pass for all coordinates, but your code called backward() 3 times",
        why="one backward per coordinate, as in section 3.2"),
    Mistake("ex2-finite-differences", gradient(
        "    center = torch.tensor(point, dtype=torch.float64)\n"
        "    h = 1e-6\n"
        "    partials = []\n"
        "    for i in range(len(point)):\n"
        "        nudge = torch.zeros(len(point), dtype=torch.float64)\n"
        "        nudge[i] = h\n"
        "        partials.append((f(center + nudge) - f(center - nudge)) / (2 * h))\n"
        "    return torch.stack(partials)\n"),
        fails="ex2_tests", hint="rule is to ask autograd for the gradient", why="breaks the rule: central differences"),

    # Exercise 3: the rate of change along a direction.
    Correct("ex3-autograd-grad-dot", directional(
        "    leaf = torch.tensor(point, dtype=torch.float64, requires_grad=True)\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf)\n"
        "    step = torch.tensor(direction, dtype=torch.float64)\n"
        "    return torch.dot(gradient, step) / torch.linalg.norm(step)\n")),
    Correct("ex3-math-norm", directional(
        GRAD_AND_STEP + "    return (leaf.grad * step).sum() / math.sqrt(sum(d * d for d in direction))\n")),
    Correct("ex3-normalize", directional(
        GRAD_AND_STEP + "    return leaf.grad @ torch.nn.functional.normalize(step, dim=0)\n")),
    Correct("ex3-func-grad", directional(
        "    gradient = torch.func.grad(f)(torch.tensor(point, dtype=torch.float32))\n"
        "    step = torch.tensor(direction, dtype=torch.float32)\n"
        "    return gradient @ step / step.norm()\n")),
    Mistake("ex3-not-normalised", directional(GRAD_AND_STEP + "    return leaf.grad @ step\n"),
            fails="ex3_tests", hint="scale direction to length 1 first", why="the rate along d, not along u"),
    Mistake("ex3-norm-squared", directional(GRAD_AND_STEP + "    return leaf.grad @ step / step.norm()**2\n"),
            fails="ex3_tests", hint="not by ‖d‖²", why="divides twice"),
    Mistake("ex3-normalises-gradient", directional(GRAD_AND_STEP + "    return leaf.grad / leaf.grad.norm() @ step\n"),
            fails="ex3_tests", hint="normalise the direction, not the gradient", why="unit gradient"),
    Mistake("ex3-descent-sign", directional(GRAD_AND_STEP + "    return -(leaf.grad @ step) / step.norm()\n"),
            fails="ex3_tests", hint="the rate of change along u is +∇f · u", why="thinks of gradient descent"),
    Mistake("ex3-elementwise-product", directional(GRAD_AND_STEP + "    return leaf.grad * step / step.norm()\n"),
            fails="ex3_tests", hint="not the vector of products", why="forgets the sum of the dot product"),
    Mistake("ex3-returns-gradient", directional(GRAD_AND_STEP + "    return leaf.grad\n"),
            fails="ex3_tests", hint="not the gradient itself", why="stops at ∇f"),
    # A wrong rate that is no known slip gets the general hint, not a normalisation one it does not need.
    Mistake("ex3-gradient-at-direction", directional(
        "    leaf = torch.tensor(direction, dtype=torch.float32, requires_grad=True)\n"
        "    f(leaf).backward()\n    step = torch.tensor(direction, dtype=torch.float32)\n"
        "    return leaf.grad @ (step / step.norm())\n"),
            fails="ex3_tests", hint="use the gradient at the given point and the given direction scaled to length 1",
            why="normalises the direction, but takes the gradient at the direction instead of the point"),
    Mistake("ex3-keeps-a-dimension", directional(GRAD_AND_STEP + "    return (leaf.grad * step / step.norm()).sum(0, keepdim=True)\n"),
            fails="ex3_tests", hint="a 0-dimensional tensor (shape ()), not of shape (1,)",
            why="the right number in a tensor of shape (1,): a shape slip, not a normalisation one"),
    Mistake("ex3-returns-float", directional(GRAD_AND_STEP + "    return (leaf.grad @ (step / step.norm())).item()\n"),
            fails="ex3_tests", hint="return a 0-dimensional torch.Tensor", why="the prompt asks for a tensor"),
    Mistake("ex3-integer-direction", directional(
        FLOAT_LEAF + "    f(leaf).backward()\n    step = torch.tensor(direction)\n    return leaf.grad @ (step / step.norm())\n"),
        fails="ex3_tests", hint="'floating point' in the message means an integer tensor", why="whole-number direction"),
    Mistake("ex3-finite-difference-along", directional(
        "    start = torch.tensor(point, dtype=torch.float64)\n"
        "    step = torch.tensor(direction, dtype=torch.float64)\n"
        "    unit, h = step / step.norm(), 1e-6\n"
        "    return (f(start + h * unit) - f(start - h * unit)) / (2 * h)\n"),
        fails="ex3_tests", hint="rule is to compute the gradient with autograd", why="breaks the rule"),
    # The tests' checks are not the answer's to use (README, point 6).
    Flagged("ex1-tests-itself", partials("    x, y = torch.tensor(x), torch.tensor(y)\n"
                                         "    return torch.stack([2 * x * y, x**2 + torch.cos(y)])\n\n\n"
                                         "check_partials(partials_by_hand, 1.5, 0.5)\n"),
            finding="uses check_partials, a check of the tests", why="copies the test cell's check into the answer"),
]
