"""Anomaly mode, read for a notebook: the error, the backward node that failed, the forward line that made it."""

import warnings

import torch


def backward_with_anomaly_detection(compute_loss) -> None:
    """Run ``compute_loss().backward()`` inside ``torch.autograd.detect_anomaly()`` and print what it found.

    Anomaly mode reports through warnings, which Python prints to stderr with file names and line
    numbers that change from run to run. They are recorded instead, and only their stable parts
    printed: the error, the failing node and the last forward line of its traceback. Anomaly
    mode's notice that it is slow is left out (notebook 04's pitfalls say so).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with torch.autograd.detect_anomaly():
                compute_loss().backward()
        except RuntimeError as error:
            print("RuntimeError:", str(error).split(" Hint:")[0])
    for warning in caught:
        headline, *traceback_lines = str(warning.message).splitlines()
        if not headline.startswith("Error detected in"):
            continue
        print(headline.removesuffix(" Traceback of forward call that caused the error:"))
        # The traceback alternates 'File ..., line ...' and the code on that line; the last code line is the operation.
        code_lines = [line.strip() for previous, line in zip(traceback_lines, traceback_lines[1:])
                      if previous.strip().startswith("File ")]
        print("forward line:", code_lines[-1])
