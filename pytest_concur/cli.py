"""``pytest-concur`` / ``python -m pytest_concur``: report on and compare stored results.

  pytest-concur report PATH... [--by COLUMN] [--format table|markdown|csv|json] [--html FILE]
  pytest-concur compare BASELINE CANDIDATE [--threshold wall:10%] [--alpha 0.05]
  pytest-concur list [DIR | --results DIR] [--format table|markdown|csv|json]
  pytest-concur --version

PATH, BASELINE and CANDIDATE are results files, folders, globs, or run ids or run names
stored in --results.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, NoReturn

from ._reporting.thresholds import Threshold, parse_thresholds
from ._rounds.conventions import ALPHA

FORMATS: Final = ("table", "markdown", "csv", "json")


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


class _ResultsFolder(argparse.Action):
    """``--results DIR``, remembering that it was given (``list`` takes DIR twice)."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option: Any = None) -> None:
        namespace.results = Path(value)
        namespace.results_given = True


def _add_results_option(command: argparse.ArgumentParser) -> None:
    """``--results DIR``: the same in every command, the folder of the stored runs."""
    command.add_argument(
        "--results",
        action=_ResultsFolder,
        default=Path("results"),
        metavar="DIR",
        help="the results folder: where runs, run ids and names are looked up "
        "(default: results)",
    )
    command.set_defaults(results_given=False)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pytest-concur",
        description="Report on and compare pytest-concur results stored as Parquet.",
        epilog="PATH may be a results file, a folder of runs, a glob, or a run id or run name "
        "stored in --results (default results/).",
    )
    parser.add_argument("--version", action="version", version=_version())
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
        "path", nargs="+", metavar="PATH", help="results file, folder, glob, run id or name"
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
        "baseline", metavar="BASELINE", help="results file, folder, glob, run id or name"
    )
    compare.add_argument(
        "candidate", metavar="CANDIDATE", help="results file, folder, glob, run id or name"
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
        default=ALPHA,
        help=f"significance level of the rank test (default {ALPHA})",
    )
    compare.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    _add_results_option(compare)
    listing = commands.add_parser(
        "list",
        help="list the runs stored in a results folder",
        description="The runs in a results folder, oldest first: date, name, run id, commit "
        "(+: uncommitted changes), Python, GIL and measured rounds.",
    )
    listing.add_argument(
        "folder", nargs="?", type=Path, default=None, metavar="DIR",
        help="results folder, as --results (default: results)",
    )  # fmt: skip
    listing.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    _add_results_option(listing)
    return parser


def _version() -> str:
    from ._measuring.provenance import version_of

    return f"pytest-concur {version_of('pytest-concur') or 'unknown'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ._reporting import CommandError

    try:
        return _run(parser, args)
    except CommandError as exc:
        parser.error(str(exc))
    except BrokenPipeError:
        # `pytest-concur report ... | head`: the reader left; that is not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """The command, handed plain values (the reporting layer never sees argparse)."""
    if args.command == "report":
        from ._reporting.commands import report

        return report(
            args.path, results=args.results, by=args.by, output=args.format,
            baseline=args.baseline, html=args.html, chosen_round=args.round,
        )  # fmt: skip
    if args.command == "compare":
        from ._reporting.commands import compare

        thresholds = tuple(t for group in args.threshold for t in group)
        return compare(
            args.baseline, args.candidate, results=args.results, thresholds=thresholds,
            alpha=args.alpha, output=args.format,
        )  # fmt: skip
    from ._reporting.runs_list import list_command

    folder = args.folder if args.folder is not None else args.results
    if args.folder is not None and args.results_given and args.folder != args.results:
        parser.error(f"list: the folder is given twice ({args.folder} and --results "
                     f"{args.results}); give it once")  # fmt: skip
    return list_command(folder, output=args.format)


if __name__ == "__main__":
    sys.exit(main())
