"""Where a run came from: the experiments' commit, package versions, interpreter build, machine.

Recorded once per session (the runs table, and each file's metadata) so a result can be
trusted and reproduced months later, as pyperf and asv do. Whatever cannot be read (no
git, a detached HEAD, unreadable ``/sys`` files) is recorded as unknown with a note
saying why; nothing here raises.
"""

from __future__ import annotations

import importlib.metadata
import platform
import shlex
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from . import system
from .environment import usable_cpus

#: Distributions whose versions get a column of their own.
NAMED_PACKAGES: Final = {
    "pytest_concur_version": "pytest-concur",
    "pytest_version": "pytest",
    "pytest_xdist_version": "pytest-xdist",
    "pandas_version": "pandas",
    "pyarrow_version": "pyarrow",
}
GIT_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class GitState:
    commit: str | None = None
    branch: str | None = None  # None: detached HEAD (or no repository)
    dirty: bool | None = None
    note: str | None = None  # why something is unknown


@dataclass(frozen=True, slots=True)
class Provenance:
    """Facts about a session that do not change while it runs (see docs/results.md)."""

    command_line: str
    git: GitState
    python_compiler: str
    python_pgo: bool | None
    python_lto: bool | None
    python_config_args: str | None
    versions: Mapping[str, str | None]
    kernel: str
    governor: str | None
    boost: bool | None
    virtualization: str | None
    cpu_quota: float | None
    usable_cpus: int
    notes: tuple[str, ...] = ()

    def as_row(self) -> dict[str, Any]:
        """The runs-table columns these facts fill."""
        return {
            "command_line": self.command_line,
            "git_commit": self.git.commit,
            "git_branch": self.git.branch,
            "git_dirty": self.git.dirty,
            "python_compiler": self.python_compiler,
            "python_pgo": self.python_pgo,
            "python_lto": self.python_lto,
            "python_config_args": self.python_config_args,
            **self.versions,
            "kernel": self.kernel,
            "governor": self.governor,
            "boost": self.boost,
            "virtualization": self.virtualization,
            "cpu_quota": self.cpu_quota,
        }


def cpu_quota() -> float | None:
    """CPUs the cgroup quota allows this process; None: no quota, or not known.

    The one place provenance and the system check read it (``cpu_quota.py`` parses it).
    """
    from .cpu_quota import cpu_quota as read_quota

    return read_quota()


def git_state(root: Path, *, git: str = "git") -> GitState:
    """Commit, branch and dirty flag of the repository holding ``root``."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [git, "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )

    try:
        head = run("rev-parse", "--verify", "-q", "HEAD")
        if head.returncode != 0:
            inside = run("rev-parse", "--is-inside-work-tree")
            if inside.returncode != 0:
                return GitState(note=f"{root} is not in a git repository")
            return GitState(note="the git repository has no commit yet")
        branch = run("symbolic-ref", "--short", "-q", "HEAD")
        status = run("status", "--porcelain", "--untracked-files=no")
    except FileNotFoundError:
        return GitState(note="git is not installed")
    except (OSError, subprocess.SubprocessError) as exc:
        return GitState(note=f"git could not be asked ({type(exc).__name__}: {exc})")
    detached = branch.returncode != 0 or not branch.stdout.strip()
    return GitState(
        commit=head.stdout.strip() or None,
        branch=None if detached else branch.stdout.strip(),
        dirty=bool(status.stdout.strip()) if status.returncode == 0 else None,
        note="detached HEAD: no branch" if detached else None,
    )


def build_flags() -> tuple[bool | None, bool | None, str | None]:
    """(PGO, LTO, configure arguments) of this interpreter's build, from sysconfig."""
    args: object = sysconfig.get_config_var("CONFIG_ARGS")
    if not isinstance(args, str):
        return None, None, None  # not a configure build (Windows, some distributions)
    return "--enable-optimizations" in args, "--with-lto" in args, args


def version_of(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def imported_packages(modules: Iterable[str] | None = None) -> dict[str, str]:
    """Distribution -> version of the top-level, non-standard-library packages imported.

    Called after collection, the modules are those the experiments (and pytest and its
    plugins) imported.
    """
    names = {
        name.split(".")[0]
        for name in (sys.modules if modules is None else modules)
        if not name.startswith("_")
    }
    names -= set(sys.stdlib_module_names)
    owners = importlib.metadata.packages_distributions()
    found: dict[str, str] = {}
    for name in sorted(names):
        for distribution in owners.get(name, ()):
            version = version_of(distribution)
            if version is not None:
                found[distribution] = version
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def collect(root: Path, args: Sequence[str]) -> Provenance:
    """The session's provenance: the repository at ``root``, the command line ``args``."""
    git = git_state(root)
    pgo, lto, config_args = build_flags()
    governor, boost, virtualization = system.governor(), system.boost(), system.virtualization()
    notes = [git.note] if git.note else []
    for label, value in (
        ("frequency governor", governor),
        ("boost state", boost),
        ("virtualisation", virtualization),
    ):
        if value is None:
            notes.append(f"{label} unknown (not readable here)")
    if pgo is None:
        notes.append("interpreter build flags unknown (no CONFIG_ARGS)")
    return Provenance(
        command_line=shlex.join(args),
        git=git,
        python_compiler=platform.python_compiler(),
        python_pgo=pgo,
        python_lto=lto,
        python_config_args=config_args,
        versions={column: version_of(name) for column, name in NAMED_PACKAGES.items()},
        kernel=platform.release(),
        governor=governor,
        boost=boost,
        virtualization=virtualization,
        cpu_quota=cpu_quota(),
        usable_cpus=usable_cpus(),
        notes=tuple(notes),
    )
