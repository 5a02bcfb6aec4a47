"""Misconceptions and correct answers for 12_forward_mode."""

from textwrap import indent

from misconceptions import Correct, Mistake

# A Dual written the plain way, one method per entry; a mistake replaces one or more of them.
METHODS = {
    "init": ("def __init__(self, value, derivative=0.0):\n"
             "    self.value = float(value)\n"
             "    self.derivative = float(derivative)\n"),
    "add": ("def __add__(self, other):\n"
            "    other = other if isinstance(other, Dual) else Dual(other)\n"
            "    return Dual(self.value + other.value, self.derivative + other.derivative)\n"),
    "radd": "def __radd__(self, other):\n    return self + other\n",
    "neg": "def __neg__(self):\n    return Dual(-self.value, -self.derivative)\n",
    "sub": "def __sub__(self, other):\n    return self + (-other)\n",
    "rsub": "def __rsub__(self, other):\n    return (-self) + other\n",
    "mul": ("def __mul__(self, other):\n"
            "    other = other if isinstance(other, Dual) else Dual(other)\n"
            "    return Dual(self.value * other.value, self.derivative * other.value + self.value * other.derivative)\n"),
    "rmul": "def __rmul__(self, other):\n    return self * other\n",
    "truediv": ("def __truediv__(self, other):\n"
                "    other = other if isinstance(other, Dual) else Dual(other)\n"
                "    return Dual(self.value / other.value,\n"
                "                (self.derivative * other.value - self.value * other.derivative) / other.value ** 2)\n"),
    "rtruediv": "def __rtruediv__(self, other):\n    return Dual(other) / self\n",
    "pow": ("def __pow__(self, other):\n"
            "    if isinstance(other, Dual):\n"
            "        value = self.value ** other.value\n"
            "        return Dual(value, other.value * self.value ** (other.value - 1) * self.derivative\n"
            "                    + value * math.log(self.value) * other.derivative)\n"
            "    return Dual(self.value ** other, other * self.value ** (other - 1) * self.derivative)\n"),
    "rpow": ("def __rpow__(self, other):\n"
             "    value = other ** self.value\n"
             "    return Dual(value, value * math.log(other) * self.derivative)\n"),
    "sin": "def sin(self):\n    return Dual(math.sin(self.value), math.cos(self.value) * self.derivative)\n",
    "exp": "def exp(self):\n    return Dual(math.exp(self.value), math.exp(self.value) * self.derivative)\n",
    "log": "def log(self):\n    return Dual(math.log(self.value), self.derivative / self.value)\n",
}


def dual(**changed: str) -> dict[str, str]:
    """An ex1 answer: the plain Dual with some methods replaced (an empty string drops the method)."""
    methods = {**METHODS, **changed}
    return {"ex1_answer": "class Dual:\n" + "\n".join(indent(source, "    ") for source in methods.values() if source)}


def jacobian(body: str) -> dict[str, str]:
    return {"ex2_answer": "def jacobian_fewest_passes(f, x):\n" + body}


# ex2 building blocks: a 1-D view of f and x (J is (m, n) for it), then J shaped f(x).shape + x.shape.
FLAT = ("    y_shape = f(x).shape\n"
        "    m, n = y_shape.numel(), x.numel()\n"
        "    def flat_f(v):\n"
        "        return f(v.reshape(x.shape)).reshape(-1)\n"
        "    flat_x = x.detach().reshape(-1)\n")
FORWARD = "torch.stack([torch.func.jvp(flat_f, (flat_x,), (e,))[1] for e in torch.eye(n, dtype=x.dtype)], dim=1)"
REVERSE = "jacobian_reverse(flat_f, flat_x)"
SHAPED = "    return J.reshape(y_shape + x.shape)\n"


CASES = [
    # Exercise 1: a dual number.
    Correct("ex1-explicit-branches", {"ex1_answer": (
        "class Dual:\n"
        "    def __init__(self, value, derivative=0.0):\n"
        "        self.value, self.derivative = float(value), float(derivative)\n"
        "\n"
        "    def __repr__(self):\n"
        "        return f'{self.value} + {self.derivative}ε'\n"
        "\n"
        "    def __add__(self, other):\n"
        "        if isinstance(other, Dual):\n"
        "            return Dual(self.value + other.value, self.derivative + other.derivative)\n"
        "        return Dual(self.value + other, self.derivative)\n"
        "\n"
        "    def __radd__(self, other):\n"
        "        return Dual(other + self.value, self.derivative)\n"
        "\n"
        "    def __sub__(self, other):\n"
        "        if isinstance(other, Dual):\n"
        "            return Dual(self.value - other.value, self.derivative - other.derivative)\n"
        "        return Dual(self.value - other, self.derivative)\n"
        "\n"
        "    def __rsub__(self, other):\n"
        "        return Dual(other - self.value, -self.derivative)\n"
        "\n"
        "    def __neg__(self):\n"
        "        return Dual(-self.value, -self.derivative)\n"
        "\n"
        "    def __mul__(self, other):\n"
        "        if isinstance(other, Dual):\n"
        "            return Dual(self.value * other.value,\n"
        "                        self.derivative * other.value + self.value * other.derivative)\n"
        "        return Dual(self.value * other, self.derivative * other)\n"
        "\n"
        "    def __rmul__(self, other):\n"
        "        return Dual(other * self.value, other * self.derivative)\n"
        "\n"
        "    def __truediv__(self, other):\n"
        "        if isinstance(other, Dual):\n"
        "            return Dual(self.value / other.value,\n"
        "                        (self.derivative * other.value - self.value * other.derivative) / other.value**2)\n"
        "        return Dual(self.value / other, self.derivative / other)\n"
        "\n"
        "    def __rtruediv__(self, other):\n"
        "        return Dual(other / self.value, -other * self.derivative / self.value**2)\n"
        "\n"
        "    def __pow__(self, other):\n"
        "        if isinstance(other, Dual):\n"
        "            value = self.value**other.value\n"
        "            return Dual(value, value * (other.derivative * math.log(self.value)\n"
        "                                        + other.value * self.derivative / self.value))\n"
        "        return Dual(self.value**other, other * self.value ** (other - 1) * self.derivative)\n"
        "\n"
        "    def __rpow__(self, other):\n"
        "        return Dual(other**self.value, other**self.value * math.log(other) * self.derivative)\n"
        "\n"
        "    def sin(self):\n"
        "        return Dual(math.sin(self.value), math.cos(self.value) * self.derivative)\n"
        "\n"
        "    def exp(self):\n"
        "        e = math.exp(self.value)\n"
        "        return Dual(e, e * self.derivative)\n"
        "\n"
        "    def log(self):\n"
        "        return Dual(math.log(self.value), self.derivative / self.value)\n")}),
    Correct("ex1-aliases-and-exp-log", {"ex1_answer": (
        "def as_dual(x):\n"
        "    return x if isinstance(x, Dual) else Dual(x, 0.0)\n"
        "\n"
        "\n"
        "class Dual:\n"
        "    def __init__(self, value, derivative=0.0):\n"
        "        self.value = value + 0.0\n"
        "        self.derivative = derivative + 0.0\n"
        "\n"
        "    def __add__(self, other):\n"
        "        other = as_dual(other)\n"
        "        return Dual(self.value + other.value, self.derivative + other.derivative)\n"
        "\n"
        "    __radd__ = __add__\n"
        "\n"
        "    def __neg__(self):\n"
        "        return self * -1\n"
        "\n"
        "    def __sub__(self, other):\n"
        "        return self + as_dual(other) * -1\n"
        "\n"
        "    def __rsub__(self, other):\n"
        "        return as_dual(other) - self\n"
        "\n"
        "    def __mul__(self, other):\n"
        "        other = as_dual(other)\n"
        "        return Dual(self.value * other.value, self.value * other.derivative + self.derivative * other.value)\n"
        "\n"
        "    __rmul__ = __mul__\n"
        "\n"
        "    def reciprocal(self):\n"
        "        return Dual(1 / self.value, -self.derivative / self.value**2)\n"
        "\n"
        "    def __truediv__(self, other):\n"
        "        return self * as_dual(other).reciprocal()\n"
        "\n"
        "    def __rtruediv__(self, other):\n"
        "        return as_dual(other) * self.reciprocal()\n"
        "\n"
        "    def __pow__(self, other):\n"
        "        if isinstance(other, Dual):  # u^w = exp(w log u), for u > 0\n"
        "            return (other * self.log()).exp()\n"
        "        return Dual(self.value**other, other * self.value ** (other - 1) * self.derivative)\n"
        "\n"
        "    def __rpow__(self, other):\n"
        "        return (self * math.log(other)).exp()\n"
        "\n"
        "    def sin(self):\n"
        "        return Dual(math.sin(self.value), self.derivative * math.cos(self.value))\n"
        "\n"
        "    def exp(self):\n"
        "        return Dual(math.exp(self.value), self.derivative * math.exp(self.value))\n"
        "\n"
        "    def log(self):\n"
        "        return Dual(math.log(self.value), self.derivative / self.value)\n")}),
    Correct("ex1-pair-with-properties", {"ex1_answer": (
        "def constant(c):\n"
        "    return c if isinstance(c, Dual) else Dual(c)\n"
        "\n"
        "\n"
        "def combine(a, b, value, slope_a, slope_b):\n"
        "    # The chain rule for a two-argument operation: d = ∂op/∂a · a′ + ∂op/∂b · b′.\n"
        "    return Dual(value, slope_a * a.derivative + slope_b * b.derivative)\n"
        "\n"
        "\n"
        "class Dual:\n"
        "    def __init__(self, value, derivative=0.0):\n"
        "        self.pair = (float(value), float(derivative))\n"
        "\n"
        "    @property\n"
        "    def value(self):\n"
        "        return self.pair[0]\n"
        "\n"
        "    @property\n"
        "    def derivative(self):\n"
        "        return self.pair[1]\n"
        "\n"
        "    def __add__(self, other):\n"
        "        b = constant(other)\n"
        "        return combine(self, b, self.value + b.value, 1.0, 1.0)\n"
        "\n"
        "    def __radd__(self, other):\n"
        "        return constant(other) + self\n"
        "\n"
        "    def __sub__(self, other):\n"
        "        b = constant(other)\n"
        "        return combine(self, b, self.value - b.value, 1.0, -1.0)\n"
        "\n"
        "    def __rsub__(self, other):\n"
        "        return constant(other) - self\n"
        "\n"
        "    def __neg__(self):\n"
        "        return Dual(0.0) - self\n"
        "\n"
        "    def __mul__(self, other):\n"
        "        b = constant(other)\n"
        "        return combine(self, b, self.value * b.value, b.value, self.value)\n"
        "\n"
        "    def __rmul__(self, other):\n"
        "        return constant(other) * self\n"
        "\n"
        "    def __truediv__(self, other):\n"
        "        b = constant(other)\n"
        "        return combine(self, b, self.value / b.value, 1 / b.value, -self.value / b.value**2)\n"
        "\n"
        "    def __rtruediv__(self, other):\n"
        "        return constant(other) / self\n"
        "\n"
        "    def __pow__(self, other):\n"
        "        b = constant(other)\n"
        "        value = self.value**b.value\n"
        "        slope_b = value * math.log(self.value) if b.derivative != 0 else 0.0\n"
        "        return combine(self, b, value, b.value * self.value ** (b.value - 1), slope_b)\n"
        "\n"
        "    def __rpow__(self, other):\n"
        "        return constant(other) ** self\n"
        "\n"
        "    def sin(self):\n"
        "        return combine(self, self, math.sin(self.value), math.cos(self.value), 0.0)\n"
        "\n"
        "    def exp(self):\n"
        "        return combine(self, self, math.exp(self.value), math.exp(self.value), 0.0)\n"
        "\n"
        "    def log(self):\n"
        "        return combine(self, self, math.log(self.value), 1 / self.value, 0.0)\n")}),
    Mistake("ex1-eps-parts-multiplied", dual(mul=(
        "def __mul__(self, other):\n"
        "    other = other if isinstance(other, Dual) else Dual(other)\n"
        "    return Dual(self.value * other.value, self.derivative * other.derivative)\n")),
            fails="ex1_tests", hint="the ε parts are not multiplied together", why="(a + a′ε)(b + b′ε) read as ab + a′b′ε"),
    Mistake("ex1-quotient-sign", dual(truediv=(
        "def __truediv__(self, other):\n"
        "    other = other if isinstance(other, Dual) else Dual(other)\n"
        "    return Dual(self.value / other.value,\n"
        "                (self.value * other.derivative - self.derivative * other.value) / other.value ** 2)\n")),
            fails="ex1_tests", hint="quotient rule", why="uv′ − u′v instead of u′v − uv′"),
    Mistake("ex1-sin-without-inner-derivative",
            dual(sin="def sin(self):\n    return Dual(math.sin(self.value), math.cos(self.value))\n"),
            fails="ex1_tests", hint="sin(u)′ = cos(u)·u′", why="the chain rule's inner factor forgotten"),
    Mistake("ex1-exp-without-inner-derivative",
            dual(exp="def exp(self):\n    return Dual(math.exp(self.value), math.exp(self.value))\n"),
            fails="ex1_tests", hint="exp(u)′ = exp(u)·u′", why="the chain rule's inner factor forgotten"),
    Mistake("ex1-no-reflected-methods", dual(radd="", rsub="", rmul="", rtruediv="", rpow=""),
            fails="ex1_tests", hint="reflected method", why="2 * x raises TypeError without __rmul__"),
    Mistake("ex1-rsub-is-sub", dual(rsub="def __rsub__(self, other):\n    return self - other\n"),
            fails="ex1_tests", hint="x.__rsub__(c) is c − x", why="c - x computed as x - c"),
    Mistake("ex1-rtruediv-is-truediv", dual(rtruediv="def __rtruediv__(self, other):\n    return self / other\n"),
            fails="ex1_tests", hint="x.__rtruediv__(c) is c / x", why="c / x computed as x / c"),
    Mistake("ex1-power-always-with-log", dual(pow=(
        "def __pow__(self, other):\n"
        "    other = other if isinstance(other, Dual) else Dual(other)\n"
        "    value = self.value ** other.value\n"
        "    return Dual(value, other.value * self.value ** (other.value - 1) * self.derivative\n"
        "                + value * math.log(self.value) * other.derivative)\n")),
            fails="ex1_tests", hint="no ln(x) term", why="the general power rule takes ln of a negative base"),
    Mistake("ex1-rpow-without-log", dual(rpow=(
        "def __rpow__(self, other):\n"
        "    return Dual(other ** self.value, other ** self.value * self.derivative)\n")),
            fails="ex1_tests", hint="with derivative cˣ·ln(c)·x′", why="treats c^x like e^x"),
    Mistake("ex1-rpow-is-pow", dual(rpow="def __rpow__(self, other):\n    return self ** other\n"),
            fails="ex1_tests", hint="x.__rpow__(c) is c ** x", why="2 ** x computed as x ** 2"),
    Mistake("ex1-dual-exponent-as-number", dual(pow=(
        "def __pow__(self, other):\n"
        "    n = other.value if isinstance(other, Dual) else other\n"
        "    return Dual(self.value ** n, n * self.value ** (n - 1) * self.derivative)\n")),
            fails="ex1_tests", hint="a Dual exponent has a derivative too", why="x ** x differentiated as x ** n"),
    Mistake("ex1-constant-with-derivative-one", dual(init=(
        "def __init__(self, value, derivative=1.0):\n"
        "    self.value = float(value)\n"
        "    self.derivative = float(derivative)\n")),
            fails="ex1_tests", hint="a plain number c is a constant", why="every Dual seeded with 1, constants too"),
    Mistake("ex1-add-changes-self", dual(add=(
        "def __add__(self, other):\n"
        "    other = other if isinstance(other, Dual) else Dual(other)\n"
        "    self.value += other.value\n"
        "    self.derivative += other.derivative\n"
        "    return self\n")),
            fails="ex1_tests", hint="it must not change its operands", why="x + 1 changes x itself"),
    Mistake("ex1-numpy-numbers", dual(
        init="def __init__(self, value, derivative=0.0):\n    self.value = value\n    self.derivative = derivative\n",
        sin="def sin(self):\n    return Dual(np.sin(self.value), np.cos(self.value) * self.derivative)\n"),
            fails="ex1_tests", hint="store Python floats", why="np.sin gives numpy.float64, not float"),
    Mistake("ex1-only-float-constants", dual(
        add=("def __add__(self, other):\n"
             "    other = Dual(other) if isinstance(other, float) else other\n"
             "    return Dual(self.value + other.value, self.derivative + other.derivative)\n"),
        mul=("def __mul__(self, other):\n"
             "    other = Dual(other) if isinstance(other, float) else other\n"
             "    return Dual(self.value * other.value, self.derivative * other.value + self.value * other.derivative)\n")),
            fails="ex1_tests", hint="a plain number c (int or float) is a constant", why="2 * x with an int fails"),
    Mistake("ex1-rsub-drops-inner-tangent", dual(rsub="def __rsub__(self, other):\n    return Dual(other - self.value, -1.0)\n"),
            fails="ex1_tests", hint="with derivative −x′ (x's own derivative", why="(c − x)′ taken as −1, right only at seed 1"),
    Mistake("ex1-rtruediv-drops-inner-tangent", dual(rtruediv=(
        "def __rtruediv__(self, other):\n"
        "    return Dual(other / self.value, -other / self.value ** 2)\n")),
            fails="ex1_tests", hint="times x's own derivative", why="(c / x)′ without the factor x′"),
    Mistake("ex1-broken-pow-under-rpow", dual(
        pow=("def __pow__(self, other):\n"
             "    n = other.value if isinstance(other, Dual) else other\n"
             "    return Dual(self.value ** n, n * self.value ** (n - 1) * self.derivative)\n"),
        rpow="def __rpow__(self, other):\n    return Dual(other) ** self\n"),
            fails="ex1_tests", hint="a Dual exponent has a derivative too",
            why="x ** x without its ln term; __rpow__, written with __pow__, is not the mistake"),
    Mistake("ex1-torch-autograd-inside", dual(sin=(
        "def sin(self):\n"
        "    leaf = torch.tensor(self.value, dtype=torch.float64, requires_grad=True)\n"
        "    output = torch.sin(leaf)\n"
        "    output.backward()\n"
        "    return Dual(output.item(), leaf.grad.item() * self.derivative)\n")),
            fails="ex1_tests", hint="not numpy or torch", why="asks torch's autograd for sin′ and converts with .item()"),
    Mistake("ex1-numpy-in-a-helper", {"ex1_answer": (
        "def exp_of(v):\n"
        "    return float(np.exp(v))\n"
        "\n"
        "\n" + dual(exp=("def exp(self):\n"
                          "    value = exp_of(self.value)\n"
                          "    return Dual(value, value * self.derivative)\n"))["ex1_answer"])},
            fails="ex1_tests", hint="not numpy or torch", why="numpy's exp, converted back to a float by a helper"),
    Correct("ex1-locals-named-like-notebook-tensors", dual(
        sin=("def sin(self):\n"
             "    primal, tangent = math.sin(self.value), math.cos(self.value) * self.derivative\n"
             "    return Dual(primal, tangent)\n"),
        exp=("def exp(self):\n"
             "    values = math.exp(self.value)\n"
             "    return Dual(values, values * self.derivative)\n"))),

    # Exercise 2: the Jacobian from the fewest passes.
    Correct("ex2-helpers-on-a-flat-view", jacobian(
        FLAT + f"    J = jacobian_forward(flat_f, flat_x) if n < m else {REVERSE}\n" + SHAPED)),
    Correct("ex2-forward-ad-and-backward", jacobian(
        "    m, n = f(x).numel(), x.numel()\n"
        "    if n < m:\n"
        "        columns = []\n"
        "        for j in range(n):\n"
        "            seed = torch.zeros(n, dtype=x.dtype)\n"
        "            seed[j] = 1.0\n"
        "            with fwAD.dual_level():\n"
        "                y = f(fwAD.make_dual(x.detach(), seed.reshape(x.shape)))\n"
        "                columns.append(fwAD.unpack_dual(y).tangent.reshape(m))\n"
        "        J = torch.stack(columns, dim=1)\n"
        "    else:\n"
        "        rows = []\n"
        "        for i in range(m):\n"
        "            leaf = x.detach().clone().requires_grad_()\n"
        "            f(leaf).reshape(m)[i].backward()  # a new graph for every row\n"
        "            rows.append(leaf.grad.reshape(n))\n"
        "        J = torch.stack(rows)\n"
        "    return J.reshape(f(x).shape + x.shape)\n")),
    Correct("ex2-preallocated-with-func-vjp", jacobian(
        "    y = f(x)\n"
        "    m, n = y.numel(), x.numel()\n"
        "    J = torch.zeros(m, n, dtype=x.dtype)\n"
        "    eye_n, eye_m = torch.eye(n, dtype=x.dtype), torch.eye(m, dtype=y.dtype)\n"
        "    if n <= m:\n"
        "        for j in range(n):\n"
        "            J[:, j] = torch.func.jvp(f, (x,), (eye_n[j].reshape(x.shape),))[1].reshape(m)\n"
        "    else:\n"
        "        _, pull_back = torch.func.vjp(f, x)\n"
        "        for i in range(m):\n"
        "            (J[i],) = (pull_back(eye_m[i].reshape(y.shape))[0].reshape(n),)\n"
        "    return J.reshape(y.shape + x.shape)\n")),
    Correct("ex2-func-grad-per-row", jacobian(
        FLAT
        + "    if n < m:\n"
          "        J = jacobian_forward(flat_f, flat_x)\n"
          "    else:  # one reverse pass per output, each recording its own graph\n"
          "        J = torch.stack([torch.func.grad(lambda v, i=i: flat_f(v)[i])(flat_x) for i in range(m)])\n"
        + SHAPED)),
    Mistake("ex2-always-reverse", jacobian(FLAT + f"    J = {REVERSE}\n" + SHAPED),
            fails="ex2_tests", hint="forward mode takes one pass per input", why="reverse mode for a tall Jacobian"),
    Mistake("ex2-swapped-choice", jacobian(FLAT + f"    J = {FORWARD} if m < n else {REVERSE}\n" + SHAPED),
            fails="ex2_tests", hint="forward mode takes one pass per input", why="forward mode when outputs are fewer"),
    Mistake("ex2-always-forward", jacobian(FLAT + f"    J = {FORWARD}\n" + SHAPED),
            fails="ex2_tests", hint="forward mode takes one pass per input", why="forward mode for a wide Jacobian"),
    Mistake("ex2-columns-as-rows", jacobian(
        FLAT + f"    J = {FORWARD.replace('dim=1', 'dim=0')} if n < m else {REVERSE}\n    return J\n"),
            fails="ex2_tests", hint="that is Jᵀ", why="the JVP columns stacked as rows"),
    Mistake("ex2-autograd-functional", jacobian(
        "    strategy = 'forward-mode' if x.numel() < f(x).numel() else 'reverse-mode'\n"
        "    return torch.autograd.functional.jacobian(f, x, strategy=strategy, vectorize=True)\n"),
            fails="ex2_tests", hint="torch.autograd.functional", why="a ready-made Jacobian that batches the passes"),
    Mistake("ex2-jacfwd-or-jacrev", jacobian(
        "    if x.numel() < f(x).numel():\n"
        "        return torch.func.jacfwd(f)(x)\n"
        "    return torch.func.jacrev(f)(x)\n"),
            fails="ex2_tests", hint="torch.func.vmap", why="the right choice, but the passes batched by vmap"),
    Mistake("ex2-len-for-sizes", jacobian(
        "    y = f(x)\n"
        "    if len(x) < len(y):\n"
        "        return jacobian_forward(f, x)\n"
        "    return jacobian_reverse(f, x)\n"),
            fails="ex2_tests", hint="count entries with x.numel()", why="works for 1-D only"),
    Mistake("ex2-squeezed", jacobian(FLAT + f"    J = {FORWARD} if n < m else {REVERSE}\n    return J.squeeze()\n"),
            fails="ex2_tests", hint="adds one even when it has a single entry", why="squeeze drops the (1,) dimensions"),
    Mistake("ex2-extra-jvp-for-the-shape", jacobian(
        "    y, _ = torch.func.jvp(f, (x,), (torch.zeros_like(x),))\n"
        "    m, n = y.numel(), x.numel()\n"
        "    def flat_f(v):\n"
        "        return f(v.reshape(x.shape)).reshape(-1)\n"
        "    flat_x = x.detach().reshape(-1)\n"
        f"    J = {FORWARD} if n < m else {REVERSE}\n"
        "    return J.reshape(y.shape + x.shape)\n"),
            fails="ex2_tests", hint="no extra pass", why="a JVP spent on learning m"),
    Mistake("ex2-grad-accumulates", jacobian(
        "    leaf = x.detach().clone().requires_grad_()\n"
        "    y = f(leaf)\n"
        "    m, n = y.numel(), x.numel()\n"
        "    if n < m:\n"
        "        return jacobian_forward(f, x)\n"
        "    rows = []\n"
        "    for i in range(m):\n"
        "        y.reshape(-1)[i].backward(retain_graph=True)\n"
        "        rows.append(leaf.grad.clone())\n"
        "    return torch.stack(rows).reshape(y.shape + x.shape)\n"),
            fails="ex2_tests", hint="backward() adds into .grad", why=".grad not reset between rows"),
    Mistake("ex2-float32-storage", jacobian(
        "    y = f(x)\n"
        "    m, n = y.numel(), x.numel()\n"
        "    J = torch.zeros(m, n)\n"
        "    if n < m:\n"
        "        for j in range(n):\n"
        "            seed = torch.zeros(n, dtype=x.dtype)\n"
        "            seed[j] = 1.0\n"
        "            J[:, j] = torch.func.jvp(f, (x,), (seed.reshape(x.shape),))[1].reshape(m)\n"
        "    else:\n"
        "        leaf = x.detach().clone().requires_grad_()\n"
        "        outputs = f(leaf).reshape(m)\n"
        "        for i in range(m):\n"
        "            J[i] = torch.autograd.grad(outputs[i], leaf, retain_graph=True)[0].reshape(n)\n"
        "    return J.reshape(y.shape + x.shape)\n"),
            fails="ex2_tests", hint="in x's dtype", why="J stored in the default float32"),
    Mistake("ex2-finite-differences", jacobian(
        "    y = f(x)\n"
        "    h = 1e-3\n"
        "    columns = []\n"
        "    for j in range(x.numel()):\n"
        "        step = torch.zeros(x.numel(), dtype=x.dtype)\n"
        "        step[j] = h\n"
        "        step = step.reshape(x.shape)\n"
        "        columns.append(((f(x + step) - f(x - step)) / (2 * h)).reshape(-1))\n"
        "    return torch.stack(columns, dim=1).reshape(y.shape + x.shape)\n"),
            fails="ex2_tests", hint="not from finite differences", why="no autograd pass at all"),
    Mistake("ex2-marks-x", jacobian(
        "    x.requires_grad_()\n"
        "    y = f(x)\n"
        "    m, n = y.numel(), x.numel()\n"
        "    if n < m:\n"
        "        return jacobian_forward(f, x.detach())\n"
        "    rows = [torch.autograd.grad(y.reshape(-1)[i], x, retain_graph=True)[0] for i in range(m)]\n"
        "    return torch.stack(rows).reshape(y.shape + x.shape)\n"),
            fails="ex2_tests", hint="leave the caller's x alone", why="makes the caller's x require grad"),
]
