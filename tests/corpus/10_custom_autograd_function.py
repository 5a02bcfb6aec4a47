"""Misconceptions and correct answers for 10_custom_autograd_function."""

from misconceptions import Correct, Mistake


def scaled_tanh(forward, backward):
    """An ex1 answer: the class with these forward and backward bodies (each indented by 8 spaces)."""
    return {"ex1_answer": (
        "class ScaledTanh(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x, scale):\n"
        f"{forward}"
        "\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad_output):\n"
        f"{backward}")}


def stable_softplus(forward, backward):
    """An ex2 answer: the class with these forward and backward bodies (each indented by 8 spaces)."""
    return {"ex2_answer": (
        "class StableSoftplus(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        f"{forward}"
        "\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad_output):\n"
        f"{backward}")}


SAVE_X = "        ctx.save_for_backward(x)\n        ctx.scale = scale\n        return scale * torch.tanh(x)\n"
SAVE_TANH = ("        tanh_x = torch.tanh(x)\n        ctx.save_for_backward(tanh_x)\n        ctx.scale = scale\n"
             "        return scale * tanh_x\n")
FROM_TANH = "        (tanh_x,) = ctx.saved_tensors\n"
STABLE_FORWARD = "        ctx.save_for_backward(x)\n        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))\n"
SIGMOID_BACKWARD = "        (x,) = ctx.saved_tensors\n        return grad_output * torch.sigmoid(x)\n"

CASES = [
    # Exercise 1: ScaledTanh.
    Correct("ex1-save-x-recompute", scaled_tanh(SAVE_X, (
        "        (x,) = ctx.saved_tensors\n"
        "        return grad_output * ctx.scale * (1 - torch.tanh(x) ** 2), None\n"))),
    Correct("ex1-sech-from-cosh", scaled_tanh(SAVE_X, (
        "        (x,) = ctx.saved_tensors\n"
        "        return grad_output * ctx.scale / torch.cosh(x) ** 2, None\n"))),
    Correct("ex1-stable-exp-form", scaled_tanh(SAVE_X, (
        "        (x,) = ctx.saved_tensors\n"
        "        small = torch.exp(-2 * x.abs())  # at most 1: sech^2 x = 4 e^(-2|x|) / (1 + e^(-2|x|))^2\n"
        "        return grad_output * ctx.scale * 4 * small / (1 + small) ** 2, None\n"))),
    Correct("ex1-methods-and-mul", scaled_tanh(
        "        out = x.tanh()\n        ctx.save_for_backward(out)\n        ctx.scale = float(scale)\n        return out.mul(scale)\n",
        FROM_TANH + "        return grad_output.mul(1 - tanh_x.pow(2)).mul(ctx.scale), None\n")),
    Mistake("ex1-no-grad-output", scaled_tanh(SAVE_TANH, FROM_TANH + "        return ctx.scale * (1 - tanh_x**2), None\n"),
            fails="ex1_tests", hint="multiply by grad_output", why="returns the local derivative only"),
    Mistake("ex1-no-scale", scaled_tanh(SAVE_TANH, FROM_TANH + "        return grad_output * (1 - tanh_x**2), None\n"),
            fails="ex1_tests", hint="dy/dx has the factor scale", why="forgets the chain factor scale"),
    Mistake("ex1-tanh-not-squared", scaled_tanh(SAVE_TANH,
                                                FROM_TANH + "        return grad_output * ctx.scale * (1 - tanh_x), None\n"),
            fails="ex1_tests", hint="square tanh(x)", why="1 - tanh x instead of 1 - tanh^2 x"),
    Mistake("ex1-one-minus-x-squared", scaled_tanh(SAVE_X, (
        "        (x,) = ctx.saved_tensors\n        return grad_output * ctx.scale * (1 - x**2), None\n")),
            fails="ex1_tests", hint="not 1 - x**2", why="squares the saved x instead of tanh x"),
    Mistake("ex1-squares-output", scaled_tanh(
        "        y = scale * torch.tanh(x)\n        ctx.save_for_backward(y)\n        ctx.scale = scale\n        return y\n",
        "        (y,) = ctx.saved_tensors\n        return grad_output * ctx.scale * (1 - y**2), None\n"),
            fails="ex1_tests", hint="not the output scale * tanh(x)", why="saves the output and squares it with its scale"),
    Mistake("ex1-exp-overflow", scaled_tanh(SAVE_X, (
        "        (x,) = ctx.saved_tensors\n"
        "        e = torch.exp(-2 * x)\n"
        "        return grad_output * ctx.scale * 4 * e / (1 + e) ** 2, None\n")),
            fails="ex1_tests", hint="inf/inf is NaN", why="sech^2 via exp(-2x): NaN for large negative x"),
    Mistake("ex1-one-gradient", scaled_tanh(SAVE_TANH, FROM_TANH + "        return grad_output * ctx.scale * (1 - tanh_x**2)\n"),
            fails="ex1_tests", hint="one value per forward input", why="no None for scale"),
    Mistake("ex1-zero-for-scale", scaled_tanh(SAVE_TANH,
                                              FROM_TANH + "        return grad_output * ctx.scale * (1 - tanh_x**2), 0.0\n"),
            fails="ex1_tests", hint="its gradient is None", why="0 instead of None for a non-tensor input"),
    Mistake("ex1-scale-as-tensor", scaled_tanh(
        "        ctx.save_for_backward(x)\n        ctx.scale = scale\n        return torch.tensor([scale]) * torch.tanh(x)\n",
        "        (x,) = ctx.saved_tensors\n        return grad_output * ctx.scale * (1 - torch.tanh(x) ** 2), None\n"),
            fails="ex1_tests", hint="0-d for a 0-d x", why="wraps scale in a 1-element tensor: a 0-d x gets shape (1,)"),
    Mistake("ex1-ctx-attribute", scaled_tanh(
        "        ctx.tanh_x = torch.tanh(x)\n        ctx.scale = scale\n        return scale * ctx.tanh_x\n",
        "        return grad_output * ctx.scale * (1 - ctx.tanh_x**2), None\n"),
            fails="ex1_tests", hint="kept ctx.tanh_x as an attribute", why="rule: tensors through save_for_backward"),
    Mistake("ex1-autograd-in-backward", scaled_tanh(SAVE_X, (
        "        (x,) = ctx.saved_tensors\n"
        "        with torch.enable_grad():\n"
        "            leaf = x.detach().requires_grad_()\n"
        "            (slope,) = torch.autograd.grad(torch.tanh(leaf).sum(), leaf)\n"
        "        return grad_output * ctx.scale * slope, None\n")),
            fails="ex1_tests", hint="a backward written from the formula", why="rule: backward written by hand"),

    # Exercise 2: StableSoftplus.
    Correct("ex2-sigmoid", stable_softplus(STABLE_FORWARD, SIGMOID_BACKWARD)),
    Correct("ex2-threshold-forward", stable_softplus(
        "        ctx.save_for_backward(x)\n"
        "        return torch.where(x > 20, x, torch.log1p(torch.exp(torch.clamp(x, max=20))))\n",
        "        (x,) = ctx.saved_tensors\n"
        "        small = torch.exp(-x.abs())\n"
        "        return grad_output * torch.where(x >= 0, 1 / (1 + small), small / (1 + small))\n")),
    Correct("ex2-save-output-expm1", stable_softplus(
        "        y = torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))\n"
        "        ctx.save_for_backward(y)\n"
        "        return y\n",
        "        (y,) = ctx.saved_tensors\n"
        "        return grad_output * -torch.expm1(-y)  # sigmoid(x) = 1 - exp(-softplus(x))\n")),
    Mistake("ex2-save-output-one-minus-exp", stable_softplus(
        "        y = torch.relu(x) + torch.log1p(torch.exp(-torch.abs(x)))\n"
        "        ctx.save_for_backward(y)\n"
        "        return y\n",
        "        (y,) = ctx.saved_tensors\n"
        "        return grad_output * (1 - torch.exp(-y))\n"),
        fails="ex2_tests", hint="1 - exp(-y) rounds to 0 where y = softplus(x) is tiny",
        why="sigmoid from the output without expm1: no relative precision for very negative x"),
    Correct("ex2-maximum-and-naive-sigmoid", stable_softplus(
        "        ctx.save_for_backward(x)\n"
        "        return torch.maximum(x, torch.zeros_like(x)) + torch.log1p(torch.exp(-torch.abs(x)))\n",
        "        (x,) = ctx.saved_tensors\n"
        "        return grad_output / (1 + torch.exp(-x))  # exp(-x) = inf gives 1/inf = 0, the right limit\n")),
    Mistake("ex2-naive-forward", stable_softplus(
        "        ctx.save_for_backward(x)\n        return torch.log(1 + torch.exp(x))\n", SIGMOID_BACKWARD),
            fails="ex2_tests", hint="exp(x) overflows to inf above 88.72", why="the naive formula overflows"),
    Mistake("ex2-log-not-log1p", stable_softplus(
        "        ctx.save_for_backward(x)\n        return torch.clamp(x, min=0) + torch.log(1 + torch.exp(-x.abs()))\n",
        SIGMOID_BACKWARD),
            fails="ex2_tests", hint="use torch.log1p", why="1 + tiny rounds to 1: no relative precision"),
    Mistake("ex2-naive-sigmoid", stable_softplus(STABLE_FORWARD, (
        "        (x,) = ctx.saved_tensors\n        return grad_output * torch.exp(x) / (1 + torch.exp(x))\n")),
            fails="ex2_tests", hint="inf/inf = NaN above 88.72", why="e^x/(1+e^x) overflows"),
    Mistake("ex2-no-grad-output", stable_softplus(STABLE_FORWARD, "        (x,) = ctx.saved_tensors\n        return torch.sigmoid(x)\n"),
            fails="ex2_tests", hint="multiply by grad_output", why="local derivative only"),
    Mistake("ex2-swapped-branches", stable_softplus(STABLE_FORWARD, (
        "        (x,) = ctx.saved_tensors\n"
        "        small = torch.exp(-x.abs())\n"
        "        return grad_output * torch.where(x >= 0, small / (1 + small), 1 / (1 + small))\n")),
            fails="ex2_tests", hint="branches of the formula are swapped", why="sigmoid(-x)"),
    Mistake("ex2-autograd-through-clamp", stable_softplus(STABLE_FORWARD, (
        "        (x,) = ctx.saved_tensors\n"
        "        with torch.enable_grad():\n"
        "            leaf = x.detach().requires_grad_()\n"
        "            value = torch.clamp(leaf, min=0) + torch.log1p(torch.exp(-leaf.abs()))\n"
        "            (slope,) = torch.autograd.grad(value.sum(), leaf)\n"
        "        return grad_output * slope\n")),
            fails="ex2_tests", hint="at x = 0 the slope is sigmoid(0) = 0.5", why="autograd's kink slopes (3.6)"),
    Mistake("ex2-autograd-through-logaddexp", stable_softplus(STABLE_FORWARD, (
        "        (x,) = ctx.saved_tensors\n"
        "        with torch.enable_grad():\n"
        "            leaf = x.detach().requires_grad_()\n"
        "            (slope,) = torch.autograd.grad(torch.logaddexp(leaf, torch.zeros_like(leaf)).sum(), leaf)\n"
        "        return grad_output * slope\n")),
            fails="ex2_tests", hint="a backward written from the formula", why="rule: backward written by hand"),
    Mistake("ex2-ctx-attribute", stable_softplus(
        "        ctx.x = x\n        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))\n",
        "        return grad_output * torch.sigmoid(ctx.x)\n"),
            fails="ex2_tests", hint="kept ctx.x as an attribute", why="rule: tensors through save_for_backward"),
    Mistake("ex2-calls-softplus", stable_softplus(
        "        ctx.save_for_backward(x)\n        return torch.nn.functional.softplus(x)\n", SIGMOID_BACKWARD),
            fails="ex2_tests", hint="called F.softplus", why="rule: no torch softplus"),
    Mistake("ex2-float64-inside", stable_softplus(
        "        ctx.save_for_backward(x)\n"
        "        wide = x.double()\n"
        "        return torch.clamp(wide, min=0) + torch.log1p(torch.exp(-wide.abs()))\n",
        SIGMOID_BACKWARD),
            fails="ex2_tests", hint="keeps x's dtype", why="returns float64 for a float32 input"),
]
