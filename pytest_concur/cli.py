"""``pytest-concur`` / ``python -m pytest_concur``: report on and compare stored results.

  pytest-concur report PATH... [--by COLUMN] [--format table|markdown|csv] [--html FILE]
  pytest-concur compare BASELINE CANDIDATE [--threshold wall:10%] [--alpha 0.05]

PATH, BASELINE and CANDIDATE are results files, folders, globs or stored run ids.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, NoReturn, TypeVar

import pandas as pd

from ._reporting.compare import (
    DEFAULT_ALPHA,
    compare_frames,
    comparison_notes,
    comparison_rows,
    flagged_keys,
    records,
    resolve_source,
)
from ._reporting.summary import warnings_for
from ._reporting.tables import aligned, markdown
from ._reporting.terminal import _escape, _number, _seconds
from ._reporting.thresholds import Threshold, parse_thresholds

FORMATS: Final = ("table", "markdown", "csv")
T = TypeVar("T")


class _Parser(argparse.ArgumentParser):
    """argparse, with errors that end in exit status 2 and never a traceback."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _threshold_arg(text: str) -> tuple[Threshold, ...]:
    try:
        return parse_thresholds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _alpha_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _round_arg(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a round number (0, 1, ...), got {text!r}")
    return int(text)


def _add_results_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="where run ids are looked up (default: results)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pytest-concur",
        description="Report on and compare pytest-concur results stored as Parquet.",
        epilog="PATH may be a results file, a folder of runs, a glob, or a run id stored in "
        "--results (default results/).",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    report = commands.add_parser(
        "report",
        help="summarize stored results",
        description="Summarize stored results: "
        "per experiment, the median of every variant with its confidence interval, "
        "speedup, efficiency and an Amdahl fit; with --by, a comparison across that column.",
    )
    report.add_argument(
        "path", nargs="+", metavar="PATH", help="results file, folder, glob or run id"
    )
    report.add_argument(
        "--by",
        metavar="COLUMN",
        help="group by this column (python, run_id, host, gil_enabled, ...) and compare its "
        "values; default: python where the results hold several interpreters",
    )
    report.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    report.add_argument(
        "--baseline",
        default="serial",
        metavar="VARIANT",
        help="speedups against this model or variant, e.g. threads-1 (default: serial)",
    )
    report.add_argument(
        "--html",
        metavar="FILE",
        type=Path,
        help="also write a self-contained HTML report with plots to FILE",
    )
    report.add_argument(
        "--round",
        type=_round_arg,
        default=None,
        metavar="N",
        help="round shown in the HTML timelines (default: each variant's median round)",
    )
    _add_results_option(report)
    compare = commands.add_parser(
        "compare",
        help="compare a candidate run against a baseline run",
        description="Compare variant by variant: medians, relative change and one-sided "
        "Mann-Whitney U p-values. Exit status 1 when a variant got significantly slower "
        "by more than a --threshold.",
    )
    compare.add_argument(
        "baseline", metavar="BASELINE", help="results file, folder, glob or run id"
    )
    compare.add_argument(
        "candidate", metavar="CANDIDATE", help="results file, folder, glob or run id"
    )
    compare.add_argument(
        "--threshold",
        type=_threshold_arg,
        action="append",
        default=[],
        metavar="METRIC:LIMIT",
        help="fail (exit 1) when a variant's median grows by more than this "
        "and the change is significant, e.g. wall:10%%, cpu:25%%, "
        "rss:1.5x; repeat or comma-separate for several",
    )
    compare.add_argument(
        "--alpha",
        type=_alpha_arg,
        default=DEFAULT_ALPHA,
        help=f"significance level of the rank test (default {DEFAULT_ALPHA})",
    )
    compare.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    _add_results_option(compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "report":
            return _report(parser, args)
        return _compare(parser, args)
    except BrokenPipeError:
        # `pytest-concur report ... | head`: the reader left; that is not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


@contextmanager
def _said_warnings() -> Iterator[None]:
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
    from .analysis import load

    paths = _or_usage_error(parser, lambda: _sources(values, results))
    with _said_warnings():
        frame = load(paths)
    if frame.empty:
        parser.error(f"no pytest-concur rounds in {', '.join(values)}")
    return frame


# ---------------------------------------------------------------------------- report


def _report(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .analysis import amdahl, compare, load_companion, load_verdicts, summarize

    frame = _load(parser, args.path, args.results)
    column = args.by
    if column is None and "python" in frame and frame["python"].nunique() > 1:
        column = "python"  # rounds of different interpreters are never pooled unasked
    by = [column] if column else []
    with _said_warnings():
        summary = _or_usage_error(parser, lambda: summarize(frame, by, baseline=args.baseline))
        fits = amdahl(frame, by, baseline=args.baseline)
        compared = compare(frame, column) if column and frame[column].nunique() > 1 else None
        sources = _sources(args.path, args.results)
        verdicts = load_verdicts(_companions(sources, "verdicts"))
    if args.format == "csv":
        sys.stdout.write(summary.to_csv(index=False))
    else:
        for line in report_text(frame, summary, fits, compared, verdicts, by, args.format):
            print(line)
    if args.html is not None:
        from ._reporting.html import report_html

        with _said_warnings():
            tasks = load_companion(_companions(sources, "tasks"), "tasks")
            cores = load_companion(_companions(sources, "cores"), "cores")
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


def _companions(sources: Sequence[Path], kind: str) -> list[Path]:
    """The files of ``kind`` among ``sources``, and those beside each rounds file named."""
    found = list(sources)
    for path in sources:
        sibling = path.with_name(f"{path.name.split('.')[0]}.{kind}.parquet")
        if path.name.count(".") == 1 and sibling.is_file() and sibling not in found:
            found.append(sibling)
    return found


def _sources(values: Sequence[str], results: Path) -> list[Path]:
    found: list[Path] = []
    for value in values:
        found.extend(resolve_source(value, results))
    return found


_HEADERS: Final = (
    "model",
    "workers",
    "rounds",
    "wall median",
    "median CI",
    "spread",
    "cpu s",
    "cores",
    "util",
    "speedup",
    "effic.",
)


def _ci(low: float, high: float, level: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return "-"
    return f"{_seconds(low)} - {_seconds(high)} ({level:.0%})"


def _summary_rows(group: pd.DataFrame, by: list[str]) -> tuple[list[tuple[str, ...]], list[str]]:
    rows: list[tuple[str, ...]] = [(*by, *_HEADERS)]
    notes: list[str] = []
    for _, line in group.iterrows():
        keys = tuple(_escape(str(line[name])) for name in by)
        name = f"{line['model']}"
        label = " ".join(
            [*keys, _escape(name if name == "serial" else f"{name}-{line['workers']}")]
        )
        if line["rounds"] == 0:
            rows.append(
                (
                    *keys,
                    _escape(name),
                    str(line["workers"]),
                    "0",
                    "FAILED",
                    *[""] * (len(_HEADERS) - 4),
                )
            )
            notes.append(f"{label}: {_escape(str(line['error']))}")
            continue
        speedup = line["speedup"]
        rows.append(
            (
                *keys,
                _escape(name),
                str(line["workers"]),
                str(line["rounds"]),
                _seconds(line["wall_median_s"]),
                _ci(line["wall_ci_low_s"], line["wall_ci_high_s"], line["wall_ci_level"]),
                "±" + _number(line["wall_rel_spread"] / 2 * 100, ".0f") + "%",
                _number(line["cpu_median_s"], ".3f"),
                _number(line["cores_used"], ".2f"),
                _number(line["utilization"] * 100, ".0f") + "%",
                _number(speedup, ".2f") + ("" if math.isnan(speedup) else "x"),
                _number(line["efficiency"], ".2f"),
            )
        )
        if line["failed"]:
            notes.append(
                f"{label}: failed after {line['rounds']} round(s): {_escape(str(line['error']))}"
            )
        notes.extend(f"{label}: {note}" for note in warnings_for(line))
    return rows, notes


def _environment_lines(frame: pd.DataFrame, by: list[str]) -> list[str]:
    def values(column: str) -> str:
        if column not in frame:
            return "-"
        found = [_escape(str(v)) for v in frame[column].dropna().unique()]
        return ", ".join(sorted(found)) or "-"

    runs = frame["run_id"].nunique() if "run_id" in frame else 0
    lines = [
        f"{len(frame)} rounds from {runs} run(s): {values('run_id')}",
        f"python: {values('python')}; GIL enabled: {values('gil_enabled')}; "
        f"host: {values('host')}; usable CPUs: {values('usable_cpus')}",
    ]
    if by:
        lines.append(f"grouped by {_escape(by[0])}")
    hosts = frame["host"].nunique() if "host" in frame else 0
    if hosts > 1 and "host" not in by:
        lines.append(
            f"rounds from {hosts} hosts are pooled per variant; --by host keeps them apart"
        )
    return [*lines, ""]


def report_text(
    frame: pd.DataFrame,
    summary: pd.DataFrame,
    fits: pd.DataFrame,
    compared: pd.DataFrame | None,
    verdicts: pd.DataFrame,
    by: list[str],
    fmt: str,
) -> list[str]:
    """The report as lines: a table per experiment, scaling fits, comparison, verdicts."""
    table = aligned if fmt == "table" else markdown
    heading = (lambda text: [text]) if fmt == "table" else (lambda text: [f"### {text}", ""])
    if fmt == "table":
        out = _environment_lines(frame, by)
    else:
        out = ["## pytest-concur report", ""]
        out.extend(f"- {line}" if line else line for line in _environment_lines(frame, by))
    for (experiment, params), group in summary.groupby(
        ["experiment", "params"], sort=False, observed=True
    ):
        title = _escape(str(experiment)) + (f" [{_escape(str(params))}]" if params else "")
        out.extend(heading(f"{title}  (workload: {_escape(str(group['workload'].iloc[0]))})"))
        rows, notes = _summary_rows(group, by)
        infos: list[str] = []
        indent = "  " if fmt == "table" else ""
        out.extend(indent + line for line in table(rows, left=len(by) + 1))
        mine = fits[(fits["experiment"] == experiment) & (fits["params"] == params)]
        for fit in records(mine):
            where = "".join(f"{name}={_escape(str(fit[name]))}, " for name in by)
            ceiling = "unbounded" if math.isinf(fit["ceiling"]) else f"{fit['ceiling']:.2f}x"
            infos.append(
                f"Amdahl fit {where}{_escape(str(fit['model']))} over {fit['worker_counts']} "
                f"workers: parallel fraction {fit['parallel_fraction']:.2f}, ceiling {ceiling}, "
                f"best seen {fit['best_speedup']:.2f}x"
            )
        if fmt == "table":
            out.extend("  ! " + note for note in notes)
            out.extend("  " + info for info in infos)
        elif notes or infos:
            out.append("")
            out.extend("- " + note for note in [*notes, *infos])
        out.append("")
    if compared is not None:
        against = _escape(str(compared["baseline"].iloc[0])) if len(compared) else "-"
        out.extend(heading(f"by {_escape(by[0])}: each value against {against}"))
        out.extend(
            ("  " if fmt == "table" else "") + line
            for line in table(comparison_rows(compared), left=3)
        )
        out.append("")
    if not verdicts.empty:
        out.extend(heading("claims and verdicts"))
        if fmt == "table":
            out.extend(verdict_lines(verdicts))
        else:
            rows = verdict_rows(verdicts)
            out.extend(markdown(rows, left=len(rows[0])))
        out.append("")
    out.append(
        "wall median over measured rounds; median CI = distribution-free interval for the "
        "median (order statistics) at the confidence the number of rounds allows; spread = "
        "half the interquartile range; cores = CPU seconds of the process tree / wall; "
        "util = cores / usable CPUs; speedup = baseline median / median; effic. = speedup "
        "per worker"
    )
    return out


_VERDICT_COLUMNS: Final = ("run_id", "python", "gil", "claim", "expectation", "status", "reason")


def verdict_lines(verdicts: pd.DataFrame) -> list[str]:
    """Each claim with its status per run and interpreter, then its expectations."""
    if not {"claim", "status", "expectation"} <= set(verdicts.columns):
        return ["  " + line for line in aligned(verdict_rows(verdicts), left=99)]
    out: list[str] = []
    status_of = "claim_status" if "claim_status" in verdicts else "status"
    keys = [k for k in ("run_id", "python", "gil", "claim") if k in verdicts]
    for _, group in verdicts.groupby(keys, sort=False, observed=True, dropna=False):
        first = records(group.iloc[:1])[0]
        where = ", ".join(
            f"{name} {_escape(str(first[name]))}"
            for name in ("python", "gil", "run_id")
            if name in first and not pd.isna(first[name])
        )
        status = str(first.get(status_of, "")).upper()
        out.append(f"  {status:<12}  {_escape(str(first['claim']))}  ({where})")
        for row in records(group):
            reason = "" if pd.isna(row.get("reason")) else f": {_escape(str(row['reason']))}"
            out.append(f"    {row['status']!s:<12}  {_escape(str(row['expectation']))}{reason}")
    return out


def verdict_rows(verdicts: pd.DataFrame) -> list[tuple[str, ...]]:
    """The stored verdicts as display rows: the columns a reader needs, in a fixed order."""
    columns = [name for name in _VERDICT_COLUMNS if name in verdicts.columns]
    columns = columns or [str(name) for name in verdicts.columns]
    rows: list[tuple[str, ...]] = [tuple(columns)]
    for record in verdicts[columns].itertuples(index=False, name=None):
        rows.append(tuple(_escape("" if pd.isna(v) else str(v)) for v in record))
    return rows


# ---------------------------------------------------------------------------- compare


def _compare(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    baseline = _load(parser, [args.baseline], args.results)
    candidate = _load(parser, [args.candidate], args.results)
    thresholds = tuple(t for group in args.threshold for t in group)
    with _said_warnings():
        comparison = compare_frames(baseline, candidate, thresholds=thresholds, alpha=args.alpha)
    if args.format == "csv":
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


if __name__ == "__main__":
    sys.exit(main())
