"""The work of ``pytest-concur report`` and ``pytest-concur compare`` (``cli.py`` parses).

Each command takes plain values, loads what they name, builds the report with the one
summary row builder and verdict layout, and prints it. A bad argument raises
:class:`CommandError`, which ``cli.py`` reports as a usage error (exit status 2); a
regression is exit status 1.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pandas as pd

from .._rounds.conventions import ALPHA
from .._storing.frames import load_beside
from . import CommandError
from .compare import compare_frames, comparison_notes, comparison_rows, flagged_keys, resolve_source
from .json_output import compare_json, report_json, runs_of
from .provenance_header import differences, header_lines
from .report_text import report_text
from .tables import aligned, markdown
from .thresholds import Threshold

T = TypeVar("T")


@contextmanager
def said_warnings() -> Iterator[None]:
    """Warnings (skipped files) as one plain line each on stderr, not Python's format."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        print(f"pytest-concur: warning: {warning.message}", file=sys.stderr)


def _or_usage_error(action: Callable[[], T]) -> T:
    try:
        return action()
    except (FileNotFoundError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise CommandError(str(message)) from None


def _load(values: Sequence[str], results: Path) -> pd.DataFrame:
    from ..analysis import load

    paths = _or_usage_error(lambda: _sources(values, results))
    with said_warnings():
        frame = load(paths)
    if frame.empty:
        raise CommandError(f"no pytest-concur rounds in {', '.join(values)}")
    return frame


def report(
    paths: Sequence[str],
    *,
    results: Path,
    by: str | None = None,
    output: str = "table",
    baseline: str = "serial",
    html: Path | None = None,
    chosen_round: int | None = None,
) -> int:
    """``pytest-concur report``: ``paths`` as given (files, folders, globs, run ids or
    names in ``results``), ``output`` one of the formats, ``html`` a page to write."""
    from ..analysis import amdahl, compare, summarize

    frame = _load(paths, results)
    column = by
    if column is None and "python" in frame and frame["python"].nunique() > 1:
        column = "python"  # rounds of different interpreters are never pooled unasked
    groups = [column] if column else []
    with said_warnings():
        summary = _or_usage_error(lambda: summarize(frame, groups, baseline=baseline))
        fits = amdahl(frame, groups, baseline=baseline)
        compared = compare(frame, column) if column and frame[column].nunique() > 1 else None
        sources = _sources(paths, results)
        verdicts = load_beside(sources, "verdicts")
    runs = runs_of(sources, frame["run_id"].astype(str).unique())
    if output == "json":
        sys.stdout.write(report_json(runs=runs, summary=summary, fits=fits, compared=compared,
                                     verdicts=verdicts))  # fmt: skip
    elif output == "csv":
        sys.stdout.write(summary.to_csv(index=False))
    else:
        header = header_lines(runs, sorted(frame["run_id"].astype(str).unique()))
        if output == "table":
            print("\n".join([*header, ""]))
        for line in report_text(frame, summary, fits, compared, verdicts, groups, output):
            print(line)
        for line in _decisions(frame, sources, column):
            print(line)
        if output == "markdown":  # after the report's title: a section of its own
            print("\n".join(["", "### provenance", "", *("    " + line for line in header)]))
    if html is not None:
        from .html_page import report_html

        with said_warnings():
            tasks = load_beside(sources, "tasks")
            cores = load_beside(sources, "cores")
        page = report_html(
            frame,
            tasks=tasks,
            cores=cores,
            verdicts=verdicts,
            baseline=baseline,
            chosen_round=chosen_round,
            title="pytest-concur report",
        )
        try:
            html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {html}: {exc.strerror or exc}") from None
        print(f"HTML report written to {html}", file=sys.stderr)
    return 0


def _decisions(frame: pd.DataFrame, sources: Sequence[Path], column: str | None) -> list[str]:
    """The variant to use per experiment and why (docs/decisions.md), per ``--by`` group:
    rounds of different interpreters are never pooled into one decision."""
    from .._advice.lines import decision_lines

    with said_warnings():
        tasks = load_beside(sources, "tasks")
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


def compare(
    baseline: str,
    candidate: str,
    *,
    results: Path,
    thresholds: Sequence[Threshold] = (),
    alpha: float = ALPHA,
    output: str = "table",
) -> int:
    """``pytest-concur compare``: exit status 1 when a variant got significantly slower by
    more than one of the ``thresholds``."""
    base = _load([baseline], results)
    cand = _load([candidate], results)
    with said_warnings():
        comparison = compare_frames(base, cand, thresholds=tuple(thresholds), alpha=alpha)
        base_runs = runs_of(_sources([baseline], results), base["run_id"].astype(str).unique())
        cand_runs = runs_of(_sources([candidate], results), cand["run_id"].astype(str).unique())
    setup = differences(base_runs, cand_runs)
    for warning in setup if output != "json" else ():
        print(f"pytest-concur: warning: {warning}", file=sys.stderr)
    if output == "json":
        sys.stdout.write(compare_json(comparison, baseline_runs=base_runs,
                                      candidate_runs=cand_runs, warnings=setup))  # fmt: skip
    elif output == "csv":
        table = comparison.table.merge(
            comparison.regressions[
                ["experiment", "params", "model", "workers", "metric", "threshold"]
            ],
            how="left",
            on=["experiment", "params", "model", "workers", "metric"],
        )
        sys.stdout.write(table.to_csv(index=False))
    else:
        render = aligned if output == "table" else markdown
        for line in render(comparison_rows(comparison.table, flagged_keys(comparison)), left=3):
            print(line)
        print()
        bullet = "" if output == "table" else "- "
        for note in comparison_notes(comparison):
            print(bullet + note)
    return 1 if comparison.failed else 0
