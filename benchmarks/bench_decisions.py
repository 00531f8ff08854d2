"""The decisions on held-out workloads: is the recommendation and the diagnosis right?

Method. Each case of ``benchmarks/decisions/`` (one experiment file, written as a new user
would, its right answer in its module-level ``EXPECTED``) runs in a fresh pytest session
into a temporary results folder. Its decision is read three ways: the public pandas call
(``pc.recommend(pc.load(folder))``, ``pc.diagnose(...)``), the same call given the tasks
table, and the decisions block of ``pytest-concur report <folder>``; each is scored right
or wrong (``_decisions.score``). Then the busy cases run again beside another process that
keeps one core busy for the whole session (started and stopped here): their decision must
be the quiet answer or none ("machine busy"), never another winner, and never carry a code
that crowding fakes. Run it on a quiet machine: the quiet cases assume one.

Run: python benchmarks/bench_decisions.py [--rounds N] [--cases hash,regex]
        [--busy-cases hash,regex,tiny_tasks | --no-busy] [--markdown FILE] [--json FILE]
Exit status 0 whatever the scores (it measures the decision code; it is not a gate).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _bench import machine
from _decisions import READERS, Case, Score, all_cases, crowded_share, run_session, score_folder

DEFAULT_BUSY = ("hash", "regex", "tiny_tasks")


def run_cases(
    cases: Sequence[Case], root: Path, args: argparse.Namespace, *, busy: bool
) -> tuple[list[Score], dict[str, str]]:
    """Each case in its own session: the scores and a line about each session."""
    scores: list[Score] = []
    notes: dict[str, str] = {}
    for case in cases:
        folder = root / f"{'busy' if busy else 'quiet'}-{case.name}"
        session = run_session(
            [case], folder, rounds=args.rounds, warmup=args.warmup, scale=args.scale, busy=busy
        )
        crowded, total = crowded_share(folder, case.experiment) if folder.exists() else (0, 0)
        notes[case.name] = (
            f"exit {session.returncode}, {session.wall_s:.1f} s, {crowded} of {total} measured "
            f"rounds crowded"
        )
        if session.returncode != 0 or not folder.exists():
            print(session.output[-3000:])
        found = score_folder([case], folder, busy=busy) if folder.exists() else []
        scores.extend(found)
        _print_case(case, found, notes[case.name], busy)
    return scores, notes


def _print_case(case: Case, scores: Sequence[Score], note: str, busy: bool) -> None:
    print(f"\n{case.name} ({'busy core' if busy else 'quiet'}): {note}")
    print(f"  expected: {case.expected()}")
    for s in scores:
        verdict = "right" if s.right else "WRONG: " + "; ".join(s.wrong)
        print(f"  {s.reader:<10} {verdict}")
        print(f"  {'':<10} {s.decision.text}")


def table(scores: Sequence[Score], cases: Sequence[Case]) -> list[str]:
    """A markdown table: one row per case and condition, one column per reader."""
    expected = {c.name: c.expected() for c in cases}
    head = ["case", "condition", "expected", *READERS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    keys = list(dict.fromkeys((s.case, s.condition) for s in scores))
    for case, condition in keys:
        cells = []
        for reader in READERS:
            key = (case, condition, reader)
            found = [s for s in scores if (s.case, s.condition, s.reader) == key]
            if not found:
                cells.append("-")
                continue
            s = found[0]
            best = s.decision.best or "none"
            cells.append(f"right ({best})" if s.right else f"**wrong** ({'; '.join(s.wrong)})")
        lines.append(f"| {case} | {condition} | {expected[case]} | " + " | ".join(cells) + " |")
    lines.append("")
    for reader in READERS:
        mine = [s for s in scores if s.reader == reader]
        right = sum(s.right for s in mine)
        lines.append(f"- {reader}: {right} of {len(mine)} right")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor (default 1)")
    parser.add_argument("--cases", default="", help="comma-separated case names (default all)")
    parser.add_argument(
        "--busy-cases",
        default=",".join(DEFAULT_BUSY),
        help=f"cases run beside a busy core (default {','.join(DEFAULT_BUSY)})",
    )
    parser.add_argument("--no-busy", action="store_true", help="skip the busy runs")
    parser.add_argument("--busy-only", action="store_true", help="skip the quiet runs")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--json", type=Path, help="also write every score here")
    parser.add_argument("--keep", type=Path, help="keep the results folders under this folder")
    args = parser.parse_args(argv)  # fmt: skip

    facts = machine()
    print("== decisions on held-out workloads")
    for key, value in facts.items():
        print(f"  {key}: {value}")
    names = [n for n in args.cases.split(",") if n]
    cases = all_cases(names or None)
    busy_cases = [] if args.no_busy else all_cases([n for n in args.busy_cases.split(",") if n])
    scores: list[Score] = []
    notes: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-decisions-") as temp:
        root = args.keep or Path(temp)
        if not args.busy_only:
            found, notes["quiet"] = run_cases(cases, root, args, busy=False)
            scores.extend(found)
        if busy_cases:
            found, notes["busy"] = run_cases(busy_cases, root, args, busy=True)
            scores.extend(found)
    lines = table(scores, all_cases())
    print()
    print("\n".join(lines))
    settings = f"rounds {args.rounds}, warm-up {args.warmup}, scale {args.scale:g}"
    if args.markdown:
        header = [f"{facts['date']}, {facts['python']}, {facts['cpu']}, "
                  f"{facts['usable_cpus']} usable CPUs, load average {facts['load_avg']}; "
                  f"{settings}", ""]  # fmt: skip
        sessions = [f"- {cond} {name}: {note}" for cond, by in notes.items()
                    for name, note in by.items()]  # fmt: skip
        args.markdown.write_text("\n".join([*header, *lines, "", *sessions]) + "\n")
    if args.json:
        payload = {
            "machine": facts,
            "settings": settings,
            "sessions": notes,
            "scores": [
                {"case": s.case, "condition": s.condition, "reader": s.reader, "right": s.right,
                 "wrong": list(s.wrong), "best": s.decision.best, "text": s.decision.text,
                 "codes": {v: sorted(c) for v, c in s.decision.codes.items()}}
                for s in scores
            ],
        }  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
