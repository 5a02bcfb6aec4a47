"""One submission's folder in a slot: the files written before its run, and what is read from outside after it."""

import contextlib
import errno
import os
from pathlib import Path

from .findings import AFTER_THE_RUN, Finding
from .host_process import KernelHostProcess, remove_contents
from .resources import size_text


class SubmissionTooLarge(RuntimeError):
    """The student's files alone fill the scratch: nothing can run."""


class SubmissionFolder:
    """The kernel's working folder, emptied for each submission, checked from outside after its run."""

    def __init__(self, host: KernelHostProcess):
        self.host = host
        self.sandbox = host.sandbox
        self.folder = host.folder

    def fresh_folder(self) -> Path:
        """An empty working folder (the host's ``start`` and ``reset`` leave the writable folder clean)."""
        if not self.host.alive():
            self.host.start()
        # Unprivileged (no sandbox user), the host's own start may have made its HOME, this folder (IPython does).
        self.folder.mkdir(exist_ok=True)
        remove_contents(self.folder)
        self.host.give_to_sandbox_user(self.folder)
        return self.folder

    def write_files(self, files: dict[str, bytes]) -> None:
        for name, content in files.items():
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(content)
            except OSError as error:
                if self.host.scratch and error.errno == errno.ENOSPC:
                    raise SubmissionTooLarge(f"the submission's own files do not fit in the "
                                             f"{size_text(self.host.scratch.size)} a submission may write") from None
                raise
        self.host.give_to_sandbox_user(self.folder)

    def changed_shipped_files(self, shipped: dict[str, bytes]) -> list[Finding]:
        """Compared after the run, from outside: writes from C code (torch.save) escape the audit hook."""
        changed = []
        for name, content in shipped.items():
            copy = self.folder / name
            if not copy.is_file() or copy.is_symlink() or copy.read_bytes() != content:
                changed.append(Finding(AFTER_THE_RUN, 0, "modifies a shipped file", name))
        return changed

    def files_at_size_limit(self) -> list[str]:
        """The files the kernel wrote up to the limit on one file (RLIMIT_FSIZE), in its folder or its /tmp."""
        places = [(self.folder, ""), *([(self.host.tmp, "/tmp/")] if self.host.scratch else [])]
        found = []
        for place, shown_as in places:
            for folder, _, names in os.walk(place):
                for name in names:
                    path = Path(folder, name)
                    with contextlib.suppress(OSError):
                        if path.lstat().st_size >= self.sandbox.file_size_limit:
                            found.append(f"{shown_as}{path.relative_to(place)}")
        return found

    def limits_reached(self, peak: int, at_size_limit: list[str]) -> list[Finding]:
        """Findings for a submission that ran into the limits on what it may write."""
        findings = [Finding(AFTER_THE_RUN, 0, f"wrote a file up to the limit of "
                            f"{size_text(self.sandbox.file_size_limit)} on one file", name) for name in at_size_limit]
        if self.host.scratch and self.host.scratch.filled(peak):
            findings.append(Finding(AFTER_THE_RUN, 0, f"wrote up to the limit of {size_text(self.host.scratch.size)} "
                                    f"on what a submission may write (its folder and /tmp together)",
                                    size_text(peak)))
        return findings
