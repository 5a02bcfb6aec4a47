"""Misconceptions and correct answers for 14_low_precision_gradients."""

from misconceptions import Correct, Mistake


def safe_scale(body):
    """An ex1 answer: smallest_safe_scale with this body (indented by 4 spaces)."""
    return {"ex1_answer": f"def smallest_safe_scale(gradient):\n{body}"}


def scaler(body):
    """An ex2 answer: scaler_step with this body (indented by 4 spaces)."""
    return {"ex2_answer": ("def scaler_step(optimizer, scale, growth_tracker, growth_factor=2.0, backoff_factor=0.5, "
                           f"growth_interval=2000):\n{body}")}


def smallest_power(condition, overflow="    if scale * max(values) >= 65520:\n        return None\n"):
    """An ex1 answer that doubles the scale while ``condition`` (on ``smallest``) fails, then checks the overflow."""
    return safe_scale(
        "    values = [abs(v) for v in gradient.flatten().tolist() if v != 0]\n"
        "    if not values:\n"
        "        return 1.0\n"
        "    smallest, scale = min(values), 1.0\n"
        f"    while not ({condition}):\n"
        "        scale *= 2\n"
        f"{overflow}"
        "    return scale\n")


def scaler_answer(check, unscale="parameter.grad.mul_(1 / scale)", on_inf="        return False, scale * backoff_factor, 0\n",
                  growth="    growth_tracker += 1\n    if growth_tracker == growth_interval:\n"
                         "        return True, scale * growth_factor, 0\n"):
    """An ex2 answer: unscale every present gradient, ``check`` sets found, ``on_inf`` handles it, ``growth`` counts."""
    return scaler(
        "    grads = [p.grad for group in optimizer.param_groups for p in group[\"params\"] if p.grad is not None]\n"
        "    found = False\n"
        "    for parameter in [p for group in optimizer.param_groups for p in group[\"params\"] if p.grad is not None]:\n"
        f"        {check}\n"
        f"        {unscale}\n"
        "    if found:\n"
        f"{on_inf}"
        "    optimizer.step()\n"
        f"{growth}"
        "    return True, scale, growth_tracker\n")


ISFINITE = "found = found or not bool(torch.isfinite(parameter.grad).all())"

CASES = [
    # Exercise 1: the smallest safe loss scale.
    Correct("ex1-reference-loop", smallest_power("smallest * scale > 2.0**-25")),
    Correct("ex1-brute-force-cast", safe_scale(
        "    nonzero = gradient != 0\n"
        "    scale = 1.0\n"
        "    while True:\n"
        "        scaled = (gradient * scale).half()\n"
        "        if not bool(torch.isfinite(scaled).all()):\n"
        "            return None\n"
        "        if bool((scaled != 0)[nonzero].all()):\n"
        "            return scale\n"
        "        scale *= 2\n")),
    Correct("ex1-numpy-log2-finfo", safe_scale(
        "    g = np.abs(gradient.numpy().astype(np.float64)).ravel()\n"
        "    g = g[g > 0]\n"
        "    if g.size == 0:\n"
        "        return 1.0\n"
        "    info = torch.finfo(torch.float16)\n"
        "    half_subnormal = info.tiny * info.eps / 2\n"
        "    k = max(0, int(np.floor(np.log2(half_subnormal / g.min()))) + 1)\n"
        "    top = info.max + 2.0 ** (15 - 10) / 2  # the midpoint between 65504 and 2**16\n"
        "    return None if g.max() * 2.0**k >= top else 2.0**k\n")),
    Correct("ex1-numpy-exp2", safe_scale(  # returns numpy's float64, a subclass of float
        "    g = np.abs(gradient.double().numpy()).ravel()\n"
        "    g = g[g > 0]\n"
        "    if g.size == 0:\n"
        "        return 1.0\n"
        "    k = max(0, int(np.floor(-25 - np.log2(g.min()))) + 1)\n"
        "    return None if np.exp2(k) * g.max() >= 65520 else np.exp2(k)\n")),
    Correct("ex1-frexp", safe_scale(
        "    flat = gradient.abs().flatten()\n"
        "    flat = flat[flat > 0]\n"
        "    if len(flat) == 0:\n"
        "        return 1.0\n"
        "    mantissa, exponent = math.frexp(flat.min().item())  # g = mantissa * 2**exponent, mantissa in [0.5, 1)\n"
        "    k = -24 - exponent + (1 if mantissa == 0.5 else 0)\n"
        "    k = max(k, 0)\n"
        "    if flat.max().item() * 2.0**k >= 65520:\n"
        "        return None\n"
        "    return float(2**k)\n")),
    Mistake("ex1-float32-tiny", smallest_power("smallest * scale >= torch.finfo(torch.float32).tiny"),
            fails="ex1_tests", hint="float16's smallest subnormal", why="uses float32's limits"),
    Mistake("ex1-smallest-normal", smallest_power("smallest * scale >= torch.finfo(torch.float16).tiny"),
            fails="ex1_tests", hint="a subnormal is not 0", why="asks for a normal float16"),
    Mistake("ex1-reach-subnormal", smallest_power("smallest * scale >= 2.0**-24"),
            fails="ex1_tests", hint="need not reach 2**-24", why="forgets round to nearest"),
    Mistake("ex1-tie-rounds-up", smallest_power("smallest * scale >= 2.0**-25"),
            fails="ex1_tests", hint="goes to the even one, 0", why="the tie at 2**-25 rounds to 0, not up"),
    Mistake("ex1-no-overflow-check", smallest_power("smallest * scale > 2.0**-25", overflow=""),
            fails="ex1_tests", hint="no S keeps both", why="ignores the largest entry"),
    Mistake("ex1-overflow-at-max", smallest_power(
        "smallest * scale > 2.0**-25", overflow="    if scale * max(values) > torch.finfo(torch.float16).max:\n"
                                                "        return None\n"),
            fails="ex1_tests", hint="up to 65520 it becomes 65504", why="forgets rounding at the top"),
    Mistake("ex1-cast-first", safe_scale(
        "    nonzero = gradient != 0\n"
        "    scale = 1.0\n"
        "    while scale < 2.0**130:\n"
        "        scaled = gradient.half() * scale\n"
        "        if not bool(torch.isfinite(scaled).all()):\n"
        "            return None\n"
        "        if bool((scaled != 0)[nonzero].all()):\n"
        "            return scale\n"
        "        scale *= 2\n"
        "    return None\n"),
            fails="ex1_tests", hint="gradient.half() has already rounded", why="rounds to float16 before scaling"),
    Mistake("ex1-zeros-not-ignored", safe_scale(
        "    smallest = gradient.abs().min().item()\n"
        "    k = max(0, math.floor(-25 - math.log2(smallest)) + 1)\n"
        "    if 2.0**k * gradient.abs().max().item() >= 65520:\n"
        "        return None\n"
        "    return 2.0**k\n"),
            fails="ex1_tests", hint="ignore the entries that are 0", why="log2(0) of a zero entry"),
    Mistake("ex1-float16-scale", safe_scale(
        "    nonzero = gradient != 0\n"
        "    for k in range(200):\n"
        "        scale = torch.tensor(2.0**k, dtype=torch.float16)\n"
        "        scaled = (gradient * scale).half()\n"
        "        if not bool(torch.isfinite(scaled).all()):\n"
        "            return None\n"
        "        if bool((scaled != 0)[nonzero].all()):\n"
        "            return float(scale)\n"
        "    return None\n"),
            fails="ex1_tests", hint="keep it a Python float", why="the scale 2**16 itself overflows float16"),
    Mistake("ex1-returns-an-int", safe_scale(
        "    flat = gradient.abs().flatten()\n"
        "    flat = flat[flat > 0]\n"
        "    if len(flat) == 0:\n"
        "        return 1\n"
        "    k = max(0, math.floor(-25 - math.log2(flat.min().item())) + 1)\n"
        "    if flat.max().item() * 2**k >= 65520:\n"
        "        return None\n"
        "    return 2**k\n"),
            fails="ex1_tests", hint="return the scale as a Python float", why="rule: an int, where a float is asked"),
    Mistake("ex1-search-stops-early", safe_scale(
        "    nonzero = gradient != 0\n"
        "    for k in range(64):\n"
        "        scaled = (gradient * 2.0**k).half()\n"
        "        if not bool(torch.isfinite(scaled).all()):\n"
        "            return None\n"
        "        if bool((scaled != 0)[nonzero].all()):\n"
        "            return 2.0**k\n"
        "    return None\n"),
            fails="ex1_tests", hint="must not stop before that", why="2**-149 needs S = 2**125"),
    Mistake("ex1-no-abs", safe_scale(
        "    values = [v for v in gradient.flatten().tolist() if v != 0]\n"
        "    if not values:\n"
        "        return 1.0\n"
        "    k = max(0, math.floor(-25 - math.log2(min(values))) + 1)\n"
        "    if 2.0**k * max(values) >= 65520:\n"
        "        return None\n"
        "    return 2.0**k\n"),
            fails="ex1_tests", hint="take the magnitudes |g| first", why="min() of signed entries: log2 of a negative"),

    # Exercise 2: one GradScaler step.
    Correct("ex2-reference-like", scaler_answer(ISFINITE)),
    Correct("ex2-cat-and-div", scaler(
        "    grads = [p.grad for group in optimizer.param_groups for p in group['params'] if p.grad is not None]\n"
        "    for g in grads:\n"
        "        g.div_(scale)\n"
        "    found_inf = bool(torch.cat([g.flatten() for g in grads]).isinf().any()) or "
        "bool(torch.cat([g.flatten() for g in grads]).isnan().any())\n"
        "    if found_inf:\n"
        "        return False, scale * backoff_factor, 0\n"
        "    optimizer.step()\n"
        "    count = growth_tracker + 1\n"
        "    if count >= growth_interval:\n"
        "        scale, count = scale * growth_factor, 0\n"
        "    return True, scale, count\n")),
    Correct("ex2-python-floats", scaler(
        "    inverse = 1.0 / scale.item()\n"
        "    ok = True\n"
        "    for group in optimizer.param_groups:\n"
        "        for p in group['params']:\n"
        "            if p.grad is not None:\n"
        "                ok = ok and bool(torch.isfinite(p.grad).all())\n"
        "                p.grad *= inverse\n"
        "    if not ok:\n"
        "        return False, torch.tensor(scale.item() * backoff_factor, dtype=torch.float32), 0\n"
        "    optimizer.step()\n"
        "    tracker = (growth_tracker + 1) % growth_interval\n"
        "    factor = growth_factor if tracker == 0 else 1.0\n"
        "    return True, torch.tensor(scale.item() * factor, dtype=torch.float32), tracker\n")),
    Mistake("ex2-no-unscale", scaler_answer(ISFINITE, unscale="pass"),
            fails="ex2_tests", hint="unscale (multiply each .grad in place by 1/scale)", why="steps with scaled gradients"),
    Mistake("ex2-isinf-only", scaler_answer("found = found or bool(torch.isinf(parameter.grad).any())"),
            fails="ex2_tests", hint="torch.isinf misses NaN", why="NaN is not inf"),
    Mistake("ex2-flag-overwritten", scaler_answer("found = not bool(torch.isfinite(parameter.grad).all())"),
            fails="ex2_tests", hint="do not overwrite it with each parameter's check",
            why="each parameter's check replaces the last: only the last parameter counts"),
    Mistake("ex2-rebinds-grad", scaler_answer(ISFINITE, unscale="parameter.grad = parameter.grad / scale"),
            fails="ex2_tests", hint="the exercise's rule is unscale in place", why="rule: .grad replaced, not unscaled"),
    Mistake("ex2-first-parameter-only", scaler_answer(
        "found = not bool(torch.isfinite(optimizer.param_groups[0]['params'][0].grad).all())"),
            fails="ex2_tests", hint="check every gradient of every parameter group", why="looks at one parameter"),
    Mistake("ex2-zero-instead-of-skip", scaler_answer(ISFINITE, on_inf=(
        "        for group in optimizer.param_groups:\n"
        "            for p in group['params']:\n"
        "                if p.grad is not None:\n"
        "                    p.grad.zero_()\n"
        "        optimizer.step()\n"
        "        return False, scale * backoff_factor, 0\n")),
            fails="ex2_tests", hint="zeroed or cleaned gradients", why="momentum still moves the weights"),
    Mistake("ex2-tracker-kept-on-overflow", scaler_answer(
        ISFINITE, on_inf="        return False, scale * backoff_factor, growth_tracker\n"),
            fails="ex2_tests", hint="restarts the count of good steps at 0", why="overflow does not reset the tracker"),
    Mistake("ex2-grows-one-late", scaler_answer(ISFINITE, growth=(
        "    if growth_tracker == growth_interval:\n"
        "        return True, scale * growth_factor, 0\n"
        "    growth_tracker += 1\n")),
            fails="ex2_tests", hint="after growth_interval good steps in a row", why="compares before counting"),
    Mistake("ex2-none-grad-crash", scaler(
        "    found = False\n"
        "    for group in optimizer.param_groups:\n"
        "        for p in group['params']:\n"
        "            found = found or not bool(torch.isfinite(p.grad).all())\n"
        "            p.grad.mul_(1 / scale)\n"
        "    if found:\n"
        "        return False, scale * backoff_factor, 0\n"
        "    optimizer.step()\n"
        "    growth_tracker += 1\n"
        "    if growth_tracker == growth_interval:\n"
        "        return True, scale * growth_factor, 0\n"
        "    return True, scale, growth_tracker\n"),
            fails="ex2_tests", hint="skip parameters whose .grad is None", why="a parameter outside the loss"),
    Mistake("ex2-float-scale", scaler_answer(ISFINITE, on_inf="        return False, scale.item() * backoff_factor, 0\n"),
            fails="ex2_tests", hint="keep the scale a 0-d float32 tensor", why="returns a Python float"),
    Mistake("ex2-uses-gradscaler", scaler(
        "    grad_scaler = torch.amp.GradScaler('cpu', init_scale=scale.item(), growth_factor=growth_factor,\n"
        "                                       backoff_factor=backoff_factor, growth_interval=growth_interval)\n"
        "    grad_scaler.scale(torch.zeros(()))\n"
        "    found = any(not bool(torch.isfinite(p.grad).all()) for group in optimizer.param_groups\n"
        "                for p in group['params'] if p.grad is not None)\n"
        "    grad_scaler.step(optimizer)\n"
        "    grad_scaler.update()\n"
        "    tracker = 0 if found else (growth_tracker + 1) % growth_interval\n"
        "    return not found, torch.tensor(grad_scaler.get_scale()), tracker\n"),
            fails="ex2_tests", hint="without torch.amp.GradScaler", why="rule: write the step yourself"),
    Mistake("ex2-saved-gradscaler-methods", {"ex2_answer": (
        "unscale_gradients, take_step, update_scale = (torch.amp.GradScaler.unscale_, torch.amp.GradScaler.step,\n"
        "                                              torch.amp.GradScaler.update)\n\n\n"
        "def scaler_step(optimizer, scale, growth_tracker, growth_factor=2.0, backoff_factor=0.5, "
        "growth_interval=2000):\n"
        "    grad_scaler = torch.amp.GradScaler('cpu', init_scale=scale.item(), growth_factor=growth_factor,\n"
        "                                       backoff_factor=backoff_factor, growth_interval=growth_interval)\n"
        "    grad_scaler.scale(torch.zeros(()))\n"
        "    found = any(not bool(torch.isfinite(p.grad).all()) for group in optimizer.param_groups\n"
        "                for p in group['params'] if p.grad is not None)\n"
        "    unscale_gradients(grad_scaler, optimizer)\n"
        "    take_step(grad_scaler, optimizer)\n"
        "    update_scale(grad_scaler)\n"
        "    tracker = 0 if found else (growth_tracker + 1) % growth_interval\n"
        "    return not found, torch.tensor(grad_scaler.get_scale()), tracker\n")},
            fails="ex2_tests", hint="without torch.amp.GradScaler", why="rule: GradScaler's methods saved before the test"),
]
