"""The held-out decision cases: find them, run them, read their decisions, score them.

Shared by ``bench_decisions.py`` (the full set, quiet and beside a busy core) and
``tests/test_decisions_heldout.py`` (a fast subset). Each case is one experiment file in
``benchmarks/decisions/`` whose module-level ``EXPECTED`` says what a right decision is:

* ``best``: the variants that may be recommended (``None`` in the list: "no
  recommendation" is right), or ``None``: the winner is not judged;
* ``has``: per variant, the codes its diagnosis must carry;
* ``lacks``: per variant, codes it must not carry.

A decision is read three ways, each scored on its own:

* ``api``: the public call a user makes, ``pc.recommend(pc.load(folder))`` and
  ``pc.diagnose(...)``, with nothing passed by hand (if these learn to find the tasks
  table themselves, the score follows);
* ``api+tasks``: the same with the tasks table passed in (``pc.load_tasks`` where it
  exists, else ``pytest_concur.analysis.load_companion``), what docs/decisions.md shows;
* ``report``: the decisions block of ``pytest-concur report <folder>``, parsed.

Beside a busy core the rule is the one issue 20 states: the quiet answer or no
recommendation ("machine busy"), never another winner, and never a code that crowding
fakes unless the quiet answer has it. Codes the quiet answer requires may be withheld.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = Path(__file__).resolve().parent / "decisions"

#: The diagnosis vocabulary as docs/decisions.md lists it (kept here, not imported: the
#: yardstick must not move with the code it measures).
CODES = frozenset({
    "gil_bound", "startup_bound", "transfer_bound", "imbalanced", "oversubscribed",
    "loop_blocked", "crowded", "scales",
})  # fmt: skip
#: Codes a crowded machine can fake: short of CPUs, threads look held by a GIL, more
#: workers look no faster, speedups look poor or good by chance, workers look idle while
#: one works, and a slow start-up looks like a large share of a round.
FAKED_BY_CROWDING = frozenset(
    {"gil_bound", "oversubscribed", "scales", "imbalanced", "startup_bound"}
)

# keeps one core busy until its parent ends (a killed runner leaves no busy loop behind)
BURNER = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"

READERS = ("api", "api+tasks", "report")


@dataclass(frozen=True, slots=True)
class Case:
    """One experiment file of benchmarks/decisions/ and what a right decision is."""

    name: str
    path: Path
    best: tuple[str | None, ...] | None
    has: Mapping[str, frozenset[str]]
    lacks: Mapping[str, frozenset[str]]

    @property
    def experiment(self) -> str:
        """The experiment id as the rounds store it (rootdir-relative node id)."""
        return f"{self.path.relative_to(ROOT).as_posix()}::test_{self.name}"

    def expected(self) -> str:
        parts = []
        if self.best is not None:
            parts.append("best " + " or ".join("undecided" if b is None else b for b in self.best))
        parts.extend(f"{v} {c}" for v, codes in self.has.items() for c in sorted(codes))
        parts.extend(f"{v} not {c}" for v, codes in self.lacks.items() for c in sorted(codes))
        return "; ".join(parts)


def _codes(raw: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    return {variant: frozenset(codes) for variant, codes in raw.items()}


def load_case(path: Path) -> Case:
    """The case of one experiment file, its EXPECTED read by importing the module."""
    spec = importlib.util.spec_from_file_location(f"heldout_case_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected: dict[str, Any] = module.EXPECTED
    best = expected.get("best")
    return Case(
        name=path.stem.removeprefix("test_"),
        path=path,
        best=None if best is None else tuple(best),
        has=_codes(expected.get("has", {})),
        lacks=_codes(expected.get("lacks", {})),
    )


def all_cases(names: Sequence[str] | None = None) -> list[Case]:
    """The cases of benchmarks/decisions/, all or those named (file stem without test_)."""
    paths = sorted(CASES_DIR.glob("test_*.py"))
    cases = [load_case(p) for p in paths]
    if names:
        unknown = set(names) - {c.name for c in cases}
        if unknown:
            raise ValueError(f"unknown case(s): {', '.join(sorted(unknown))}")
        cases = [c for c in cases if c.name in names]
    return cases


# ------------------------------------------------------------------------------ running


@contextmanager
def burner(busy: bool) -> Iterator[None]:
    """Another process keeping one core busy for the duration (nothing when not busy)."""
    if not busy:
        yield
        return
    process = subprocess.Popen([sys.executable, "-c", BURNER])
    try:
        time.sleep(0.5)  # let it take its core before the session starts
        yield
    finally:
        process.kill()
        process.wait()


@dataclass(frozen=True, slots=True)
class Session:
    """One pytest session over some cases: where its results went and how it ended."""

    folder: Path
    returncode: int
    wall_s: float
    output: str


def run_session(
    cases: Sequence[Case],
    folder: Path,
    *,
    rounds: int,
    warmup: int,
    scale: float = 1.0,
    scales: Mapping[str, float] | None = None,
    busy: bool = False,
    extra: Sequence[str] = (),
) -> Session:
    """The cases' files in one fresh pytest session, results into ``folder``; every case
    at ``scale`` of its size, or at its own in ``scales`` (case name -> factor)."""
    command = [
        sys.executable, "-m", "pytest", *(str(c.path.relative_to(ROOT)) for c in cases),
        "-q", "-p", "no:cacheprovider", "-p", "no:randomly", f"--concur-results={folder}",
        f"--concur-rounds={rounds}", f"--concur-warmup={warmup}", *extra,
    ]  # fmt: skip
    env = {**os.environ, "HELDOUT_SCALE": repr(scale)}
    for name, factor in (scales or {}).items():
        env[f"HELDOUT_SCALE_{name.upper()}"] = repr(factor)
    with burner(busy):
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, check=False, env=env
        )
        elapsed = time.perf_counter() - started
    return Session(folder, done.returncode, elapsed, done.stdout + done.stderr)


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class Decision:
    """What one reader says about one experiment."""

    #: the recommended variant; None: no recommendation
    best: str | None
    codes: Mapping[str, frozenset[str]]
    text: str


def _as_list(value: object) -> list[str]:
    if value is None or isinstance(value, str | float):
        return [] if not isinstance(value, str) else [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _missing(value: object) -> bool:
    """None, NaN or pandas' NA: no recommendation."""
    if value is None or isinstance(value, str):
        return value is None
    try:
        return bool(value != value)  # NaN
    except TypeError:  # pd.NA refuses bool()
        return True


def _from_frames(rec: Any, diag: Any, experiment: str) -> Decision:
    mine = rec[rec["experiment"].astype(str) == experiment]
    best: str | None = None
    reason = "(no recommendation row)"
    if len(mine):
        row = mine.iloc[0]
        value = row["best"]
        best = None if _missing(value) else str(value)
        reason = str(row["reason"])
    codes: dict[str, frozenset[str]] = {}
    texts = []
    for _, row in diag[diag["experiment"].astype(str) == experiment].iterrows():
        codes[str(row["variant"])] = frozenset(_as_list(row["codes"]))
        texts.append(str(row["text"]))
    return Decision(best, codes, f"recommend: {reason} | diagnose: {'; '.join(texts)}")


def _tasks_table(folder: Path) -> Any:
    import pytest_concur as pc

    loader: Callable[[Path], Any] | None = getattr(pc, "load_tasks", None)
    if loader is not None:
        return loader(folder)
    from pytest_concur.analysis import load_companion

    return load_companion(folder, "tasks")


def read_api(folder: Path, experiments: Sequence[str], *, tasks: bool) -> dict[str, Decision]:
    """The decisions of the public pandas API, with or without the tasks table."""
    import pytest_concur as pc

    df = pc.load(folder)
    if tasks:
        table = _tasks_table(folder)
        rec, diag = pc.recommend(df, table), pc.diagnose(df, table)
    else:
        rec, diag = pc.recommend(df), pc.diagnose(df)
    return {e: _from_frames(rec, diag, e) for e in experiments}


_SAYS = re.compile(r"([\w.-]+) is ([a-z_]+)\b")


def report_lines(folder: Path) -> list[str]:
    """The decisions block of ``pytest-concur report <folder>`` (after its title line)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest_concur", "report", str(folder)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("decisions")), None)
    if start is None:
        return []
    block = []
    for line in lines[start + 1 :]:
        if line and not line.startswith(" "):
            break
        block.append(line)
    return block


_TITLE = re.compile(r"^(\S+::\S+?)(?: \[[^\]]*\])?:(?:\s|$)")
_USE = re.compile(r"^use ([\w.-]+?)(?=[:\s(,;]|$)")


def _sections(block: Sequence[str]) -> dict[str, list[str]]:
    """experiment -> the text of its lines: a line that starts with a node id and any more
    deeply indented lines after it (the block may wrap or nest its details)."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    indent = 0
    for line in block:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        titled = _TITLE.match(line.strip())
        if titled and (current is None or depth <= indent):
            current, indent = titled.group(1), depth
            sections.setdefault(current, []).append(line.strip()[titled.end() :].strip())
        elif current is not None and depth > indent:
            sections[current].append(line.strip())
        else:
            current = None
    return sections


def parse_report(block: Sequence[str], experiment: str) -> Decision:
    """One experiment's decision as the report's lines say it: ``use X`` (or no
    recommendation), and every ``<variant> is <code>`` they state."""
    bodies = _sections(block).get(experiment, [])
    decisions = [b for b in bodies if not b.startswith("scaling:")]
    best: str | None = None
    for body in decisions:
        said = _USE.match(body)
        if said:
            best = said.group(1)
            break
    codes: dict[str, set[str]] = {}
    for body in decisions:
        for variant, code in _SAYS.findall(body):
            if code in CODES:
                codes.setdefault(variant, set()).add(code)
    text = " | ".join(decisions) if decisions else "(no line)"
    return Decision(best, {v: frozenset(c) for v, c in codes.items()}, text)


def read_report(folder: Path, experiments: Sequence[str]) -> dict[str, Decision]:
    block = report_lines(folder)
    return {e: parse_report(block, e) for e in experiments}


def read_all(folder: Path, experiments: Sequence[str]) -> dict[str, dict[str, Decision]]:
    """reader -> experiment -> decision, for every reader in READERS."""
    return {
        "api": read_api(folder, experiments, tasks=False),
        "api+tasks": read_api(folder, experiments, tasks=True),
        "report": read_report(folder, experiments),
    }


# ------------------------------------------------------------------------------ scoring


@dataclass(frozen=True, slots=True)
class Score:
    """One reader's decision on one case under one condition, and what was wrong."""

    case: str
    condition: str  # "quiet" or "busy"
    reader: str
    decision: Decision
    wrong: tuple[str, ...] = field(default=())

    @property
    def right(self) -> bool:
        return not self.wrong


def score(case: Case, decision: Decision, *, busy: bool) -> list[str]:
    """What is wrong with ``decision`` for ``case`` (empty: right)."""
    wrong = []
    allowed = case.best
    if allowed is not None:
        if busy:
            allowed = (*allowed, None)
        if decision.best not in allowed:
            shown = decision.best or "no recommendation"
            wrong.append(f"best {shown}, expected {' or '.join(str(a) for a in allowed)}")
    if not busy:
        for variant, needed in case.has.items():
            missing = needed - decision.codes.get(variant, frozenset())
            wrong.extend(f"{variant} lacks {code}" for code in sorted(missing))
    for variant, codes in decision.codes.items():
        forbidden = set(case.lacks.get(variant, frozenset()))
        if busy:
            forbidden |= FAKED_BY_CROWDING - case.has.get(variant, frozenset())
        wrong.extend(f"{variant} is {code}" for code in sorted(codes & forbidden))
    return wrong


def score_folder(cases: Sequence[Case], folder: Path, *, busy: bool) -> list[Score]:
    """Every reader's score of every case whose rounds are in ``folder``."""
    condition = "busy" if busy else "quiet"
    read = read_all(folder, [c.experiment for c in cases])
    return [
        Score(case.name, condition, reader, decision, tuple(score(case, decision, busy=busy)))
        for case in cases
        for reader, decisions in read.items()
        for decision in [decisions[case.experiment]]
    ]


def crowded_share(folder: Path, experiment: str) -> tuple[int, int]:
    """(crowded, all) measured rounds of ``experiment``, from the rounds table."""
    import pytest_concur as pc

    df = pc.load(folder)
    rows = df[(df["experiment"].astype(str) == experiment) & ~df["warmup"].astype(bool)]
    rows = rows[rows["outcome"].astype(str) == "passed"]
    if "crowded" not in rows:
        return 0, len(rows)
    return int(rows["crowded"].fillna(False).astype(bool).sum()), len(rows)


#: quiet rounds a variant needs to be judged on quiet rounds alone (the quiet-round rule of
#: docs/adaptive-rounds.md and docs/decisions.md)
MIN_QUIET_ROUNDS = 3


def short_of_quiet(folder: Path, experiment: str) -> list[str]:
    """The variants of ``experiment`` with fewer than MIN_QUIET_ROUNDS quiet measured rounds
    (their quiet answer cannot be judged), as "threads-2: 2 of 5 quiet"."""
    import pytest_concur as pc

    df = pc.load(folder)
    rows = df[(df["experiment"].astype(str) == experiment) & ~df["warmup"].astype(bool)]
    rows = rows[rows["outcome"].astype(str) == "passed"]
    crowded = (
        rows["crowded"].fillna(False).astype(bool)
        if "crowded" in rows
        else rows["wall_s"].isna() & False
    )
    short = []
    for (model, workers), group in rows.groupby(["model", "workers"], observed=True):
        quiet = int((~crowded[group.index]).sum())
        if quiet < MIN_QUIET_ROUNDS:
            label = "serial" if str(model) == "serial" else f"{model}-{workers}"
            short.append(f"{label}: {quiet} of {len(group)} quiet")
    return short
