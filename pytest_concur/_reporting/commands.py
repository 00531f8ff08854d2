"""The work of ``pytest-concur report`` and ``pytest-concur compare`` (``cli.py`` parses).

Each command loads what its arguments name, builds the report with the one summary
row builder and verdict layout, and prints it; a bad argument is a usage error
(exit status 2) through the parser, a regression exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pandas as pd

from .._storing.frames import with_companions
from .compare import compare_frames, comparison_notes, comparison_rows, flagged_keys, resolve_source
from .json_output import compare_json, report_json, runs_of
from .provenance_header import differences, header_lines
from .report_text import report_text
from .tables import aligned, markdown

T = TypeVar("T")


@contextmanager
def said_warnings() -> Iterator[None]:
    """Warnings (skipped files) as one plain line each on stderr, not Python's format."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        print(f"pytest-concur: warning: {warning.message}", file=sys.stderr)


def _or_usage_error(parser: argparse.ArgumentParser, action: Callable[[], T]) -> T:
    try:
        return action()
    except (FileNotFoundError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        parser.error(str(message))


def _load(parser: argparse.ArgumentParser, values: Sequence[str], results: Path) -> pd.DataFrame:
    from ..analysis import load

    paths = _or_usage_error(parser, lambda: _sources(values, results))
    with said_warnings():
        frame = load(paths)
    if frame.empty:
        parser.error(f"no pytest-concur rounds in {', '.join(values)}")
    return frame


def report(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ..analysis import amdahl, compare, load_companion, load_verdicts, summarize

    frame = _load(parser, args.path, args.results)
    column = args.by
    if column is None and "python" in frame and frame["python"].nunique() > 1:
        column = "python"  # rounds of different interpreters are never pooled unasked
    by = [column] if column else []
    with said_warnings():
        summary = _or_usage_error(parser, lambda: summarize(frame, by, baseline=args.baseline))
        fits = amdahl(frame, by, baseline=args.baseline)
        compared = compare(frame, column) if column and frame[column].nunique() > 1 else None
        sources = _sources(args.path, args.results)
        verdicts = load_verdicts(with_companions(sources, "verdicts"))
    runs = runs_of(sources, frame["run_id"].astype(str).unique())
    if args.format == "json":
        sys.stdout.write(report_json(runs=runs, summary=summary, fits=fits, compared=compared,
                                     verdicts=verdicts))  # fmt: skip
    elif args.format == "csv":
        sys.stdout.write(summary.to_csv(index=False))
    else:
        header = header_lines(runs, sorted(frame["run_id"].astype(str).unique()))
        if args.format == "table":
            print("\n".join([*header, ""]))
        for line in report_text(frame, summary, fits, compared, verdicts, by, args.format):
            print(line)
        for line in _decisions(frame, sources, column):
            print(line)
        if args.format == "markdown":  # after the report's title: a section of its own
            print("\n".join(["", "### provenance", "", *("    " + line for line in header)]))
    if args.html is not None:
        from .html import report_html

        with said_warnings():
            tasks = load_companion(with_companions(sources, "tasks"), "tasks")
            cores = load_companion(with_companions(sources, "cores"), "cores")
        page = report_html(
            frame,
            tasks=tasks,
            cores=cores,
            verdicts=verdicts,
            baseline=args.baseline,
            chosen_round=args.round,
            title="pytest-concur report",
        )
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as exc:
            parser.error(f"cannot write {args.html}: {exc.strerror or exc}")
        print(f"HTML report written to {args.html}", file=sys.stderr)
    return 0


def _decisions(frame: pd.DataFrame, sources: Sequence[Path], column: str | None) -> list[str]:
    """The variant to use per experiment and why (docs/decisions.md), per ``--by`` group:
    rounds of different interpreters are never pooled into one decision."""
    from .._advice.lines import decision_lines
    from ..analysis import load_companion

    with said_warnings():
        tasks = load_companion(with_companions(sources, "tasks"), "tasks")
    groups: list[tuple[str | None, pd.DataFrame]] = (
        [(None, frame)]
        if column is None
        else [(str(value), rows) for value, rows in frame.groupby(column, observed=True)]
    )
    out: list[str] = []
    for value, rows in groups:
        lines = decision_lines(rows, tasks)
        if lines and value is not None:
            lines = [lines[0].replace(" (docs/", f" for {column} {value} (docs/", 1), *lines[1:]]
        out.extend(["", *lines] if lines else [])
    return out


def _sources(values: Sequence[str], results: Path) -> list[Path]:
    found: list[Path] = []
    for value in values:
        found.extend(resolve_source(value, results))
    return found


def compare(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    baseline = _load(parser, [args.baseline], args.results)
    candidate = _load(parser, [args.candidate], args.results)
    thresholds = tuple(t for group in args.threshold for t in group)
    with said_warnings():
        comparison = compare_frames(baseline, candidate, thresholds=thresholds, alpha=args.alpha)
        base_runs = runs_of(_sources([args.baseline], args.results),
                            baseline["run_id"].astype(str).unique())  # fmt: skip
        cand_runs = runs_of(_sources([args.candidate], args.results),
                            candidate["run_id"].astype(str).unique())  # fmt: skip
    setup = differences(base_runs, cand_runs)
    for warning in setup if args.format != "json" else ():
        print(f"pytest-concur: warning: {warning}", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(compare_json(comparison, baseline_runs=base_runs,
                                      candidate_runs=cand_runs, warnings=setup))  # fmt: skip
    elif args.format == "csv":
        table = comparison.table.merge(
            comparison.regressions[
                ["experiment", "params", "model", "workers", "metric", "threshold"]
            ],
            how="left",
            on=["experiment", "params", "model", "workers", "metric"],
        )
        sys.stdout.write(table.to_csv(index=False))
    else:
        render = aligned if args.format == "table" else markdown
        for line in render(comparison_rows(comparison.table, flagged_keys(comparison)), left=3):
            print(line)
        print()
        bullet = "" if args.format == "table" else "- "
        for note in comparison_notes(comparison):
            print(bullet + note)
    return 1 if comparison.failed else 0
