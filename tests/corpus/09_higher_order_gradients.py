"""Misconceptions and correct answers for 09_higher_order_gradients."""

from misconceptions import Correct, Mistake


def second(body: str) -> dict[str, str]:
    return {"ex1_answer": "def second_derivative(f, x):\n" + body}


def hvp(body: str) -> dict[str, str]:
    return {"ex2_answer": "def hessian_vector_product(f, x, v):\n" + body}


CASES = [
    # Exercise 1: f'' with autograd twice, zero when f' has no graph.
    Correct("ex1-float64-try-except", second(
        "    leaf = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    try:\n"
        "        (result,) = torch.autograd.grad(first, leaf)\n"
        "    except RuntimeError:\n"
        "        return torch.zeros((), dtype=torch.float64)\n"
        "    return result\n")),
    Correct("ex1-func-grad-twice", second(
        "    return torch.func.grad(torch.func.grad(f))(torch.tensor(x))\n")),
    Correct("ex1-grad-fn-then-backward", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    if first.grad_fn is None:\n"
        "        return torch.tensor(0.0)\n"
        "    first.backward()\n"
        "    return leaf.grad\n")),
    Mistake("ex1-no-create-graph", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(leaf), leaf)\n"
        "    return torch.autograd.grad(first, leaf)[0]\n"),
        fails="ex1_tests", hint="pass create_graph=True to the first", why="f' comes back as a constant"),
    Mistake("ex1-backward-twice-accumulates", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    f(leaf).backward(create_graph=True)\n"
        "    leaf.grad.backward()\n"
        "    return leaf.grad\n"),
        fails="ex1_tests", hint="that is f' + f''", why="pitfall 5.1: .grad holds f' when f'' is added"),
    Mistake("ex1-returns-first-derivative", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    return first\n"),
        fails="ex1_tests", hint="that is f'(x), the first derivative", why="stops after one pass"),
    Mistake("ex1-zero-branch-always", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(leaf), leaf)\n"
        "    if not first.requires_grad:\n"
        "        return torch.zeros(())\n"
        "    return torch.autograd.grad(first, leaf)[0]\n"),
        fails="ex1_tests", hint="your zero branch (or except clause) always runs",
        why="without create_graph every f' looks constant"),
    Mistake("ex1-except-hides-error", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    try:\n"
        "        (first,) = torch.autograd.grad(f(leaf), leaf)\n"
        "        return torch.autograd.grad(first, leaf)[0]\n"
        "    except Exception:\n"
        "        return torch.tensor(0.0)\n"),
        fails="ex1_tests", hint="your zero branch (or except clause) always runs", why="a catch-all hides the error"),
    Mistake("ex1-linear-raises", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    return torch.autograd.grad(first, leaf)[0]\n"),
        fails="ex1_tests", hint="return a zero tensor (3.4)", why="no case for an f' without a graph"),
    Mistake("ex1-linear-returns-first", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    if first.grad_fn is None:\n"
        "        return first\n"
        "    return torch.autograd.grad(first, leaf)[0]\n"),
        fails="ex1_tests", hint="return a zero tensor (3.4)", why="returns f' itself when it is constant"),
    Mistake("ex1-python-float", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    return torch.autograd.grad(first, leaf)[0].item()\n"),
        fails="ex1_tests", hint="return a torch.Tensor", why=".item() gives a float"),
    Mistake("ex1-f-of-the-float", second(
        "    leaf = torch.tensor(x, requires_grad=True)\n"
        "    (first,) = torch.autograd.grad(f(x), leaf, create_graph=True)\n"
        "    return torch.autograd.grad(first, leaf)[0]\n"),
        fails="ex1_tests", hint="call f on your leaf tensor", why="f is called on the float, not the leaf"),
    Mistake("ex1-formula-for-sin-square", second(
        "    t = torch.tensor(x)\n"
        "    return 2 * torch.cos(t**2) - 4 * t**2 * torch.sin(t**2)\n"),
        fails="ex1_tests", hint="differentiate the f you are given twice with autograd", why="a formula for the visible f only"),
    Mistake("ex1-rule-finite-differences", second(
        "    h = 1e-4\n"
        "    at = torch.tensor(x, dtype=torch.float64)\n"
        "    return (f(at + h) - 2 * f(at) + f(at - h)) / h**2\n"),
        fails="ex1_tests", hint="to differentiate twice with autograd", why="second difference, no autograd"),
    Mistake("ex1-rule-difference-of-gradients", second(
        "    def first(at):\n"
        "        leaf = torch.tensor(at, dtype=torch.float64, requires_grad=True)\n"
        "        return torch.autograd.grad(f(leaf), leaf)[0]\n"
        "    h = 1e-6\n"
        "    return (first(x + h) - first(x - h)) / (2 * h)\n"),
        fails="ex1_tests", hint="to differentiate twice with autograd", why="autograd once, then a finite difference"),

    # Exercise 2: H v from two backward passes, never the Hessian.
    Correct("ex2-grad-outputs-v", hvp(
        "    leaf = x.detach().clone().requires_grad_(True)\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    return torch.autograd.grad(gradient, leaf, grad_outputs=v)[0]\n")),
    Correct("ex2-second-pass-backward", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    (gradient * v).sum().backward()\n"
        "    return leaf.grad\n")),
    Correct("ex2-dot-one-liner", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    return torch.autograd.grad(torch.dot(torch.autograd.grad(f(leaf), leaf, create_graph=True)[0], v), leaf)[0]\n")),
    Mistake("ex2-no-create-graph", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf)\n"
        "    return torch.autograd.grad(gradient @ v, leaf)[0]\n"),
        fails="ex2_tests", hint="pass create_graph=True to the first", why="the gradient has no graph"),
    Mistake("ex2-gradient-sum", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    return torch.autograd.grad(gradient.sum(), leaf)[0]\n"),
        fails="ex2_tests", hint="that is H·1", why="differentiates the sum of the gradient"),
    Mistake("ex2-v-after-the-pass", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    return torch.autograd.grad(gradient.sum(), leaf)[0] * v\n"),
        fails="ex2_tests", hint="that is (H·1)∘v", why="multiplies by v outside the second pass"),
    Mistake("ex2-gradient-times-v", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf)\n"
        "    return gradient * v\n"),
        fails="ex2_tests", hint="that is ∇f∘v", why="one pass only"),
    Mistake("ex2-backward-accumulates", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    f(leaf).backward(create_graph=True)\n"
        "    (leaf.grad @ v).backward()\n"
        "    return leaf.grad.detach()\n"),
        fails="ex2_tests", hint="that is ∇f + Hv", why="pitfall 5.1 with a vector"),
    Mistake("ex2-float32-leaf", hvp(
        "    leaf = torch.tensor(x.tolist(), requires_grad=True)\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    return torch.autograd.grad(gradient @ v.float(), leaf)[0]\n"),
        fails="ex2_tests", hint="keeps x's dtype", why="torch.tensor(list) is float32"),
    Mistake("ex2-marks-callers-x", hvp(
        "    leaf = x.requires_grad_()\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    return torch.autograd.grad(gradient @ v, leaf)[0]\n"),
        fails="ex2_tests", hint="the caller's x after", why="marks the caller's tensor"),
    Mistake("ex2-rule-functional-hessian", hvp(
        "    return torch.autograd.functional.hessian(f, x) @ v\n"),
        fails="ex2_tests", hint="not a ready-made helper", why="the full Hessian from torch"),
    Mistake("ex2-rule-functional-hvp", hvp(
        "    return torch.autograd.functional.hvp(f, x, v)[1]\n"),
        fails="ex2_tests", hint="not a ready-made helper", why="torch's hvp instead of the two passes"),
    Mistake("ex2-rule-func-hessian", {"ex2_answer": (
        "from torch.func import hessian as second_derivatives\n\n\n"
        "def hessian_vector_product(f, x, v):\n"
        "    return second_derivatives(f)(x) @ v\n")},
        fails="ex2_tests", hint="not a ready-made helper", why="torch.func.hessian under another name"),
    Mistake("ex2-rule-forward-over-reverse", hvp(
        "    return torch.func.jvp(torch.func.grad(f), (x.detach(),), (v,))[1]\n"),
        fails="ex2_tests", hint="not a ready-made helper", why="forward-over-reverse, not two backward passes"),
    Mistake("ex2-rule-rows-of-the-hessian", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    rows = [torch.autograd.grad(gradient @ unit, leaf, retain_graph=True)[0]\n"
        "            for unit in torch.eye(len(x), dtype=x.dtype)]\n"
        "    return torch.stack(rows) @ v\n"),
        fails="ex2_tests", hint="exactly two backward passes", why="n products build H, then H @ v"),
    Mistake("ex2-rule-batched-hessian", hvp(
        "    leaf = x.detach().requires_grad_()\n"
        "    (gradient,) = torch.autograd.grad(f(leaf), leaf, create_graph=True)\n"
        "    identity = torch.eye(len(x), dtype=x.dtype)\n"
        "    (hessian,) = torch.autograd.grad(gradient, leaf, grad_outputs=identity, is_grads_batched=True)\n"
        "    return hessian @ v\n"),
        fails="ex2_tests", hint="no n × n Hessian", why="the whole Hessian in two passes"),
    Mistake("ex2-rule-difference-of-gradients", hvp(
        "    def gradient_at(point):\n"
        "        leaf = point.detach().requires_grad_()\n"
        "        return torch.autograd.grad(f(leaf), leaf)[0]\n"
        "    h = 1e-3\n"
        "    x64, v64 = x.double(), v.double()\n"
        "    return ((gradient_at(x64 + h * v64) - gradient_at(x64 - h * v64)) / (2 * h)).to(x.dtype)\n"),
        fails="ex2_tests", hint="not finite differences of the gradient", why="a difference of gradients along v"),
]
