"""The checks of 14_low_precision_gradients: ``smallest_safe_scale`` (exercise 1) and ``scaler_step`` (exercise 2).

Exercise 1's expected scale comes from a brute force that lets torch round ``S * g`` to float16 for each power of two
``S``; exercise 2's from ``torch.amp.GradScaler`` itself, run on twin parameters outside the kernel, with the growth
tracker counted here from the steps the case chose (the scaler keeps it under a private key). Only public torch
names are used, so that a torch upgrade cannot fail a correct answer.
"""

import math

import torch

from ..cases import Check, expect_returned, returned, snapshot
from ..checks import TENSOR_TYPES, expect_close, expect_rule, expect_true, hint_for
from ..torch_calls import NamedTorchCalls

# Exercise 1: the gradients the cases scale, by the text a message shows.


def model_cast_input() -> torch.Tensor:
    """Section 3.4's dL/dp = 2 r / n: the seeded data of section 3.3, drawn in the same order."""
    n, generator = 4096, torch.Generator().manual_seed(14)

    def random_signs():
        return torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)

    weights = random_signs() * torch.randint(8, 16, (n,), generator=generator) * 2.0 ** torch.randint(
        -4, 0, (n,), generator=generator)
    x = random_signs() * torch.randint(8, 16, (n,), generator=generator) / 8
    signs = random_signs()
    residuals = signs * (2 ** (-20 + 18.5 * torch.rand(n, generator=generator).double())).float()
    return 2 * (weights * x - (weights * x - residuals)) / n


def random_gradients() -> dict[str, torch.Tensor]:
    """Two tensors with entries of random sign from 2**-38 to 2**-8, from one seeded generator."""
    generator, drawn = torch.Generator().manual_seed(141), {}
    for shape in ((3, 4, 5), (7,)):
        magnitudes = 2 ** (-8 - 30 * torch.rand(shape, generator=generator))
        drawn[f"a random tensor of shape {shape}, entries from 2**-38 to 2**-8"] = torch.where(
            torch.rand(shape, generator=generator) < 0.5, -magnitudes, magnitudes)
    return drawn


GRADIENTS = {
    "tensor([3e-6, -2e-9, 0.0, 1e-3])": lambda: torch.tensor([3e-6, -2e-9, 0.0, 1e-3]),
    "tensor([2**-30, 1024.0])": lambda: torch.tensor([2.0**-30, 1024.0]),
    "tensor([0.5, -1e-4, 2.0])": lambda: torch.tensor([0.5, -1e-4, 2.0]),
    "tensor([2**-24, 1.0])": lambda: torch.tensor([2.0**-24, 1.0]),
    "tensor([2**-25, -0.25])": lambda: torch.tensor([2.0**-25, -0.25]),
    "tensor([-2**-25 * (1 + 2**-23)])": lambda: torch.tensor([-(2.0**-25) * (1 + 2**-23)]),
    "tensor([1.5 * 2**-25, 3e-3])": lambda: torch.tensor([1.5 * 2.0**-25, 3e-3]),
    "tensor([0, 0, 2**-30, 0])": lambda: torch.tensor([0.0, 0.0, 2.0**-30, 0.0]),
    "torch.zeros(3)": lambda: torch.zeros(3),
    "tensor(3e-9)": lambda: torch.tensor(3e-9),
    "tensor([-1e-13, 0.1])": lambda: torch.tensor([-1e-13, 0.1]),
    "tensor([3e-45, -1e-35])": lambda: torch.tensor([3e-45, -1e-35]),
    "tensor([-2**-31, 511.8])": lambda: torch.tensor([-(2.0**-31), 511.8]),
    "tensor([2**-40])": lambda: torch.tensor([2.0**-40]),
    "tensor([2**-149, -1e-30])": lambda: torch.tensor([2.0**-149, -1e-30]),
    "tensor([2**-30, 1000.0])": lambda: torch.tensor([2.0**-30, 1000.0]),
    "tensor([2**-30, -1023.6])": lambda: torch.tensor([2.0**-30, -1023.6]),
    "tensor([2**-30, 1023.75])": lambda: torch.tensor([2.0**-30, 1023.75]),
    "tensor([65519.0, 1.0])": lambda: torch.tensor([65519.0, 1.0]),
    "tensor([1e-9, 70000.0])": lambda: torch.tensor([1e-9, 70000.0]),
    "tensor([2**-149])": lambda: torch.tensor([2.0**-149]),
    "tensor([-1e-40, 2**-100])": lambda: torch.tensor([-1e-40, 2.0**-100]),
    **{name: (lambda name=name: random_gradients()[name]) for name in random_gradients()},
    "section 3.4's dL/dp": model_cast_input,
}

ZERO_HINT = "ignore the entries that are 0: log2(0) is -inf, and no scale makes 0 nonzero"
SCALE_RAISED = (("domain", ZERO_HINT), ("infinity", ZERO_HINT), ("NaN", ZERO_HINT))
ABS_HINT = ("take the magnitudes |g| first: min() of the signed entries is the most negative one, not the smallest "
            "in size (and log2 of a negative number is a domain error); on |g| your code gives the right scale")
# float32's smallest gradient 2**-149 needs S = 2**125: from about here on, a None can come from a search stopped early.
LARGE_SCALE = 2.0**32
CAST_FIRST_HINT = ("S = 16 works here: ignore the entries that are 0, and scale in float32 before rounding to float16 "
                   "(gradient.half() has already rounded 2e-9 to 0)")


def brute_force_scale(gradient):
    """Try each power of two, and let torch round the exact float32 product to float16."""
    nonzero = gradient != 0
    for k in range(0, 300):
        scaled = (gradient * 2.0**k).half()
        if not bool(torch.isfinite(scaled).all()):
            return None  # a larger scale overflows too
        if bool((scaled != 0)[nonzero].all()):
            return 2.0**k
    return None


def power_reaching(gradient, bound, strictly):
    """The smallest 2**k (k >= 0) with 2**k * (smallest nonzero |g|) above bound (or at least bound)."""
    magnitudes = gradient.double().abs()
    smallest = magnitudes[magnitudes > 0].min().item()
    k = 0
    while smallest * 2.0**k < bound or (strictly and smallest * 2.0**k == bound):
        k += 1
    return 2.0**k


def scale_hint(got, gradient, expected):
    """The hint naming the mistake a wrong scale ``got`` shows on ``gradient``."""
    magnitudes = gradient.double().abs()
    if got is None:
        if not bool((magnitudes > 0).any()):
            return "every entry is 0: nothing needs scaling, the scale is 1.0"
        if expected is not None and expected * magnitudes.max().item() > 65504:
            return "S * g is rounded to nearest: up to 65520 it becomes 65504 (the max), only from 65520 on inf"
        if expected is not None and expected >= LARGE_SCALE:
            return (f"S = 2**{int(math.log2(expected))} works here: float32 gradients reach down to 2**-149, which "
                    "needs S = 2**125, so the search for k must not stop before that (keep S a Python float)")
        if expected is not None and expected > 65504:
            return "the scale itself is above 65504, inf as a float16: keep it a Python float (or float32)"
        return CAST_FIRST_HINT.replace("S = 16 works here", f"S = {expected!r} works here").replace(
            " 2e-9 ", " the small entries ")
    if expected is None:
        return "check the largest entry too: S * max|g| rounds to inf from 65520 on, and a larger S only makes it worse"
    if not bool((magnitudes > 0).any()):
        return "every entry is 0: nothing needs scaling, the scale is 1.0"
    return hint_for(got, [
        (power_reaching(gradient, 2.0**-25, strictly=False),
         "exactly 2**-25 is a tie between 0 and 2**-24, and the tie goes to the even one, 0: S * g must exceed 2**-25"),
        (power_reaching(gradient, 2.0**-24, strictly=False),
         "round to nearest: anything above 2**-25 already rounds up to 2**-24, S * g need not reach 2**-24"),
        (power_reaching(gradient, 2.0**-14, strictly=False),
         "a subnormal is not 0: S * g need not reach the smallest normal 2**-14, only exceed 2**-25"),
        (power_reaching(gradient, 2.0**-149, strictly=True),
         "use float16's limits (smallest subnormal 2**-24), not float32's"),
        (expected / 2, "one power too small: S * g must be above 2**-25, not at it"),
        (expected * 2, "one power too large: the smallest k with 2**k * g > 2**-25"),
        (lambda value: bool(value == 1.0), "scale before rounding to float16: gradient.half() has already rounded the "
                                           "small entries to 0")],
        "the smallest 2**k with 2**k * min|g| > 2**-25 (the smallest nonzero |g|), unless 2**k * max|g| >= 65520")


# The visible cases' hints, worked out for their numbers.
VISIBLE_HINTS = {
    "tensor([3e-6, -2e-9, 0.0, 1e-3])": lambda got: CAST_FIRST_HINT if got is None else hint_for(got, [
        (1.0, "float16's smallest subnormal is 2**-24 ≈ 5.96e-8; 2e-9 is far below half of it and rounds to 0"),
        (8.0, "8 * 2e-9 = 1.6e-8 is below 2**-25 ≈ 2.98e-8, half the smallest subnormal: it still rounds to 0"),
        (32.0, "16 * 2e-9 = 3.2e-8 is above 2**-25, so round to nearest already gives 2**-24: "
               "it need not reach 2**-24"),
        (32768.0, "a subnormal is not 0: S * g need not reach the smallest normal 2**-14, only exceed 2**-25")],
        "the smallest nonzero |g| is 2e-9: find the smallest 2**k with 2**k * 2e-9 > 2**-25 "
        "(it then rounds to 2**-24)"),
    "tensor([2**-30, 1024.0])": lambda got: hint_for(got, [
        (32.0, "32 * 2**-30 = 2**-25 exactly is a tie between 0 and 2**-24, and the tie goes to the even one, 0: "
               "2**-30 needs S = 64")],
        "2**-30 needs S = 64, but 64 * 1024 = 65536 is above 65520 and rounds to inf: no S keeps both"),
}


def as_plain(got):
    """A float subclass (numpy's float64) as the Python float it is; anything else as itself, judged by its type."""
    return float(got) if isinstance(got, float) else got


def observe_scale(answer, name):
    """The scale for the gradient, and for its magnitudes |g| when it has negative entries (whose scale is the same):
    an answer right on |g| only has forgotten abs()."""
    gradient = GRADIENTS[name]()
    magnitudes = returned(answer, gradient.abs()) if bool((gradient < 0).any()) else None
    return {"got": as_plain(returned(answer, gradient)), "got for |g|": as_plain(magnitudes)}


def right_scale(got, expected) -> bool:
    return type(got) in (float, int, type(None)) and got == expected


def judge_scale(seen, name):
    what, got, gradient = f"smallest_safe_scale({name})", seen["got"], GRADIENTS[name]()
    expected = brute_force_scale(gradient)
    forgot_abs = bool((gradient < 0).any()) and not right_scale(got, expected) \
        and right_scale(seen["got for |g|"], expected)
    if forgot_abs:
        expect_returned(got, what=what, hint=ABS_HINT)
    expect_returned(got, what=what, hints=SCALE_RAISED)
    hint = ABS_HINT if forgot_abs else VISIBLE_HINTS[name](got) if name in VISIBLE_HINTS else \
        scale_hint(got, gradient, expected)
    if expected is None:
        expect_true(got is None, what=what, expected="None (no power of two keeps every entry nonzero and finite)",
                    got=repr(got), hint=hint)
        return
    expect_true(got is not None, what=what, expected=f"{expected!r}", got="None", hint=hint)
    expect_close(got, expected, rtol=0.0, atol=0.0, what=what, hint=hint)
    expect_true(type(got) is float, what=what, expected=f"the Python float {expected!r}",
                got=f"{type(got).__name__} {got!r}", hint="return the scale as a Python float: 2.0**k, or float(2**k)")


check_scale = Check("check_scale", observe_scale, judge_scale)

# Exercise 2: each step's gradient coefficients (one per parameter, None for a parameter outside the loss), by name.
GOOD = [torch.tensor([1.0, -2.0, 0.5]), torch.tensor([[0.25, 1.0], [-1.0, 3.0]])]
ONLY_FIRST = [torch.tensor([0.5, -1.0, 2.0]), None, torch.tensor([1.0, 1.0])]
TWO_GROUPS = [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([[1.0, 0.5], [0.25, -1.0]])]
STEPS = {
    "good": GOOD,
    "inf in b": [torch.tensor([1.0, 2.0, -1.0]), torch.tensor([[0.5, math.inf], [1.0, 0.0]])],
    "NaN in a": [torch.tensor([math.nan, 1.0, 1.0]), torch.tensor([[1.0, -1.0], [2.0, 0.5]])],
    "only the first": ONLY_FIRST,
    "-inf in the last only": [None, None, torch.tensor([-math.inf, 1.0])],
    "two groups, good": [*TWO_GROUPS, torch.tensor([2.0, -2.0])],
    "two groups, inf in the second": [*TWO_GROUPS, torch.tensor([math.inf, 0.0])],
    "0-d 1e-3": [torch.tensor(1e-3)],
    "0-d NaN": [torch.tensor(math.nan)],
    "0-d -2": [torch.tensor(-2.0)],
}
# Single steps that show how an answer looks for inf and NaN (which gradient it reads, which test it uses), so that
# a hint names the mistake the answer made: by what it did here, not by the step it failed.
PROBES = {
    "inf in the first": [torch.tensor([math.inf, 1.0, 1.0]), torch.tensor([[1.0, -1.0], [2.0, 0.5]])],
    "inf in the last": [torch.tensor([1.0, 2.0, -1.0]), torch.tensor([[0.5, math.inf], [1.0, 0.0]])],
    "NaN in the last": [torch.tensor([1.0, 2.0, -1.0]), torch.tensor([[0.5, math.nan], [1.0, 0.0]])],
}
PROBE_LAYOUT = [[(3,), (2, 2)]]
OPTIMIZERS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam}
SCALER_DEFAULTS = {"init_scale": 1024.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2}
NONE_GRAD = (("NoneType", "skip parameters whose .grad is None: they took no part in the loss"),)


def parameters(layout):
    """Parameters grouped as in ``layout`` (a list of groups, each a list of shapes), the same on every call."""
    generator = torch.Generator().manual_seed(2)
    return [[torch.randn(shape, generator=generator).requires_grad_() for shape in group] for group in layout]


def coefficient_loss(groups, coefficients):
    """sum of (p * c).sum(): its gradient for p is c; c None leaves p.grad None."""
    flat = [parameter for group in groups for parameter in group]
    return sum((parameter * c).sum() for parameter, c in zip(flat, coefficients) if c is not None)


def settings_of(pairs) -> dict:
    """A case's settings from its (name, value) pairs (a test cell's literal, which plain data carries): the
    optimizer's name, the scaler's init_scale and factors, and the rest as the optimizer's options."""
    given = dict(pairs)
    options = {key: value for key, value in given.items() if key != "optimizer" and key not in SCALER_DEFAULTS}
    return {**SCALER_DEFAULTS, **{key: value for key, value in given.items() if key in SCALER_DEFAULTS},
            "optimizer": given.get("optimizer", "SGD"), "options": options or {"lr": 0.1, "momentum": 0.9}}


def optimizer_of(groups, settings):
    return OPTIMIZERS[settings["optimizer"]]([{"params": group} for group in groups], **settings["options"])


def factors_of(settings):
    return {key: settings[key] for key in ("growth_factor", "backoff_factor", "growth_interval")}


class GradScalerCalls:
    """Counts the calls of ``torch.amp.GradScaler``'s own unscale, step and update while the ``with`` block runs.

    It wraps the public methods for the block (every GradScaler class inherits them) and puts them back after, and
    counts the torch functions named ``_amp_...`` it unscales and updates with, for a method saved before the block.
    """

    METHODS = ("unscale_", "step", "update")

    def __enter__(self):
        self.method_calls, self.originals = 0, {name: vars(torch.amp.GradScaler)[name] for name in self.METHODS}
        for name, method in self.originals.items():
            setattr(torch.amp.GradScaler, name, self.counting(method))
        self.kernels = NamedTorchCalls(lambda name: name.startswith("_amp_"))
        self.kernels.__enter__()
        return self

    @property
    def count(self):
        return self.method_calls + self.kernels.count

    def counting(self, method):
        def counted(*args, **kwargs):
            self.method_calls += 1
            return method(*args, **kwargs)
        return counted

    def __exit__(self, *exception):
        self.kernels.__exit__(*exception)
        for name, method in self.originals.items():
            setattr(torch.amp.GradScaler, name, method)


def well_formed(got) -> bool:
    """A return value the next step can be run with: (stepped, a 0-d float32 tensor, an int)."""
    return (type(got) is tuple and len(got) == 3 and type(got[1]) in TENSOR_TYPES and got[1].dtype == torch.float32
            and got[1].ndim == 0 and type(got[2]) is int)


def observe_scaler_steps(answer, layout, steps, pairs):
    """Each step: the loss times the scale the answer returned last, backward, then the answer's step."""
    groups, settings = parameters(layout), settings_of(pairs)
    flat, optimizer = [parameter for group in groups for parameter in group], optimizer_of(groups, settings)
    scale, tracker, seen = torch.tensor(settings["init_scale"]), 0, {}
    for number, step in enumerate(steps, 1):
        (coefficient_loss(groups, STEPS[step]) * scale).backward()
        held = [parameter.grad for parameter in flat]
        with GradScalerCalls() as calls:
            got = returned(answer, optimizer, scale.clone(), tracker, **factors_of(settings))
        seen[f"step {number}"] = tuple(map(snapshot, got)) if type(got) is tuple else snapshot(got)
        seen[f"step {number} GradScaler calls"] = calls.count
        seen[f"step {number} parameters"] = [snapshot(parameter) for parameter in flat]
        seen[f"step {number} grads"] = [None if parameter.grad is None else snapshot(parameter.grad)
                                        for parameter in flat]
        seen[f"step {number} grads kept"] = [parameter.grad is grad for parameter, grad in zip(flat, held)]
        if not well_formed(got):
            break  # the judge fails this step
        _, scale, tracker = got
        optimizer.zero_grad()
    return {**seen, "probes stepped": [probe_stepped(answer, name) for name in PROBES]}


def probe_stepped(answer, name):
    """Whether the answer stepped on one probe (a fresh SGD with momentum, scale 1024), None if it returned no bool."""
    groups = parameters(PROBE_LAYOUT)
    optimizer = optimizer_of(groups, settings_of([]))
    (coefficient_loss(groups, PROBES[name]) * 1024.0).backward()
    got = returned(answer, optimizer, torch.tensor(1024.0), 0, **factors_of(settings_of([])))
    stepped = got[0] if type(got) is tuple and len(got) == 3 else None
    stepped = stepped.item() if type(stepped) in TENSOR_TYPES and stepped.numel() == 1 else stepped
    return stepped if type(stepped) is bool else None


def all_finite(coefficients) -> bool:
    return all(bool(torch.isfinite(c).all()) for c in coefficients if c is not None)


def counted_tracker(tracker: int, coefficients, growth_interval: int) -> int:
    """The growth tracker after a step, as GradScaler counts it (section 2): good steps in a row, 0 after a skipped
    step or a growth. Counted here, since GradScaler keeps it under a private key."""
    return 0 if not all_finite(coefficients) or tracker + 1 == growth_interval else tracker + 1


def step_hint(coefficients, probes_stepped):
    """The hint for a wrong ``stepped``, from what the answer did on the probes (True: it stepped despite the inf)."""
    if all_finite(coefficients):
        return "every gradient is finite here: call optimizer.step() and return True"
    missed = {name for name, stepped in zip(PROBES, probes_stepped) if stepped is True}
    if missed == {"inf in the first"}:
        return ("your flag forgets an inf found in an earlier parameter when a later one is finite: once set, keep it "
                "(found = found or ...), do not overwrite it with each parameter's check")
    if "inf in the last" in missed and "inf in the first" not in missed:
        return "check every gradient of every parameter group: an inf in any one of them skips the whole step"
    if missed == {"NaN in the last"}:
        return "a NaN gradient must skip the step too: torch.isinf misses NaN, torch.isfinite catches both"
    return "skip optimizer.step() when any gradient holds an inf or a NaN"


def describe(steps, settings):
    scaler = ", ".join(f"{key} {settings[key]}" for key in SCALER_DEFAULTS)
    return f"scaler_step with {settings['optimizer']} {settings['options']}, {scaler}; steps: {', '.join(steps)}"


def judge_step(seen, number, coefficients, scaler, reference, tracker, what):
    """One step of the answer against GradScaler's on the reference parameters; ``tracker`` is the expected count."""
    case, got, finite = f"{what}, step {number}", seen[f"step {number}"], all_finite(coefficients)
    expect_returned(got, what=case, hints=NONE_GRAD)
    expect_rule(seen[f"step {number} GradScaler calls"] == 0, what=case,
                rule="a scaler step written without torch.amp.GradScaler",
                got="ran GradScaler's unscale, step or update", hint="unscale, check and update the scale yourself")
    expect_true(type(got) is tuple and len(got) == 3, what=f"{case}: the value returned",
                expected="a tuple (stepped, new_scale, new_growth_tracker)", got=repr(got),
                hint="return stepped, new_scale, new_growth_tracker")
    stepped, scale, got_tracker = got
    stepped = stepped.item() if type(stepped) in TENSOR_TYPES and stepped.numel() == 1 else stepped
    expect_true(stepped is finite, what=f"{case}: stepped", expected=repr(finite), got=repr(stepped),
                hint=step_hint(coefficients, seen["probes stepped"]))
    for index, (expected, parameter, grad, kept) in enumerate(zip(
            reference, seen[f"step {number} parameters"], seen[f"step {number} grads"], seen[f"step {number} grads kept"],
            strict=True)):
        expect_rule(kept or not finite or expected.grad is None, what=f"{case}: parameter {index}'s .grad",
                    rule="unscale in place", got="put a new tensor in .grad",
                    hint="multiply the .grad tensor itself by 1/scale: parameter.grad.mul_(1 / scale) or "
                         "parameter.grad *= 1 / scale, not parameter.grad = parameter.grad / scale")
        expect_close(parameter, expected.detach(), rtol=1e-5, atol=1e-7,
                     what=f"{case}: parameter {index} after the step",
                     hint="unscale (multiply each .grad in place by 1/scale) before optimizer.step()" if finite else
                     "do not call optimizer.step() at all on an inf/NaN step: zeroed or cleaned gradients still "
                     "move the parameters (momentum)")
        if expected.grad is None:
            expect_true(grad is None, what=f"{case}: parameter {index}'s .grad", expected="None", got="a tensor",
                        hint="leave a parameter whose .grad is None alone")
        elif finite:
            expect_close(grad, expected.grad, rtol=1e-6, atol=0.0, what=f"{case}: parameter {index}'s .grad",
                         hint="leave the unscaled gradient in .grad: multiply it in place by 1/scale")
    expect_true(type(scale) in TENSOR_TYPES and scale.dtype == torch.float32 and scale.ndim == 0,
                what=f"{case}: the new scale", expected="a 0-d float32 tensor", got=f"{type(scale).__name__} {scale!r}",
                hint="keep the scale a 0-d float32 tensor, like the scaler's own: "
                     "multiply the tensor scale by the factor")
    grew = scaler["after"] > scaler["before"]
    expect_close(scale, scaler["after"], rtol=1e-7, atol=0.0, what=f"{case}: the new scale",
                 hint="an inf/NaN step multiplies the scale by backoff_factor" if not finite else
                 "after growth_interval good steps in a row, multiply the scale by growth_factor" if grew else
                 "grow the scale only when growth_interval good steps in a row have been counted")
    expect_true(type(got_tracker) is int and got_tracker == tracker, what=f"{case}: the new growth tracker",
                expected=repr(tracker), got=repr(got_tracker),
                hint="an inf/NaN step restarts the count of good steps at 0" if not finite else
                "restart the count at 0 when the scale grows" if tracker == 0 else
                "count the good steps: add 1 after each step taken")


def judge_scaler_steps(seen, layout, steps, pairs):
    groups, settings = parameters(layout), settings_of(pairs)
    factors = factors_of(settings)
    reference, optimizer = [parameter for group in groups for parameter in group], optimizer_of(groups, settings)
    scaler = torch.amp.GradScaler("cpu", init_scale=settings["init_scale"], **factors)
    tracker, what = 0, describe(steps, settings)
    for number, step in enumerate(steps, 1):
        coefficients, before = STEPS[step], scaler.get_scale()
        scaler.scale(coefficient_loss(groups, coefficients)).backward()
        scaler.step(optimizer)
        scaler.update()
        tracker = counted_tracker(tracker, coefficients, factors["growth_interval"])
        judge_step(seen, number, coefficients, {"before": before, "after": scaler.get_scale()}, reference, tracker,
                   what)
        optimizer.zero_grad()


check_scaler_steps = Check("check_scaler_steps", observe_scaler_steps, judge_scaler_steps)

__all__ = ["check_scale", "check_scaler_steps"]
