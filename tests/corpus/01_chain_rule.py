"""Misconceptions and correct answers for 01_chain_rule."""

from misconceptions import Correct, Flagged, Mistake


def chain_rule(body: str) -> dict[str, str]:
    return {"ex1_answer": "def chain_rule_derivative(x):\n" + body}


def with_autograd(body: str, before: str = "") -> dict[str, str]:
    return {"ex2_answer": before + "def autograd_derivative(f, x):\n" + body}


# A module-level leaf that every call refills: the way to reuse a leaf, for answers that reuse one.
REUSED_LEAF = "leaf = torch.tensor(0.0, requires_grad=True)\n\n\n"
REFILL = "    with torch.no_grad():\n        leaf.fill_(x)\n"

CASES = [
    # Exercise 1: d/dx e^{sin(x²)} from the chain-rule formula.
    Correct("ex1-float64-formula", chain_rule(
        "    t = torch.tensor(x, dtype=torch.float64)\n"
        "    return torch.exp(torch.sin(t**2)) * torch.cos(t**2) * 2 * t\n")),
    Correct("ex1-math-then-tensor", chain_rule(
        "    return torch.tensor(math.exp(math.sin(x**2)) * math.cos(x**2) * 2 * x)\n")),
    Correct("ex1-numpy", chain_rule(
        "    return torch.as_tensor(np.exp(np.sin(x**2)) * np.cos(x**2) * 2 * x)\n")),
    Correct("ex1-local-derivatives", chain_rule(
        "    x = torch.as_tensor(x, dtype=torch.float64)\n"
        "    y = x**2\n"
        "    z = torch.sin(y)\n"
        "    du_dz, dz_dy, dy_dx = torch.exp(z), torch.cos(y), 2 * x\n"
        "    return du_dz * dz_dy * dy_dx\n")),
    Mistake("ex1-no-inner-derivative", chain_rule(
        "    t = torch.tensor(x)\n"
        "    return torch.exp(torch.sin(t**2)) * torch.cos(t**2)\n"),
        fails="ex1_tests", hint="dy/dx = 2x is missing", why="forgets dy/dx = 2x"),
    Mistake("ex1-no-middle-derivative", chain_rule(
        "    t = torch.tensor(x)\n"
        "    return torch.exp(torch.sin(t**2)) * 2 * t\n"),
        fails="ex1_tests", hint="dz/dy = cos(x²) is missing", why="differentiates only the outer and inner links"),
    Mistake("ex1-minus-cos", chain_rule(
        "    t = torch.tensor(x)\n"
        "    return torch.exp(torch.sin(t**2)) * -torch.cos(t**2) * 2 * t\n"),
        fails="ex1_tests", hint="the derivative of sin is +cos", why="confuses d sin with d cos"),
    Mistake("ex1-cos-at-x", chain_rule(
        "    t = torch.tensor(x)\n"
        "    return torch.exp(torch.sin(t**2)) * torch.cos(t) * 2 * t\n"),
        fails="ex1_tests", hint="evaluate cos at y = x²", why="evaluates the middle derivative at x, not at y = x²"),
    Mistake("ex1-differentiates-inside-exp", chain_rule(
        "    t = torch.tensor(x)\n"
        "    return torch.exp(torch.cos(t**2)) * 2 * t\n"),
        fails="ex1_tests", hint="e^z is its own derivative", why="differentiates the exponent inside the exp"),
    Mistake("ex1-sine-squared", chain_rule(
        "    t = torch.tensor(x)\n"
        "    return torch.exp(torch.sin(t)**2) * 2 * torch.sin(t) * torch.cos(t)\n"),
        fails="ex1_tests", hint="not (sin x)²", why="reads sin(x²) as (sin x)²"),
    Mistake("ex1-adds-local-derivatives", chain_rule(
        "    t = torch.tensor(x)\n"
        "    return torch.exp(torch.sin(t**2)) + torch.cos(t**2) + 2 * t\n"),
        fails="ex1_tests", hint="it does not add them", why="sums the local derivatives"),
    Mistake("ex1-returns-float", chain_rule(
        "    return math.exp(math.sin(x**2)) * math.cos(x**2) * 2 * x\n"),
        fails="ex1_tests", hint="return a torch.Tensor", why="right number as a Python float"),
    Mistake("ex1-hard-coded", chain_rule(
        "    return torch.tensor(0.30552683)\n"),
        fails="ex1_tests", hint="not only at 5.47", why="the visible case's value, for every x"),
    Mistake("ex1-uses-backward", chain_rule(
        "    t = torch.tensor(x, requires_grad=True)\n"
        "    torch.exp(torch.sin(t**2)).backward()\n"
        "    return t.grad\n"),
        fails="ex1_tests", hint="rule is the chain-rule formula, with no backward pass, but your code called backward()",
        why="breaks the rule: autograd instead of the formula"),
    Mistake("ex1-uses-autograd-grad", chain_rule(
        "    t = torch.tensor(x, requires_grad=True)\n"
        "    return torch.autograd.grad(torch.exp(torch.sin(t**2)), t)[0]\n"),
        fails="ex1_tests", hint="called torch.autograd.grad 1 time", why="breaks the rule with another autograd API"),

    # Exercise 2: f'(x) for any f, with autograd.
    Correct("ex2-autograd-grad", with_autograd(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (slope,) = torch.autograd.grad(f(leaf), leaf)\n"
        "    return slope\n")),
    Correct("ex2-func-grad", with_autograd(
        "    return torch.func.grad(f)(torch.tensor(x))\n")),
    Correct("ex2-float64-leaf", with_autograd(
        "    leaf = torch.tensor(x, dtype=torch.float64, requires_grad=True)\n"
        "    f(leaf).backward()\n"
        "    return leaf.grad\n")),
    Correct("ex2-jacobian", with_autograd(
        "    return torch.autograd.functional.jacobian(f, torch.tensor(x))\n")),
    Correct("ex2-reused-leaf-zeroed-copy", with_autograd(
        REFILL + "    if leaf.grad is not None:\n        leaf.grad.zero_()\n    f(leaf).backward()\n"
        "    return leaf.grad.clone()\n", before=REUSED_LEAF)),
    # The answer rules allow an answer's own _private helpers and container methods on a class of its own.
    Correct("ex2-private-helper", with_autograd(
        "    leaf = _leaf_at(x)\n    f(leaf).backward()\n    return leaf.grad\n",
        before="def _leaf_at(x):\n    return torch.tensor(x, requires_grad=True)\n\n\n")),
    Correct("ex2-history-container", with_autograd(
        "    leaf = torch.tensor(x, requires_grad=True)\n    f(leaf).backward()\n"
        "    HISTORY[len(HISTORY)] = leaf.grad\n    return HISTORY[len(HISTORY) - 1]\n",
        before="class History:\n    def __init__(self):\n        self.slopes = {}\n\n"
               "    def __getitem__(self, index):\n        return self.slopes[index]\n\n"
               "    def __setitem__(self, index, slope):\n        self.slopes[index] = slope\n\n"
               "    def __len__(self):\n        return len(self.slopes)\n\n\nHISTORY = History()\n\n\n")),
    Mistake("ex2-returns-value", with_autograd(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    value = f(leaf)\n"
        "    value.backward()\n"
        "    return value\n"),
        fails="ex2_tests", hint="you returned f(x), the value", why="returns the output, not the gradient"),
    Mistake("ex2-returns-leaf", with_autograd(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    f(leaf).backward()\n"
        "    return leaf\n"),
        fails="ex2_tests", hint="you returned x itself", why="returns the leaf instead of its .grad"),
    Mistake("ex2-grad-before-backward", with_autograd(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    f(leaf)\n"
        "    return leaf.grad\n"),
        fails="ex2_tests", hint="call backward() on f(leaf) before reading leaf.grad", why="never runs backward()"),
    Mistake("ex2-no-requires-grad", with_autograd(
        "    leaf = torch.tensor(x)\n"
        "    f(leaf).backward()\n"
        "    return leaf.grad\n"),
        fails="ex2_tests", hint="'does not require grad' means the leaf needs requires_grad=True",
        why="a leaf autograd does not track"),
    Mistake("ex2-calls-f-on-float", with_autograd(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    f(x).backward()\n"
        "    return leaf.grad\n"),
        fails="ex2_tests", hint="call f on the leaf, not on the float x", why="f never sees the leaf"),
    Mistake("ex2-returns-number", with_autograd(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    f(leaf).backward()\n"
        "    return leaf.grad.item()\n"),
        fails="ex2_tests", hint="not a Python number", why="returns a float"),
    Mistake("ex2-reused-leaf", with_autograd(
        REFILL + "    f(leaf).backward()\n    return leaf.grad\n", before=REUSED_LEAF),
        fails="ex2_tests", hint="the .grad of a reused leaf adds up", why="gradients accumulate on a reused leaf"),
    Mistake("ex2-aliased-grad", with_autograd(
        REFILL + "    if leaf.grad is not None:\n        leaf.grad.zero_()\n    f(leaf).backward()\n    return leaf.grad\n",
        before=REUSED_LEAF),
        fails="ex2_tests", hint="changed the tensor the first call returned",
        why="zeroes the reused leaf's .grad in place: every result is one tensor, the last call's"),
    Mistake("ex2-leaf-cached-per-x", with_autograd(
        "    if x not in LEAVES:\n        LEAVES[x] = torch.tensor(x, requires_grad=True)\n"
        "    f(LEAVES[x]).backward()\n    return LEAVES[x].grad\n", before="LEAVES = {}\n\n\n"),
        fails="ex2_tests", hint="the .grad of a leaf kept per x adds up over calls with the same x",
        why="one leaf per input value: right until an input comes again"),
    Mistake("ex2-result-cached-per-x", with_autograd(
        "    if x not in SLOPES:\n        leaf = torch.tensor(x, requires_grad=True)\n        f(leaf).backward()\n"
        "        SLOPES[x] = leaf.grad\n    return SLOPES[x]\n", before="SLOPES = {}\n\n\n"),
        fails="ex2_tests", hint="you returned the derivative of sin(x²), the first call's f",
        why="remembers the slope per x, as if f never changed"),
    Mistake("ex2-hard-coded-formula", with_autograd(
        "    t = torch.tensor(x)\n"
        "    return torch.cos(t**2) * 2 * t\n"),
        fails="ex2_tests", hint="differentiate the f you are given", why="the derivative of the example, for every f"),
    Mistake("ex2-finite-difference", with_autograd(
        "    h = 1e-6\n"
        "    up, down = torch.tensor(x + h, dtype=torch.float64), torch.tensor(x - h, dtype=torch.float64)\n"
        "    return (f(up) - f(down)) / (2 * h)\n"),
        fails="ex2_tests", hint="rule is to ask autograd for the derivative",
        why="breaks the rule: a float64 central difference has the right digits"),

    # The tests' checks are not the answer's to use (README, point 6), whatever the numbers it returns.
    Flagged("ex1-reads-the-checks-message", chain_rule(
        "    try:\n        check_chain_rule(lambda t: torch.tensor(0.0), x)\n"
        "    except Exception as failed:\n"
        "        return torch.tensor(float(str(failed).split('expected ')[1].split(',')[0]))\n"),
        finding="uses check_chain_rule, a check of the tests", why="takes the expected value from the tests' message"),
    Flagged("ex2-tests-itself", {"ex2_answer": "def autograd_derivative(f, x):\n"
                                 "    leaf = torch.tensor(x, requires_grad=True)\n    f(leaf).backward()\n"
                                 "    return leaf.grad\n\n\ncheck_repeated_calls(autograd_derivative)\n"},
            finding="uses check_repeated_calls, a check of the tests", why="copies the test cell's check into the answer"),
]
