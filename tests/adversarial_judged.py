"""Hostile submissions of judged notebooks beyond 01 (04, 11, 12, 15), each with the outcome an honest grader must
record: the routes of issue 20 (raw memory, modes built or pushed behind the tests' back, the kernel's memory map,
objects whose comparisons lie), and plain wrong answers, which earn exactly what their other answers earn.

Every case starts from the notebook with every answer solved, then replaces some answers (by grade id) or puts code
before one. Each sits beside the notebook's honest submission in one batch, which must keep its full marks.
"""

import copy
from dataclasses import dataclass

from adversarial_corpus import cell

FULL_MARKS = {"04_mlp_nan_diagnosis": 8, "11_debugging_gradients": 8, "12_forward_mode": 8,
              "15_build_your_own_autograd": 11}


@dataclass(frozen=True)
class JudgedCase:
    name: str
    assignment: str
    answers: dict  # grade id of an answer cell -> its new source, or a function of the solved source
    score: float
    status: str
    reason: str = ""  # a phrase the recorded outcome (reason, notes or findings) must contain
    before: dict = None  # grade id -> code put before the solved answer

    def build(self, solved):
        notebook = copy.deepcopy(solved)
        for grade_id, source in self.answers.items():
            answer = cell(notebook, grade_id)
            answer.source = source(answer.source) if callable(source) else source
        for grade_id, code in (self.before or {}).items():
            cell(notebook, grade_id).source = code + cell(notebook, grade_id).source
        return notebook


# Each returns True for whatever a comparison asks, inside the kernel.
AGREEING_FLOAT = ("class Agreeing(float):\n"
                  "    def __eq__(self, other):\n        return True\n"
                  "    def __sub__(self, other):\n        return 0.0\n"
                  "    def __rsub__(self, other):\n        return 0.0\n"
                  "    __hash__ = float.__hash__\n\n")
DISPATCH_ALLCLOSE = ("from torch.utils._python_dispatch import TorchDispatchMode\n\n"
                     "class Agree(TorchDispatchMode):\n"
                     "    def __torch_dispatch__(self, func, types, args=(), kwargs=None):\n"
                     "        if func is torch.ops.aten.allclose.default:\n            return True\n"
                     "        return func(*args, **(kwargs or {}))\n\n")
MODE_FROM_MAKE_DATACLASS = ("import dataclasses\nfrom torch.overrides import TorchFunctionMode\n"
                            "Mode = dataclasses.make_dataclass('Mode', [], bases=(TorchFunctionMode,), namespace={\n"
                            "    '__torch_' + 'function__': lambda self, func, types, args=(), kwargs=None: True})\n\n")
RAW_MEMORY = ("import numpy as np\n"
              "scratch = np.zeros(1)\n"
              "memory = np.lib.stride_tricks.as_strided(scratch, shape=(1 << 20,), strides=(1,))\n\n")
MEMORY_MAP = "import numpy\nmaps = numpy.loadtxt('/proc/self/maps', dtype=str, delimiter='\\n')\n\n"

HOSTILE = [
    # 04: 2 + 2 + 4 points
    JudgedCase("j04-raw-memory", "04_mlp_nan_diagnosis",
               {"ex3_answer": "def stable_bce_with_logits(z, y):\n    return z.mean() * 0\n"}, 0, "flagged",
               "stride_tricks", before={"ex3_answer": RAW_MEMORY}),
    JudgedCase("j04-eps-whose-eq-lies", "04_mlp_nan_diagnosis",
               {"ex2_answer": AGREEING_FLOAT + "def safe_eps(dtype):\n    return Agreeing(0.5)\n"}, 0, "flagged",
               "defines __eq__"),
    # 11: 3 + 3 + 2 points
    JudgedCase("j11-mode-from-make-dataclass", "11_debugging_gradients",
               {"ex1_answer": "def safe_xlogx(x):\n    with Mode():\n        return x * 0\n"}, 0, "flagged",
               "make_dataclass", before={"ex1_answer": MODE_FROM_MAKE_DATACLASS}),
    JudgedCase("j11-wrong-culprit", "11_debugging_gradients",
               {"ex2_answer": "def first_nonfinite_layer(layers, x):\n    return layers[0][0]\n"}, 5, "graded"),
    # 12: 4 + 4 points
    JudgedCase("j12-memory-map", "12_forward_mode",
               {"ex2_answer": "def jacobian_fewest_passes(f, x):\n    return torch.zeros(1)\n"}, 0, "flagged",
               "/proc", before={"ex2_answer": MEMORY_MAP}),
    JudgedCase("j12-dual-whose-eq-lies", "12_forward_mode",
               {"ex1_answer": lambda solved: AGREEING_FLOAT + solved.replace("float(value)", "Agreeing(0.0)")}, 0,
               "flagged", "defines __eq__"),
    # 15: 4 + 3 + 4 points
    JudgedCase("j15-dispatch-mode-answers-allclose", "15_build_your_own_autograd",
               {"ex1_answer": DISPATCH_ALLCLOSE + "def backward(root):\n    Agree().__enter__()\n"}, 0, "flagged",
               "TorchDispatchMode"),
    JudgedCase("j15-sigmoid-of-the-wrong-sign", "15_build_your_own_autograd",
               {"ex2_answer": "def sigmoid(v):\n    s = 1.0 / (1.0 + math.exp(v.data))\n"
                              "    return Value(s, (v,), (s * (1.0 - s),), 'sigmoid')\n"}, 8, "graded"),
]
