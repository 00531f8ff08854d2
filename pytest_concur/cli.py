"""``pytest-concur`` / ``python -m pytest_concur``: work with stored results."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._report import report_lines
from .analysis import load


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pytest-concur", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="print the report of stored results")
    report.add_argument("path", nargs="+", help="a results file, folder or glob")
    args = parser.parse_args(argv)
    if args.command == "report":
        try:
            frame = load(args.path)
        except FileNotFoundError as exc:
            parser.error(str(exc))
        for line in report_lines(frame):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
