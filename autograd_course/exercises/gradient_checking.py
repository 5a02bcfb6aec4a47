"""The checks of 06_gradient_checking: ``numerical_gradient`` (exercise 1), ``relative_error`` and
``directional_check`` (exercise 2).

Every expected value is a closed form computed here in float64: the exact derivatives of the test functions, the
exact central difference of a cubic for a large step (3x² + h² for t³), the definition of the relative error. None
of them comes from a finite difference, the thing the answers compute. A wrong value that matches a known mistake
gets the hint that names it.
"""

import math

import numpy as np
import torch

from ..cases import Check, expect_returned, returned
from ..checks import expect_close, expect_equal, expect_rule, expect_true, hint_for

DTYPES = {"float32": torch.float32, "float64": torch.float64}
MAX_LISTED = 6  # numbers of an input a message lists; a larger one is named by its shape


def tensor_of(values, dtype: str, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(values, dtype=DTYPES[dtype], requires_grad=requires_grad)


def number(value: float) -> str:
    """1e-6, not Python's 1e-06; up to 15 digits, enough for 1.000000000001."""
    return f"{value:.15g}".replace("e-0", "e-")


def shown(values) -> str:
    """A literal input as a message shows it: [1, -2, 0.5], or 'a 3x3 tensor'."""
    numbers = torch.tensor(values, dtype=torch.float64)
    if numbers.numel() > MAX_LISTED:
        return f"a {'x'.join(map(str, numbers.shape))} tensor"

    def nested(part) -> str:
        return "[" + ", ".join(map(nested, part)) + "]" if isinstance(part, list) else number(part)

    return nested(numbers.tolist())


def float64_of(values, dtype: str) -> torch.Tensor:
    """The input as the answer gets it (rounded to its dtype), in float64."""
    return tensor_of(values, dtype).double()


# Exercise 1: numerical_gradient(f, x, h).

class SineWithWrongBackward(torch.autograd.Function):
    """sin going forward, but its backward() says 7: differences see the true slope cos, autograd sees 7."""

    @staticmethod
    def forward(ctx, t):
        return torch.sin(t)

    @staticmethod
    def backward(ctx, grad_output):
        return 7 * grad_output


COEFFICIENTS = np.array([0.5, -2.0, 1.5, 3.0])
WEIGHTS = torch.tensor([[-1.87, -0.99, 0.72], [-0.70, -1.47, 0.18]], dtype=torch.float64)


def numpy_sines(t):
    """Σ cᵢ sin tᵢ computed by numpy: autograd cannot see into it, differences can."""
    return torch.tensor(float(np.sum(COEFFICIENTS * np.sin(t.numpy()))), dtype=torch.float64)


def weighted_tanh(t):
    return (WEIGHTS * torch.tanh(t)).sum() + (t**2).mean()


def product_of_others(values: list[float], i: int) -> float:
    return math.prod(value for j, value in enumerate(values) if j != i)


SEVEN = "a sine whose backward() says 7"
# name: (f, its gradient at the float64 x for the step h). For t³ that is the central difference itself, 3x² + h²,
# exact for any h; for a product of distinct elements the central difference is exact too.
FUNCTIONS = {
    "sum of cubes": (lambda t: (t**3).sum(), lambda x, h: 3 * x**2 + h**2),
    "sum of squares": (lambda t: (t**2).sum(), lambda x, h: 2 * x),
    "product": (torch.prod, lambda x, h: torch.tensor([product_of_others(x.tolist(), i) for i in range(x.numel())],
                                                      dtype=torch.float64)),
    "exp(sin(t²))": (lambda t: torch.exp(torch.sin(t**2)), lambda x, h: torch.exp(torch.sin(x**2)) * torch.cos(x**2) * 2 * x),
    "weighted tanh": (weighted_tanh, lambda x, h: WEIGHTS * (1 - torch.tanh(x)**2) + 2 * x / x.numel()),
    "numpy sines": (numpy_sines, lambda x, h: torch.from_numpy(COEFFICIENTS) * torch.cos(x)),
    SEVEN: (lambda t: SineWithWrongBackward.apply(t).sum(), lambda x, h: torch.cos(x)),
}


def not_put_back(x: torch.Tensor, h: float):
    """The partials of the product when element j stays at x_j - h while the later partials are taken."""
    values = x.tolist()
    return [product_of_others([v - h if j < i else v for j, v in enumerate(values)], i) for i in range(len(values))]


# name: what known mistakes return for it at the float64 x and step h, with the hint that names each.
SLIPS = {
    "product": lambda x, h, expected: [(not_put_back(x, h), "put element i back to its value before moving element "
                                                            "i + 1")],
}
WHOLE_ROWS = "x[i] of a matrix is a whole row: move one element at a time (x.view(-1)[i])"
FLOAT64_HINT = "right to a few digits only: compute the differences in float64 (section 3.3), not just the result"
SHAPES_AND_COPIES = ("x may be 0-dim (no len(), no x[0]: use x.numel() and the flat view x.view(-1)) and may require grad "
                     "(write into x.detach().to(torch.float64).clone(), never into x)")


def described_x(point, dtype: str, requires_grad: bool) -> str:
    return f"x = {shown(point)} ({dtype}{', requires grad' if requires_grad else ''})"


def observe_numerical_gradient(answer, name, point, dtype="float64", requires_grad=False, h=None):
    """The gradient the answer returns for f at a fresh x (h passed only when given), and x after the call."""
    x = tensor_of(point, dtype, requires_grad)
    gradient = returned(answer, FUNCTIONS[name][0], x, *([] if h is None else [h]))
    return {"gradient": gradient, "x after": x.detach().clone(), "x requires_grad": x.requires_grad}


def judge_numerical_gradient(seen, name, point, dtype="float64", requires_grad=False, h=None, rtol=1e-7):
    step = 1e-6 if h is None else h
    case, gradient = f"numerical_gradient({name}, {described_x(point, dtype, requires_grad)}, h = {number(step)})", seen["gradient"]
    x = float64_of(point, dtype)
    expect_returned(gradient, what=case, hint=SHAPES_AND_COPIES)
    expected = torch.as_tensor(FUNCTIONS[name][1](x, step), dtype=torch.float64)
    slips = SLIPS[name](x, step, expected) if name in SLIPS else []
    if x.dim() == 2:  # moving row i as a whole gives, in each of its elements, the derivative along that row
        slips.append((expected.sum(dim=1, keepdim=True).expand(*expected.shape), WHOLE_ROWS))
    expect_close(gradient, expected, what=case, rtol=rtol, atol=1e-9, require_tensor=True,
                 hint=hint_for(gradient, [*slips, (expected, FLOAT64_HINT, 1e-3),
                                          (lambda got: got.shape != x.shape and got.numel() == x.numel(),
                                           f"return a tensor shaped like x {tuple(x.shape)}, not a flat one")],
                               otherwise="perturb each element by +h and -h in a float64 copy shaped like x, and "
                                         "divide by 2h", rtol=1e-6, atol=1e-12))
    expect_equal(str(gradient.dtype), "torch.float64", what=f"the dtype of the gradient of {case}",
                 hint="return the float64 differences")
    expect_x_unchanged(seen, case, point, dtype, requires_grad)


def expect_x_unchanged(seen, case: str, point, dtype: str, requires_grad: bool) -> None:
    """x after the call is x as it went in: its dtype, shape, flag and values."""
    after, before = seen["x after"], tensor_of(point, dtype)
    same_kind = type(after) is torch.Tensor and after.dtype == before.dtype and after.shape == before.shape
    change = (after.double() - before.double()).abs().max().item() if same_kind and after.numel() else 0.0
    # the hint names what changed
    if not same_kind:
        hint = "x itself was converted: leave it alone (no x.data = ...) and convert a copy, x.detach().to(torch.float64)"
    elif seen["x requires_grad"] != requires_grad:
        hint = "x's requires_grad was switched: leave x's flag alone and take the copy x.detach().to(torch.float64).clone()"
    else:
        hint = "work on x.detach().to(torch.float64).clone(): for a float64 x, .to(torch.float64) is x itself"
    expect_true(same_kind and seen["x requires_grad"] == requires_grad and change == 0,
                what=f"x after {case}", expected=f"unchanged (torch.{dtype}, requires_grad={requires_grad})",
                got=f"{getattr(after, 'dtype', type(after).__name__)}, requires_grad={seen['x requires_grad']}, "
                    f"values changed by up to {change:.1e}", hint=hint)


check_numerical_gradient = Check("check_numerical_gradient", observe_numerical_gradient, judge_numerical_gradient)


def observe_central_difference(answer, point, h):
    return observe_numerical_gradient(answer, "sum of cubes", point, "float32", False, h)


def judge_central_difference(seen, point, h):
    """A large step, so that every wrong difference quotient gives another number: for t³ the central one is
    exactly 3x² + h² (section 2: h²|f'''|/6 with f''' = 6)."""
    case, gradient, t = f"numerical_gradient(sum of cubes, {shown(point)}, h={number(h)})", seen["gradient"], float64_of(
        point, "float32")
    expect_returned(gradient, what=case)
    central = 3 * t**2 + h**2
    expect_close(gradient, central, what=case, rtol=1e-6, require_tensor=True, hint=hint_for(gradient, [
        (3 * t**2 + 3 * h * t + h**2, "that is the one-sided (f(x + h) - f(x)) / h; take (f(x + h) - f(x - h)) / 2h"),
        (3 * t**2 - 3 * h * t + h**2, "that is the one-sided (f(x) - f(x - h)) / h; take (f(x + h) - f(x - h)) / 2h"),
        (2 * central, "x + h and x - h are 2h apart: divide their difference by 2h, not by h"),
        (3 * t**2, "that is the exact derivative 3x², from autograd or from a step other than h; use the step h you are "
                   "given, and no autograd"),
        (torch.full_like(t, float(central.sum())), "every element got the same number: you moved all elements at once; "
                                                   "move only element i by ±h, then put it back"),
        (central, FLOAT64_HINT, 1e-3),
    ], otherwise="use the step h you are given, on both sides: x + h and x - h, divided by 2h", rtol=1e-6, atol=1e-12))


check_central_difference = Check("check_central_difference", observe_central_difference, judge_central_difference)


def observe_float64_differences(answer, point):
    return observe_numerical_gradient(answer, "sum of cubes", point, "float32", True)


def judge_float64_differences(seen, point):
    """The default h = 1e-6 at a float32 x that requires grad: only float64 differences are accurate to 1e-7 there
    (section 3.3), and x must come out as it went in."""
    case, gradient = f"numerical_gradient(sum of cubes, {shown(point)})", seen["gradient"]
    expect_returned(gradient, what=case)
    expect_true(type(gradient) is torch.Tensor and gradient.dtype == torch.float64,
                what="the dtype numerical_gradient returns", expected="a float64 tensor",
                got=str(gradient.dtype) if type(gradient) is torch.Tensor else type(gradient).__name__,
                hint="convert a copy of x to float64 before taking differences (section 3.3)")
    expect_close(gradient, FUNCTIONS["sum of cubes"][1](float64_of(point, "float32"), 1e-6), rtol=1e-7,
                 what=f"{case} with h = 1e-6",
                 hint="with h = 1e-6 only float64 differences are this accurate: compute the differences in float64 "
                      "(section 3.3), not just the result")
    expect_x_unchanged(seen, case, point, "float32", True)


check_float64_differences = Check("check_float64_differences", observe_float64_differences, judge_float64_differences)
PROBE = [0.2, -1.0]


def observe_no_autograd(answer):
    return observe_numerical_gradient(answer, SEVEN, PROBE, "float64", True, 1e-6)


def judge_no_autograd(seen):
    """The rule "no autograd": differences of this sine see its true slope cos(x); its backward() says 7."""
    case, gradient = f"numerical_gradient of {SEVEN}", seen["gradient"]
    expect_returned(gradient, what=case)
    expect_rule(not (type(gradient) is torch.Tensor and bool((gradient.double() == 7.0).all())),
                what=case, rule="no autograd",
                got="returned 7, what backward() says, instead of the slope cos(x) that evaluations of f show",
                hint="a reference must share nothing with autograd: use only values f(x ± h e_i)")
    judge_numerical_gradient(seen, SEVEN, PROBE, "float64", True, 1e-6)


check_no_autograd = Check("check_no_autograd", observe_no_autograd, judge_no_autograd)


# Exercise 2 (a): relative_error(a, n).

def ratios(a: np.ndarray, n: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """|a_i - n_i| / scale_i elementwise, 0 where the scale is 0."""
    return np.where(scale == 0, 0.0, np.abs(a - n) / np.where(scale == 0, 1.0, scale))


def definition(a: np.ndarray, n: np.ndarray) -> float:
    """max |a_i - n_i| / max(|a_i|, |n_i|), an element where both are 0 counted as 0."""
    return float(np.max(ratios(a, n, np.maximum(np.abs(a), np.abs(n)))))


NAN_FOR_ZEROS = "0 against 0 gives 0/0 = nan: count an element where a_i = n_i = 0 as 0"
RETURN_A_FLOAT = "turn the 0-dim result into a Python number with .item()"


def relative_error_slips(a: np.ndarray, n: np.ndarray):
    """What relative errors students write by mistake give for a and n, each with the hint that names it."""
    both_zero = [(math.nan, NAN_FOR_ZEROS)] if bool(np.any((a == 0) & (n == 0))) else []
    each = ratios(a, n, np.maximum(np.abs(a), np.abs(n)))
    same_one = "divide each |a_i - n_i| by the larger of |a_i| and |n_i|, not always by the same one of them"
    with np.errstate(divide="ignore", invalid="ignore"):
        return [
            *both_zero,
            (np.max(ratios(a, n, np.abs(a))), same_one),
            (np.max(ratios(a, n, np.abs(n))), same_one),
            (np.max(ratios(a, n, np.maximum(a, n))),
             "max(a_i, n_i) of two negative numbers is the smaller in size: divide by max(|a_i|, |n_i|)"),
            (np.max(ratios(a, n, np.abs(a) + np.abs(n))), "divide by max(|a_i|, |n_i|), not by |a_i| + |n_i|"),
            (np.mean(each), "the worst element decides: take the maximum of the ratios, not their mean"),
            (np.sum(each), "the worst element decides: take the maximum of the ratios, not their sum"),
            (np.linalg.norm(a - n) / np.linalg.norm(a), "compare element by element, not the norms"),
            (np.max(np.abs(a - n)) / max(np.max(np.abs(a)), np.max(np.abs(n))),
             "compare element by element: max|a - n| / max(|a|, |n|) over the whole tensors mixes elements"),
        ]


def observe_relative_error(answer, a, n, a_dtype="float32", n_dtype=None):
    return {"error": returned(answer, tensor_of(a, a_dtype), tensor_of(n, n_dtype or a_dtype))}


def expect_float(error, case) -> None:
    expect_returned(error, what=case)
    expect_true(type(error) is float, what=f"the type {case} returns", expected="float", got=type(error).__name__,
                hint=RETURN_A_FLOAT)


def judge_relative_error(seen, a, n, a_dtype="float32", n_dtype=None):
    """A case where every known slip gives another number than the worst ratio (0.2 for the visible one)."""
    case, error = f"relative_error({shown(a)}, {shown(n)})", seen["error"]
    a64, n64 = float64_of(a, a_dtype).numpy(), float64_of(n, n_dtype or a_dtype).numpy()
    expect_float(error, case)
    expect_close(error, definition(a64, n64), what=case, rtol=1e-6, hint=hint_for(
        error, relative_error_slips(a64, n64),
        otherwise="elementwise |a - n| / max(|a|, |n|), 0 where both are 0, then the maximum", rtol=1e-6, atol=1e-12))


check_relative_error = Check("check_relative_error", observe_relative_error, judge_relative_error)
FLOAT64_PAIR_HINT = "compute in float64: in float32, 1 and 1 + 1e-12 are the same number"
EPSILON_HINT = "do not add a small number to the denominator: gradients of size 1e-10 are real"


def judge_relative_error_edge(seen, a, n, a_dtype="float32", n_dtype=None):
    """An edge case: a sign flip, zeros, a difference float32 cannot hold, gradients of size 1e-10 ..."""
    n_dtype = n_dtype or a_dtype
    case, error = f"relative_error({shown(a)} in {a_dtype}, {shown(n)} in {n_dtype})", seen["error"]
    a64, n64 = float64_of(a, a_dtype), float64_of(n, n_dtype)
    expect_float(error, case)
    expected = definition(a64.numpy(), n64.numpy())
    lost_in_float32 = torch.equal(a64.float(), n64.float()) and not torch.equal(a64, n64)
    mistakes = [*([(math.nan, NAN_FOR_ZEROS)] if bool(((a64 == 0) & (n64 == 0)).any()) else []),
                *([(0.0, FLOAT64_PAIR_HINT)] if lost_in_float32 else []),
                (lambda got: 0 < float(got) < expected, EPSILON_HINT)]
    expect_close(error, expected, rtol=1e-6, atol=1e-15, what=case, hint=hint_for(
        error, mistakes, otherwise="elementwise |a - n| / max(|a|, |n|) in float64, 0 where both are 0, then the maximum",
        rtol=1e-6, atol=1e-12))


check_relative_error_edge = Check("check_relative_error_edge", observe_relative_error, judge_relative_error_edge)


# Exercise 2 (b): directional_check(f, grad_f, x, v, h).

SYMMETRIC = torch.tensor([[3.66, -2.02, 0.35], [-2.02, 0.23, 1.21], [0.35, 1.21, -0.27]], dtype=torch.float64)


def energy(t):
    return 0.5 * (t * (SYMMETRIC @ t)).sum() + torch.exp(t).sum()


# The functions f and the gradients grad_f the cases pass, by the name a message shows; wrong gradients too.
FUNCTIONS_OF_X = {
    "sum of sines": lambda t: torch.sin(t).sum(),
    "½ tᵀSt + Σ exp(t)": energy,
    "Σt⁴ · Σ sin t": lambda t: (t**4).sum() * torch.sin(t).sum(),
    "Σt³": lambda t: (t**3).sum(),
}
GRADIENTS = {
    "cos": torch.cos,
    "sin": torch.sin,
    "S t + exp(t)": lambda t: SYMMETRIC @ t + torch.exp(t),
    "½ S t + exp(t)": lambda t: 0.5 * SYMMETRIC @ t + torch.exp(t),  # the 0.5 kept on the quadratic part
    "S tᵀ + exp(t)": lambda t: SYMMETRIC @ t.T + torch.exp(t),  # t.T instead of t inside the product
    "4t³ Σ sin t + Σt⁴ cos t": lambda t: 4 * t**3 * torch.sin(t).sum() + (t**4).sum() * torch.cos(t),
    "3t²": lambda t: 3 * t**2,
}
TRUE_GRADIENT = {"sum of sines": "cos", "½ tᵀSt + Σ exp(t)": "S t + exp(t)", "Σt⁴ · Σ sin t": "4t³ Σ sin t + Σt⁴ cos t",
                 "Σt³": "3t²"}


def directional_case(f, grad_f, x, v) -> str:
    return f"directional_check({f}, {grad_f}, {shown(x)}, v = {shown(v)})"


def observe_directional(answer, f, grad_f, x, v, dtype="float64", requires_grad=False, h=None):
    """The relative error the answer returns (h passed only when given), and x's dtype and requires_grad after."""
    point = tensor_of(x, dtype, requires_grad)
    error = returned(answer, FUNCTIONS_OF_X[f], GRADIENTS[grad_f], point, tensor_of(v, dtype), *([] if h is None else [h]))
    return {"error": error, "x dtype": str(point.dtype), "x requires_grad": point.requires_grad}


def exact_slope(grad_f, x64, v64) -> float:
    """grad_f(x)·v in float64."""
    return float((GRADIENTS[grad_f](x64) * v64).sum())


def relative(a, n) -> float:
    return definition(np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64))


def judge_correct_gradient(seen, f, grad_f, x, v, dtype="float64", requires_grad=False, h=None,
                           otherwise="compute both numbers in float64 (section 3.3), with the central difference along v"):
    """A correct grad_f: a float64 check with the central difference along v scores it below 1e-7."""
    case, error = f"{directional_case(f, grad_f, x, v)} with the correct gradient {grad_f}", seen["error"]
    x64, v64, step = float64_of(x, dtype), float64_of(v, dtype), 1e-6 if h is None else h
    exact = exact_slope(grad_f, x64, v64)
    expect_float(error, case)
    one_sided = relative(exact, float((FUNCTIONS_OF_X[f](x64 + step * v64) - FUNCTIONS_OF_X[f](x64)) / step))
    expect_true(error < 1e-7, what=case, expected="a relative error below 1e-7", got=f"{error:.3g}", hint=hint_for(error, [
        (one_sided, "that is the error of the one-sided (f(x + h v) - f(x)) / h: take (f(x + h v) - f(x - h v)) / 2h",
         1e-2),
        (0.5, "f(x + h v) and f(x - h v) are 2h apart along v: divide by 2h"),
        (relative(exact, exact / float(v64.norm())),
         "move along v itself, not along v / |v|: grad_f(x)·v is the slope along v"),
        (relative((GRADIENTS[grad_f](x64) * v64).numpy(), exact),
         "grad_f(x)·v is one number: sum the products over the elements"),
    ], otherwise=otherwise, rtol=1e-6, atol=1e-12))
    if requires_grad:
        expect_true(seen["x dtype"] == f"torch.{dtype}" and seen["x requires_grad"] is True,
                    what="x after directional_check", expected="unchanged",
                    got=f"{seen['x dtype']}, requires_grad={seen['x requires_grad']}", hint="work on a float64 copy of x")


check_correct_gradient = Check("check_correct_gradient", observe_directional, judge_correct_gradient)
SCORED_AS_CORRECT = ("a wrong gradient scored as if correct: compute grad_f(x)·v with the grad_f you are given, not with "
                     "autograd")


def judge_wrong_gradient(seen, f, grad_f, x, v, dtype="float64",
                         otherwise="compare grad_f(x)·v with (f(x + h v) - f(x - h v)) / 2h"):
    """A wrong grad_f: the check must report its true relative error, against the exact slope along v."""
    case, error = f"{directional_case(f, grad_f, x, v)} with the wrong gradient {grad_f}", seen["error"]
    x64, v64 = float64_of(x, dtype), float64_of(v, dtype)
    expect_returned(error, what=case)
    expected = relative(exact_slope(grad_f, x64, v64), exact_slope(TRUE_GRADIENT[f], x64, v64))
    expect_close(error, expected, rtol=1e-5, what=case,
                 hint=SCORED_AS_CORRECT if type(error) is float and error < 1e-6 else otherwise)


def observe_wrong_gradient(answer, f, grad_f, x, v, dtype="float64"):
    return observe_directional(answer, f, grad_f, x, v, dtype)


check_wrong_gradient = Check("check_wrong_gradient", observe_wrong_gradient, judge_wrong_gradient)


def observe_step_along_v(answer, x, v, h):
    return observe_directional(answer, "Σt³", "3t²", x, v, "float64", False, h)


def judge_step_along_v(seen, x, v, h):
    """The step h along v, centrally: for Σt³ the central difference is Σ3t²v + h²Σv³ exactly."""
    case, error = f"directional_check(Σt³, 3t², {shown(x)}, v = {shown(v)}, h = {number(h)})", seen["error"]
    x64, v64 = float64_of(x, "float64"), float64_of(v, "float64")
    analytic = exact_slope("3t²", x64, v64)
    per_element = analytic + h**2 * float(v64.sum())  # each partial by its own central difference, then ·v
    expect_returned(error, what=case)
    expect_close(error, relative(analytic, analytic + h**2 * float((v64**3).sum())), rtol=1e-6, what=case,
                 hint=hint_for(error, [(relative(analytic, per_element), "difference along v itself, f(x + h v) - "
                                                                         "f(x - h v): two evaluations, not one pair "
                                                                         "per element")],
                               otherwise="use the step h you are given, on both sides of x along v", rtol=1e-6,
                               atol=1e-12))


check_step_along_v = Check("check_step_along_v", observe_step_along_v, judge_step_along_v)

__all__ = ["check_central_difference", "check_correct_gradient", "check_float64_differences", "check_no_autograd",
           "check_numerical_gradient", "check_relative_error", "check_relative_error_edge", "check_step_along_v",
           "check_wrong_gradient"]
