"""Provenance and the system check: git states, a fake /sys, unreadable files, run names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._measuring import system
from pytest_concur._measuring.provenance import collect, git_state, imported_packages
from pytest_concur._measuring.system_check import SystemFacts, check_items, warning_line
from pytest_concur._reporting.provenance_header import differences, header_lines
from pytest_concur._storing.catalog import MAX_NAME, clean_name, free_name
from pytest_concur._storing.files import write_rows
from pytest_concur._storing.layout import final_path
from pytest_concur._storing.schema import RUNS_SCHEMA

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True, env=env)  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "test_x.py").write_text("x = 1\n")
    git(tmp_path, "add", "test_x.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


# ---------------------------------------------------------------------------- git


@needs_git
def test_git_commit_branch_and_a_clean_tree(repo: Path) -> None:
    state = git_state(repo)
    assert state.commit == git(repo, "rev-parse", "HEAD")
    assert (state.branch, state.dirty, state.note) == ("main", False, None)
    (repo / "results").mkdir()
    (repo / "results" / "new.parquet").write_bytes(b"x")  # untracked results: still clean
    assert git_state(repo).dirty is False


@needs_git
def test_git_changes_make_the_tree_dirty(repo: Path) -> None:
    (repo / "test_x.py").write_text("x = 2\n")
    assert git_state(repo).dirty is True


@needs_git
def test_a_detached_head_has_no_branch_and_says_so(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    state = git_state(repo)
    assert state.commit == git(repo, "rev-parse", "HEAD")
    assert state.branch is None
    assert state.note == "detached HEAD: no branch"


@needs_git
def test_no_repository_and_an_empty_one_are_unknown(tmp_path: Path) -> None:
    assert git_state(tmp_path).note == f"{tmp_path} is not in a git repository"
    assert git_state(tmp_path).commit is None
    git(tmp_path, "init", "-q")
    assert git_state(tmp_path).note == "the git repository has no commit yet"


def test_no_git_installed_is_unknown_not_a_crash(tmp_path: Path) -> None:
    state = git_state(tmp_path, git=str(tmp_path / "no-such-git"))
    assert (state.commit, state.branch, state.dirty) == (None, None, None)
    assert state.note == "git is not installed"


def test_collect_never_raises_and_names_what_is_unknown(tmp_path: Path) -> None:
    facts = collect(tmp_path, ["pytest", "-k", "a b"])
    assert facts.command_line == "pytest -k 'a b'"
    assert facts.versions["pytest_concur_version"]
    assert facts.versions["pytest_version"] == pytest.__version__
    row = facts.as_row()
    assert set(row) <= set(RUNS_SCHEMA.names)
    unknown = [note for note in facts.notes if "unknown" in note or "git" in note]
    assert len(unknown) == len(facts.notes)


def test_imported_packages_are_distributions_with_versions() -> None:
    found = imported_packages(["pytest", "_pytest.main", "json", "os.path", "no_such_module"])
    assert found == {"pytest": pytest.__version__}


# ---------------------------------------------------------------------------- /sys and /proc


def fake_sys(root: Path, governors: list[str], *, boost: str | None = None,
             no_turbo: str | None = None) -> Path:  # fmt: skip
    for cpu, governor in enumerate(governors):
        folder = root / f"cpu{cpu}" / "cpufreq"
        folder.mkdir(parents=True)
        (folder / "scaling_governor").write_text(governor + "\n")
    if boost is not None:
        (root / "cpufreq").mkdir(parents=True, exist_ok=True)
        (root / "cpufreq" / "boost").write_text(boost)
    if no_turbo is not None:
        (root / "intel_pstate").mkdir(parents=True)
        (root / "intel_pstate" / "no_turbo").write_text(no_turbo)
    return root


def test_governor_one_mixed_or_unknown(tmp_path: Path) -> None:
    assert system.governor(fake_sys(tmp_path / "a", ["performance"] * 2)) == "performance"
    mixed = fake_sys(tmp_path / "b", ["powersave", "performance"])
    assert system.governor(mixed) == "mixed (performance, powersave)"
    assert system.governor(tmp_path / "nothing") is None


def test_boost_from_cpufreq_or_intel_pstate(tmp_path: Path) -> None:
    assert system.boost(fake_sys(tmp_path / "a", [], boost="1")) is True
    assert system.boost(fake_sys(tmp_path / "b", [], no_turbo="1")) is False
    assert system.boost(fake_sys(tmp_path / "c", [], no_turbo="0")) is True
    assert system.boost(fake_sys(tmp_path / "d", [], boost="garbage")) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_sys_files_are_unknown(tmp_path: Path) -> None:
    root = fake_sys(tmp_path, ["performance"], boost="1")
    (root / "cpu0" / "cpufreq" / "scaling_governor").chmod(0)
    (root / "cpufreq" / "boost").chmod(0)
    assert system.governor(root) is None
    assert system.boost(root) is None


def test_a_directory_where_a_file_should_be_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "cpu0" / "cpufreq" / "scaling_governor").mkdir(parents=True)
    (tmp_path / "cpufreq" / "boost").mkdir(parents=True)
    assert system.governor(tmp_path) is None
    assert system.boost(tmp_path) is None


def test_virtualization_from_dmi_or_the_cpu_flag(tmp_path: Path) -> None:
    dmi = tmp_path / "dmi"
    dmi.mkdir()
    (dmi / "sys_vendor").write_text("QEMU\n")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse2 hypervisor\n")
    assert system.virtualization(cpuinfo=cpuinfo, dmi=dmi, detect=()) == "qemu"
    assert system.virtualization(cpuinfo=cpuinfo, dmi=tmp_path / "x", detect=()) == "vm"
    cpuinfo.write_text("flags : fpu sse2\n")
    (dmi / "sys_vendor").write_text("Dell Inc.\n")
    assert system.virtualization(cpuinfo=cpuinfo, dmi=dmi, detect=()) == "none"
    nothing = tmp_path / "missing"
    assert system.virtualization(cpuinfo=nothing, dmi=nothing, detect=()) is None
    broken = ["/bin/sh", "-c", "exit 3"]  # a detector that fails: the files answer
    assert system.virtualization(cpuinfo=cpuinfo, dmi=dmi, detect=broken) == "none"
    said = ["/bin/sh", "-c", "echo kvm"]
    assert system.virtualization(cpuinfo=nothing, dmi=nothing, detect=said) == "kvm"


def test_steal_over_an_interval(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3\n")
    before = system.cpu_times(stat)
    assert before == system.CpuTimes(steal=40, total=1000)
    stat.write_text("cpu  200 0 50 1600 10 0 0 140 0 0\n")
    after = system.cpu_times(stat)
    assert after is not None
    assert after.steal_since(before) == pytest.approx(100 / 1000)
    assert after.steal_since(after) is None  # no time passed
    stat.write_text("cpu  x y\n")
    assert system.cpu_times(stat) is None
    assert system.cpu_times(tmp_path / "missing") is None


# ---------------------------------------------------------------------------- system check


def facts(**changes: object) -> SystemFacts:
    values: dict[str, object] = dict(governor="performance", boost=False, virtualization="none",
                                     steal_fraction=0.0, cpu_quota=None, usable_cpus=4,
                                     logical_cpus=4)  # fmt: skip
    values.update(changes)
    return SystemFacts(**values)  # type: ignore[arg-type]


def test_a_quiet_machine_has_nothing_to_say() -> None:
    assert warning_line(facts()) is None
    assert warning_line(facts(governor=None, boost=None, virtualization=None,
                              steal_fraction=None)) is None  # fmt: skip


def test_one_warning_line_names_every_problem() -> None:
    line = warning_line(facts(governor="powersave", boost=True, virtualization="kvm",
                              steal_fraction=0.02, cpu_quota=1.5, usable_cpus=2))  # fmt: skip
    assert line is not None
    assert "\n" not in line
    for part in ("governor powersave (not performance)", "boost on", "kvm with 2.00% steal",
                 "CPU quota of 1.5 CPUs", "only 2 of 4 CPUs usable"):  # fmt: skip
        assert part in line
    problems = [item.label for item in check_items(facts(boost=True)) if item.problem]
    assert problems == ["turbo/boost"]


def test_a_vm_without_steal_is_not_a_problem() -> None:
    assert warning_line(facts(virtualization="kvm", steal_fraction=0.0)) is None


# ---------------------------------------------------------------------------- names


@given(st.text(max_size=150))
def test_a_cleaned_name_has_no_control_characters_and_fits(text: str) -> None:
    name, notes = clean_name(text)
    if name is None:
        assert notes
        return
    assert len(name) <= MAX_NAME
    assert not [ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Cn", "Zl")]
    name.encode("utf-8")  # storable
    if name != text.strip():
        assert notes


def test_odd_names_are_escaped_and_said() -> None:
    assert clean_name("  nightly run ") == ("nightly run", [])
    name, notes = clean_name("bad\x1b[31mred\nline")
    assert name == "bad\\x1b[31mred\\nline"
    assert notes == [f"control characters in the run name were escaped: {name!r}"]
    assert clean_name("rounds")[0] is None
    assert clean_name("   ")[0] is None


def test_a_name_used_twice_gets_a_number_and_is_said(tmp_path: Path) -> None:
    for run_id, name in (("r1", "base"), ("r2", "base-2")):
        write_rows([{"run_id": run_id, "name": name}], final_path(tmp_path, run_id, "runs"),
                   schema=RUNS_SCHEMA, table="runs")  # fmt: skip
    chosen, note = free_name(tmp_path, "base", "r3")
    assert chosen == "base-3"
    assert note is not None
    assert "already used" in note
    assert free_name(tmp_path, "base", "r1") == ("base", None)  # its own name
    assert free_name(tmp_path, "fresh", "r3") == ("fresh", None)


# ---------------------------------------------------------------------------- report


def test_header_and_differences() -> None:
    base = {"run_id": "r1", "name": "base", "git_commit": "a" * 40, "git_branch": "main",
            "git_dirty": True, "python": "3.12.1", "governor": "performance",
            "python_pgo": True, "steal_fraction": 0.001, "system_check": "system check: x"}
    cand = {**base, "run_id": "r2", "python": "3.13.0", "governor": None, "python_pgo": False}
    lines = header_lines([base], ["r1", "r0"])
    assert lines[0].startswith(f"run r1 'base': commit {'a' * 12} on main (uncommitted changes)")
    assert "  ! system check: x" in lines
    assert lines[-1] == "run r0: no provenance recorded (stored by an older pytest-concur)"
    said = differences([base], [cand])
    assert len(said) == 2
    assert said[0].startswith("the runs differ in Python version: 3.12.1 (baseline) vs 3.13.0")
    assert "PGO: on (baseline) vs off (candidate)" in said[1]
    assert differences([], [cand]) == [
        "the baseline has no provenance recorded: its setup cannot be compared"
    ]
    json.dumps(said)
