"""What produced a result: package versions, plug-ins, the lock file's status and the git commit."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

from biasprobe import __version__

ROOT = Path(__file__).resolve().parents[1]  # the checkout (an editable install) or site-packages
LOCK_FILE = ROOT / "constraints.txt"
PINNED = ("numpy", "pandas", "scipy", "torch", "matplotlib", "seaborn", "numba", "pyarrow", "scikit-learn")


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": sys.version.split()[0], "biasprobe": __version__}
    for pkg in PINNED:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def plugins() -> list[dict]:
    """Every plug-in loaded so far by any registry (distribution and version), for provenance and cache keys."""
    seen = []
    for reg in _registries():
        seen += [p.record() for p in reg.plugins()]
    return sorted(seen, key=lambda r: (r["group"], r["name"]))


def _registries():
    out = []
    for module, attr in (("biasprobe.measures.registry", "MEASURES"), ("biasprobe.priors", "PRIORS"),
                         ("biasprobe.pipeline.spec", "EXPERIMENTS")):
        mod = sys.modules.get(module)
        if mod is not None and hasattr(mod, attr):
            out.append(getattr(mod, attr))
    return out


def _lock_lines(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[_canonical(name)] = version.strip()
    return pins


def _canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


@functools.cache
def lock_status() -> dict:
    """Whether the installed packages are exactly those of constraints.txt (the lock that produced results/).

    {"file": "constraints.txt", "matches": bool, "differs": {pkg: [locked, installed]}}; "matches" is None
    when there is no lock file beside the package (an installed wheel).
    """
    from importlib import metadata

    if not LOCK_FILE.is_file():
        return {"file": None, "matches": None, "differs": {}}
    differs = {}
    for name, locked in _lock_lines(LOCK_FILE).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        # a local build tag (torch's "+cpu") is not part of the pin unless the lock names one
        same = installed == locked or ("+" not in locked and installed is not None
                                        and installed.split("+")[0] == locked)
        if not same:
            differs[name] = [locked, installed]
    return {"file": LOCK_FILE.name, "matches": not differs, "differs": differs}


def git_commit() -> str | None:
    """HEAD of the checkout, with '-dirty' when tracked files other than results/ have uncommitted changes."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        # results/ is what a run writes, so it cannot make the code that produced it dirty
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"], cwd=ROOT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (sha + ("-dirty" if dirty else "")) if sha else None


def environment() -> dict:
    """The whole record a result carries about its software: versions, lock, plug-ins, commit, machine."""
    import platform

    return {"versions": package_versions(), "lock": lock_status(), "plugins": plugins(),
            "git_commit": git_commit(), "machine": platform.machine()}
