"""The checks of 12_forward_mode: ``Dual`` (exercise 1) and ``jacobian_fewest_passes`` (exercise 2).

Exercise 1's reference is autograd on a float64 tensor: every expression is written once and runs on the answer's
``Dual`` in the kernel and on a tensor here, which has the same methods ``.sin()``, ``.exp()``, ``.log()``.
Exercise 2's reference is a float64 central difference of each output. How the answer got its Jacobian (its JVPs,
its backward passes, what batched them) is counted in the kernel and sent out as numbers and names, judged here.
"""

import dis
import inspect

import torch
import torch.autograd.forward_ad as fwAD

from ..cases import Check, expect_returned, returned
from ..checks import AnswerMismatch, expect_close, expect_equal, expect_rule, expect_true
from ..numeric import central_difference
from ..rules import AutogradCalls, ready_made_callers
from ..values import Raised

# Exercise 1. An expression takes x and constant, where constant(c) is Dual(c) for the answer's class and a float64
# tensor for autograd.
CONSTANT_RULE = "a plain number c is a constant, Dual(c) with derivative 0: (x + c)′ = x′"
REVERSED = "the reflected method gets the operands the other way round: x.{method}(c) is {result}"
# One rule per probe, simplest first: (expression, x, seed x′, the rule as a hint), by the name a message shows.
# Seeds other than 1 show a derivative that leaves out x′; x ** x comes before 2 ** x, so that an __rpow__ written
# as Dual(c) ** x is not blamed for a broken __pow__.
RULES = {
    "x + 2.5": (lambda x, constant: x + 2.5, 0.7, 1.5, CONSTANT_RULE),
    "2.5 + x": (lambda x, constant: 2.5 + x, 0.7, 1.5, "2.5 + x is x + 2.5: Python calls x.__radd__(2.5)"),
    "x - 2.5": (lambda x, constant: x - 2.5, 0.7, 1.5, "x − c has the value x − c and the derivative x′"),
    "2.5 - x": (lambda x, constant: 2.5 - x, 0.7, 1.5,
                REVERSED.format(method="__rsub__", result="c − x, with derivative −x′ (x's own derivative, 1.5 here)")),
    "-x": (lambda x, constant: -x, 0.7, 1.5, "−x has the value −x and the derivative −x′"),
    "x * x": (lambda x, constant: x * x, 0.7, 1.0,
              "product rule: (a + a′ε)(b + b′ε) = ab + (a′b + ab′)ε because ε² = 0; the ε parts are not multiplied "
              "together"),
    "3 * x": (lambda x, constant: 3 * x, 0.7, 1.5, "(c·x)′ = c·x′ for a plain number c (here the int 3)"),
    "x * Dual(3.0)": (lambda x, constant: x * constant(3.0), 0.7, 1.0,
                      "Dual(3.0) is a constant: its derivative defaults to 0.0, so (x·Dual(3.0))′ = 3·x′"),
    "x / (x + 2)": (lambda x, constant: x / (x + 2), 0.7, 1.0, "quotient rule: (u/v)′ = (u′v − uv′)/v², u′v first"),
    "1 / x": (lambda x, constant: 1 / x, 0.7, 1.5,
              REVERSED.format(method="__rtruediv__",
                              result="c / x, with derivative −c·x′/x² (times x's own derivative, 1.5 here)")),
    "x ** 3": (lambda x, constant: x**3, -1.5, 2.0,
               "for a plain-number exponent (xⁿ)′ = n·xⁿ⁻¹·x′: no ln(x) term (x is negative here), and times x′ (2.0 "
               "here)"),
    "x ** x": (lambda x, constant: x**x, 1.3, 1.0,
               "a Dual exponent has a derivative too: (u^w)′ = w·u^(w−1)·u′ + u^w·ln(u)·w′"),
    "2 ** x": (lambda x, constant: 2**x, 0.7, -0.5,
               REVERSED.format(method="__rpow__", result="c ** x, with derivative cˣ·ln(c)·x′")),
    "x.sin()": (lambda x, constant: x.sin(), 0.9, -0.5,
                "sin(u)′ = cos(u)·u′: times the Dual's own derivative (−0.5 here)"),
    "x.exp()": (lambda x, constant: x.exp(), 0.9, -0.5,
                "exp(u)′ = exp(u)·u′: times the Dual's own derivative (−0.5 here)"),
    "x.log()": (lambda x, constant: x.log(), 0.9, -0.5, "log(u)′ = u′/u: the Dual's own derivative over its value"),
    "(x * x).sin()": (lambda x, constant: (x * x).sin(), 0.9, 1.0,
                      "chain rule: sin(u)′ = cos(u)·u′, times the inner derivative (u′ = 2x here)"),
    "x * x + x": (lambda x, constant: x * x + x, 0.7, 1.0,
                  "return a new Dual from every operation: it must not change its operands"),
}
# Expressions that mix the rules, by the name a message shows: a mistake in one gets the hint of the first rule broken.
MIXED = {
    "x ** 3 - 2 * x.exp() / (1 + x) + (x * x).sin()": lambda x, constant: x**3 - 2 * x.exp() / (1 + x) + (x * x).sin(),
    "x * (x * x).sin(), section 3.1": lambda x, constant: x * (x * x).sin(),
    "(x.exp() + 1).log() / x": lambda x, constant: (x.exp() + 1).log() / x,
    "2 ** (x * x) - (x + 1) ** (2 * x)": lambda x, constant: 2 ** (x * x) - (x + 1) ** (2 * x),
    "(Dual(2.0) - x) * (x - Dual(0.5)) / (x.sin() - 3)":
        lambda x, constant: (constant(2.0) - x) * (x - constant(0.5)) / (x.sin() - 3),
    "(2.5 - x) / x.log() + 1 / x - 2 ** (-x) + x ** x":
        lambda x, constant: (2.5 - x) / x.log() + 1 / x - 2 ** (-x) + x**x,
}
# Errors an answer may raise, by a fragment of Python's message, with the mistake each one means.
DUAL_RAISED_HINTS = (
    ("unsupported operand", "with a plain number on the left (2 * x, 1 - x, 1 / x, 2 ** x) Python calls x's reflected "
                            "method (__rmul__, __rsub__, __rtruediv__, __rpow__ ...): define them, for ints and floats"),
    ("bad operand type for unary -", "-x calls x.__neg__(): define it"),
    ("has no attribute 'value'", "a plain number c (int or float) is a constant: make it Dual(c) before reading .value"),
    ("math domain error", "for a plain-number exponent (xⁿ)′ = n·xⁿ⁻¹·x′ has no ln(x) term (x may be negative): "
                          "keep the ln term for a Dual exponent"),
    ("must be real number", "math.sin, math.exp and math.log take a float: pass self.value, not the Dual"),
    ("has no attribute 'sin'", "sin, exp and log are methods of Dual that return a new Dual: x.sin()"),
    ("has no attribute 'exp'", "sin, exp and log are methods of Dual that return a new Dual: x.exp()"),
    ("has no attribute 'log'", "sin, exp and log are methods of Dual that return a new Dual: x.log()"),
)
FLOAT_HINT = "store Python floats: math.sin, math.exp, math.log and float(...), not numpy or torch"
NEW_DUAL = "every operation returns a new Dual, with .value and .derivative"
SECTION_2 = "apply the rules of section 2 to value and derivative separately, as in 3.1"


# The libraries exercise 1 rules out: its numbers are Python floats, its functions those of math.
FOREIGN_LIBRARIES = ("numpy", "torch")
GLOBAL_LOADS = ("LOAD_GLOBAL", "LOAD_NAME")


def library_of(value) -> str:
    """The top-level package a value comes from ('numpy' for np.sin and for numpy itself), else ''."""
    try:
        name = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
    except Exception:  # an object of the notebook's whose attribute lookup raises is not a library's
        return ""
    return (name if isinstance(name, str) else type(value).__module__).partition(".")[0]


def functions_of(cls) -> list:
    """The functions a class and its bases define: methods, static and class methods and property accessors."""
    found = []
    members = [member for klass in (inspect.getmro(cls) if inspect.isclass(cls) else ()) if klass is not object
               for member in vars(klass).values()]
    for member in members:
        if isinstance(member, property):
            found += [accessor for accessor in (member.fget, member.fset, member.fdel) if accessor is not None]
        else:
            found.append(getattr(member, "__func__", member))
    return [function for function in found if inspect.isfunction(function)]


def code_objects(code) -> list:
    """A function's code and that of the functions and lambdas written inside it."""
    return [code] + [inner for constant in code.co_consts if inspect.iscode(constant) for inner in code_objects(constant)]


def foreign_names(cls) -> list[str]:
    """The global names that lead to numpy or torch from the class's methods, or from the notebook's own functions
    and classes they call (a plain helper such as as_dual(x) is followed, the modules it imports are not)."""
    found, pending, visited = set(), functions_of(cls), set()
    while pending:
        function = pending.pop()
        if function in visited:
            continue
        visited.add(function)
        names = {instruction.argval for code in code_objects(function.__code__)
                 for instruction in dis.get_instructions(code) if instruction.opname in GLOBAL_LOADS}
        for name in names & function.__globals__.keys():
            value = function.__globals__[name]
            if library_of(value) in FOREIGN_LIBRARIES:
                found.add(name)
            elif inspect.isfunction(value) and value.__module__ == function.__module__:
                pending.append(value)
            elif inspect.isclass(value) and value.__module__ == function.__module__:
                pending += functions_of(value)
    return sorted(found)


def expect_math_only(seen) -> None:
    expect_rule(not seen["numpy or torch"], what="Dual", rule="Python floats with math, not numpy or torch",
                got=f"uses {', '.join(seen['numpy or torch'])}", hint=FLOAT_HINT)


def observed_parts(dual, prefix: str) -> dict:
    # Read with returned: .value may be a property of the answer's that raises.
    return {f"{prefix}value": returned(lambda: dual.value), f"{prefix}derivative": returned(lambda: dual.derivative)}


def observed_dual(Dual, expression, point, seed, prefix: str = "") -> dict:
    """What the answer's Dual gave for ``expression`` at Dual(point, seed), and x's parts afterwards."""
    x = returned(Dual, point, seed)
    if type(x) is Raised:
        return {f"{prefix}made": x}
    result = returned(expression, x, Dual)
    seen = {f"{prefix}made": None, f"{prefix}result": result if type(result) is Raised else None}
    if type(result) is not Raised:
        seen |= observed_parts(result, prefix)
    return seen | observed_parts(x, f"{prefix}x after ")


def expect_parts(seen, prefix: str, what: str) -> tuple:
    """(.value, .derivative) as observed, each checked to be a Python float."""
    value, derivative = seen[f"{prefix}value"], seen[f"{prefix}derivative"]
    expect_returned(value, what=what, hint=NEW_DUAL)
    expect_returned(derivative, what=what, hint=NEW_DUAL)
    for name, part in ((".value", value), (".derivative", derivative)):
        expect_true(type(part) is float, what=f"{what}: {name}", expected="a Python float",
                    got=f"{type(part).__name__} {part!r}", hint=FLOAT_HINT)
    return value, derivative


def by_autograd(expression, point, seed):
    """f(x) and f′(x)·seed of the expression on a float64 tensor, the derivative from autograd."""
    leaf = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    output = expression(leaf, lambda c: torch.tensor(c, dtype=torch.float64))
    (slope,) = torch.autograd.grad(output, leaf)
    return output.item(), slope.item() * seed


def expect_dual(seen, name, expression, point, seed, hint) -> None:
    """The answer's Dual on one expression against autograd; ``hint()`` names the mistake (called only once the
    values are known to be floats, as the rule it finds may take judging every probe)."""
    what = f"{name} for x = Dual({point}, {seed})"
    expect_returned(seen["made"], what=f"Dual({point}, {seed})")
    expect_returned(seen["result"], what=what, hints=DUAL_RAISED_HINTS)
    value, derivative = expect_parts(seen, "", what)
    expected_value, expected_derivative = by_autograd(expression, point, seed)
    named = hint()
    expect_close(value, expected_value, what=f"{what}: .value", hint=named, rtol=1e-9, atol=1e-12)
    expect_close(derivative, expected_derivative, what=f"{what}: .derivative (autograd: f′(x)·x′)", hint=named,
                 rtol=1e-9, atol=1e-12)
    after = expect_parts(seen, "x after ", f"x = Dual({point}, {seed}) after {name}")
    expect_true(after == (point, seed), what=f"x = Dual({point}, {seed}) after {name}",
                expected=f"value {point}, derivative {seed}", got=f"value {after[0]}, derivative {after[1]}",
                hint="return a new Dual from every operation: it must not change its operands")


def observe_rule(Dual, name):
    expression, point, seed, _ = RULES[name]
    return observed_dual(Dual, expression, point, seed) | {"numpy or torch": foreign_names(Dual)}


def judge_rule(seen, name):
    expression, point, seed, hint = RULES[name]
    expect_math_only(seen)
    expect_dual(seen, name, expression, point, seed, lambda: hint)


check_rule = Check("check_rule", observe_rule, judge_rule)


def observe_dual(Dual, name, point, seed):
    """The mixed expression, then every rule's probe, whose first failure names the mistake."""
    seen = observed_dual(Dual, MIXED[name], point, seed) | {"numpy or torch": foreign_names(Dual)}
    for rule, (expression, rule_point, rule_seed, _) in RULES.items():
        seen |= observed_dual(Dual, expression, rule_point, rule_seed, prefix=f"{rule} | ")
    return seen


def first_broken_rule(seen) -> str:
    """The hint of the first rule's probe that fails (an expression that mixes rules does not say which one broke)."""
    for rule, (expression, point, seed, hint) in RULES.items():
        probe = {key.removeprefix(f"{rule} | "): value for key, value in seen.items() if key.startswith(f"{rule} | ")}
        try:
            expect_dual(probe, rule, expression, point, seed, lambda hint=hint: hint)
        except AnswerMismatch as failure:  # a wrong result, or an error the answer raised
            return str(failure).rsplit("Hint: ", 1)[-1]
    return SECTION_2


def judge_dual(seen, name, point, seed):
    expect_math_only(seen)
    expect_dual(seen, name, MIXED[name], point, seed, lambda: first_broken_rule(seen))


check_dual = Check("check_dual", observe_dual, judge_dual)


# Exercise 2. A call of f or a backward pass made from inside these modules comes from a helper that batches the
# passes or picks the mode itself, not from the answer's own JVPs and VJPs.
READY_MADE = {"torch.autograd.functional": "torch.autograd.functional (jacobian, jvp ...)",
              "torch.fx": "torch.func.linearize"}
VMAP = "torch.func.vmap (jacfwd, jacrev and hessian batch their passes with it)"


def batched(value) -> bool:
    """Whether a tensor is one of a vmap's batch: under it, torch.func.debug_unwrap finds the batch dimension."""
    return type(value) is torch.Tensor and torch.func.debug_unwrap(value, recurse=True).shape != value.shape


class PassCounter(AutogradCalls):
    """Counts the answer's backward passes (``AutogradCalls``) and JVPs (calls of f on a dual tensor), and notes what
    batched them."""

    def __init__(self, f):
        super().__init__()
        self.f, self.jvps, self.batching = f, 0, set()

    def note_batching(self, *tensors):
        self.batching |= ready_made_callers(READY_MADE) | ({VMAP} if any(map(batched, tensors)) else set())

    def watched_f(self, v):  # handed to the answer in place of f
        tangent = fwAD.unpack_dual(v).tangent
        self.jvps += tangent is not None
        self.note_batching(v, tangent)
        return self.f(v)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in (torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward):
            given = [*args, *(kwargs or {}).values()]
            self.note_batching(*[item for value in given
                                 for item in (value if isinstance(value, (tuple, list)) else (value,))])
            if (kwargs or {}).get("is_grads_batched"):
                self.batching.add("is_grads_batched=True")
        return super().__torch_function__(func, types, args, kwargs)


def curve(v):  # n = 2 inputs, m = 5 outputs: tall
    return v[0] * torch.cos(v[1] * torch.arange(5.0, dtype=v.dtype))


def moments(v):  # n = 6 inputs, m = 2 outputs: wide
    return torch.stack([v.mean(), (v**2).mean()])


def polar_point(r):  # 0-d x, m = 4
    return torch.stack([r, r**2, torch.sin(r), torch.exp(-r)])


def energy(v):  # 0-d output of 4 inputs
    return (v**2).sum() / 2 + v.prod()


def scalar_wave(s):  # 0-d to 0-d
    return torch.sin(3 * s) * s


def one_input_three_outputs(v):  # x of shape (1,), m = 3
    return torch.cat([v, v**3, torch.tanh(v)])


def one_output_of_five(v):  # m = 1 as a 1-D output of shape (1,)
    return torch.logsumexp(v, dim=0).reshape(1)


_generator = torch.Generator().manual_seed(120)
TALL_MATRIX, WIDE_MATRIX = torch.randn(8, 3, generator=_generator), torch.randn(2, 7, generator=_generator)

# The functions the cases differentiate, by the name a message shows.
FUNCTIONS = {
    "v₀·cos(v₁·k) for k = 0…4 (n = 2, m = 5)": curve,
    "mean and mean square (n = 6, m = 2)": moments,
    "softmax (m = n = 3)": lambda v: torch.softmax(v, dim=0),
    "0-d x to 4 outputs": polar_point,
    "4 inputs to a 0-d output": energy,
    "0-d to 0-d": scalar_wave,
    "x of shape (1,) to 3 outputs": one_input_three_outputs,
    "5 inputs to an output of shape (1,)": one_output_of_five,
    "tanh(A x), A 8 × 3": lambda v: torch.tanh(TALL_MATRIX.to(v.dtype) @ v),
    "A sin(x), A 2 × 7": lambda v: WIDE_MATRIX.to(v.dtype) @ torch.sin(v),
}
DTYPES = {"float32": torch.float32, "float64": torch.float64}

# Errors an answer may raise, by a fragment of torch's message, with the mistake each one means.
JACOBIAN_RAISED_HINTS = (
    ("len() of a 0-d tensor", "a 0-d tensor has no len(): count entries with x.numel() (1 for a 0-d x)"),
    ("invalid index of a 0-dim tensor", "a 0-d tensor has no entries to index: reshape it to 1-D first, "
                                        "t.reshape(-1), and shape J as f(x).shape + x.shape at the end"),
    ("different size than that of the original Tensor", "a tangent has the shape of x: for a 0-d x it is 0-d "
                                                        "(reshape the seed e_j to x.shape)"),
    ("a second time", "the first VJP freed the graph: pass retain_graph=True to keep it for the next rows"),
    ("Mismatch in shape", "grad_outputs weighs the outputs: e_i has the shape of f(x), not of x"),
    ("implicitly created only for scalar outputs", "a vector output needs grad_outputs=e_i (one row per output), "
                                                   "not a plain backward()"),
    ("does not require grad", "differentiate with respect to a leaf made from x with requires_grad_(), and call f on it"),
)


def jacobian_hint(got, exact, otherwise):
    """The hint that names the mistake a wrong Jacobian shows, else ``otherwise``."""
    if type(got) is not torch.Tensor:
        return "return one tensor with the shape f(x).shape + x.shape"
    got = got.double()

    def matches(candidate):
        return got.shape == candidate.shape and torch.allclose(got, candidate, rtol=1e-4, atol=1e-6)

    if got.shape != exact.shape and got.numel() == exact.numel() and matches(exact.reshape(got.shape)):
        return f"J has the shape f(x).shape + x.shape = {tuple(exact.shape)}: a 0-d x or output adds no dimension, " \
               "a 1-D one adds one even when it has a single entry"
    if exact.ndim == 2 and matches(exact.T):
        return "that is Jᵀ: column j (the JVP with e_j) goes to J[:, j], row i (the VJP with e_i) to J[i]"
    if exact.ndim == 2 and matches(exact.cumsum(0)):
        return "each row holds the rows before it too: backward() adds into .grad, so reset the leaf's .grad " \
               "between rows (or use torch.autograd.grad, which returns instead of adding)"
    if exact.ndim == 2 and matches(exact.sum(1)):
        return "that is J·1, one JVP with the tangent all ones: column j needs the one-hot seed e_j"
    if exact.ndim == 2 and matches(exact.sum(0)):
        return "that is 1ᵀJ, one VJP with all ones: row i needs the one-hot e_i"
    return otherwise


def by_differences(f, x):
    """The float64 reference, shaped f(x).shape + x.shape: central differences of each output."""
    outputs = f(x.double())
    rows = [central_difference(lambda v, i=i: f(v).reshape(-1)[i], x.double()) for i in range(outputs.numel())]
    return torch.stack(rows).reshape(outputs.shape + x.shape)


def observe_fewest_passes(answer, name, point, dtype="float32"):
    x, counter = torch.tensor(point, dtype=DTYPES[dtype]), PassCounter(FUNCTIONS[name])
    with counter:
        got = returned(answer, counter.watched_f, x)
    return {"got": got, "jvps": counter.jvps, "backward passes": counter.backward_passes,
            "batching": sorted(counter.batching), "x requires grad": x.requires_grad, "x grad": x.grad}


def passes(count: int, kind: str, plural: str) -> str:
    return f"{count} {kind}{plural * (count != 1)}"


def expect_fewest_passes(seen, m, n, case) -> None:
    """The rule of the exercise: n JVPs when n < m, m backward passes when m < n, n of one kind when m = n."""
    jvps, backward_passes = seen["jvps"], seen["backward passes"]
    if n < m:
        rule = f"forward mode, one JVP per input: {n} JVPs and no backward pass for n = {n} inputs < m = {m} outputs"
        kept = jvps == n and backward_passes == 0
    elif m < n:
        rule = f"reverse mode, one backward pass per output: {m} and no JVP for m = {m} outputs < n = {n} inputs"
        kept = backward_passes == m and jvps == 0
    else:
        rule = f"{n} passes for m = n = {n}: {n} JVPs or {n} backward passes, not both"
        kept = sorted((jvps, backward_passes)) == [0, n]
    if (jvps, backward_passes) in ((n, 0), (0, m)):
        hint = f"forward mode takes one pass per input (n = {n} here), reverse mode one per output (m = {m}): " \
               "forward mode when n < m, reverse mode when m < n"
    elif jvps + backward_passes > min(m, n):
        hint = "count m and n from f(x) and x (numel), then take exactly one pass per column or per row: " \
               "no extra pass to learn the output's shape (call f on plain x for that)"
    else:
        hint = "build J from autograd's passes, one JVP per column or one backward pass per row, not from " \
               "finite differences"
    expect_rule(kept, what=case, rule=rule, hint=hint,
                got=f"took {passes(jvps, 'JVP', 's')} and {passes(backward_passes, 'backward pass', 'es')}")


def judge_fewest_passes(seen, name, point, dtype="float32",
                        otherwise="column j is the JVP with e_j, row i the VJP with e_i"):
    f, x = FUNCTIONS[name], torch.tensor(point, dtype=DTYPES[dtype])
    case = f"jacobian_fewest_passes({name}, x of shape {tuple(x.shape)}{', float64' if dtype == 'float64' else ''})"
    got = seen["got"]
    expect_returned(got, what=case, hints=JACOBIAN_RAISED_HINTS)
    exact = by_differences(f, x)
    expect_close(got, exact, what=case, require_tensor=True, hint=jacobian_hint(got, exact, otherwise))
    expect_equal(got.dtype, x.dtype, what=f"the dtype of {case}",
                 hint="make J, its seeds and the leaf in x's dtype: torch.zeros(m, n, dtype=x.dtype), "
                      "torch.eye(n, dtype=x.dtype)")
    expect_true(seen["x grad"] is None and not seen["x requires grad"], what=f"the x passed to {case}, after the call",
                expected="x as it was: requires_grad False, .grad None",
                got=f"requires_grad {seen['x requires grad']}, .grad {seen['x grad']}",
                hint="leave the caller's x alone: differentiate with respect to a new leaf, "
                     "x.detach().clone().requires_grad_()")
    expect_rule(not seen["batching"], what=case, rule="one JVP or one VJP at a time",
                got=f"used {' and '.join(sorted(map(str, seen['batching'])))}",
                hint="column j is torch.func.jvp(f, (x,), (e_j,))[1]; row i is torch.autograd.grad(y, leaf, e_i, "
                     "retain_graph=True)[0]")
    expect_fewest_passes(seen, f(x).numel(), x.numel(), case)


check_fewest_passes = Check("check_fewest_passes", observe_fewest_passes, judge_fewest_passes)

__all__ = ["check_dual", "check_fewest_passes", "check_rule"]
