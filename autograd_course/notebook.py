"""Start-up for every course notebook, so that its recorded outputs replay byte for byte."""

import random

import matplotlib
import numpy as np
import torch

SEED = 0


def setup_notebook(seed: int = SEED) -> None:
    """Seed every RNG, run torch on one thread and fix figure rendering.

    One thread because a parallel reduction may add in a different order from run to
    run, and float addition is not associative: the last printed digit could change.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.set_printoptions(profile="default")
    matplotlib.rcParams.update({"figure.figsize": (6.4, 4.0), "figure.dpi": 80, "svg.hashsalt": "autograd-course"})
