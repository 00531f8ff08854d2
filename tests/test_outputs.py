"""Session-end outputs: built from the session's results in memory, one number everywhere."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pytest

# imported before any pytester test: pytester forgets the modules a test imports, and
# numpy's extensions (which summarize reaches through scipy) load once per process
import scipy.stats  # noqa: F401
from helpers import Code, concur_test, experiment_source

from pytest_concur._reporting.rows import SUMMARY_HEADER
from pytest_concur.analysis import load, summarize

EXPERIMENT = experiment_source(
    concur_test(
        "test_naps", models=["serial", "threads"], workers=[2, 4], rounds=4,
        claim="Threads overlap waiting", expect=Code('[pc.speeds_up("threads-4", at_least=1.5)]'),
        body="concur.map(time.sleep, [0.01] * 8)",
    ),
    imports=["time", "pytest", "import pytest_concur as pc"],
)  # fmt: skip


def test_no_save_html_page_shows_verdicts_and_timelines(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--concur-report",
        "--concur-no-save",
        "--concur-html",
        "out/r.html",
    )
    result.assert_outcomes(passed=3)
    assert not (pytester.path / "results").exists()  # nothing saved, yet the page is whole
    page = (pytester.path / "out" / "r.html").read_text(encoding="utf-8")
    assert "No verdicts are stored" not in page
    assert "Threads overlap waiting" in page
    assert re.search(r'<span class="v v-(confirmed|refuted|inconclusive)">', page)
    assert "No task or core timelines" not in page
    assert 'class="chart gantt"' in page
    # the terminal shows the same verdict the page shows
    status = re.search(
        r'Threads overlap waiting</h3><p class="sub">.*?<span class="v v-(\w+)"', page
    )
    assert status is not None
    result.stdout.fnmatch_lines([f"{status.group(1).upper()}*Threads overlap waiting"])


def _text_rows(lines: list[str], header: str) -> dict[str, list[str]]:
    """Rows of an aligned table (cells are two or more spaces apart) by variant label."""
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header))
    width = len(re.split(r"\s{2,}", lines[start].strip()))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1 :]:
        cells = re.split(r"\s{2,}", line.strip())
        # the table ends where a line is not one of its rows (a note, a fit, a blank)
        if not line.startswith("  ") or len(cells) != width:
            break
        rows[cells[0]] = cells
    return rows


def _html_rows(page: str) -> dict[str, list[str]]:
    """Rows of the page's "Numbers" table by variant label, tags stripped."""
    table = page.split("<h3>Numbers</h3>", 1)[1].split("</table>", 1)[0]
    header = [
        html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<th[^>]*>(.*?)</th>", table)
    ]
    assert tuple(header) == SUMMARY_HEADER
    rows: dict[str, list[str]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1]):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c))
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row)
        ]
        rows[cells[0]] = cells
    return rows


def test_terminal_cli_and_html_show_the_same_numbers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--concur-report", "--concur-html", "r.html"
    )
    result.assert_outcomes(passed=3)
    results = pytester.path / "results"
    terminal = _text_rows(result.outlines, "variant")
    # in a process of its own: pytester forgets modules imported during the test, and
    # numpy's extensions cannot be imported twice in one process
    report = pytester.run(sys.executable, "-m", "pytest_concur", "report", str(results))
    assert report.ret == 0, report.stderr.str()
    cli = _text_rows(report.outlines, "variant")
    page = _html_rows((pytester.path / "r.html").read_text(encoding="utf-8"))

    # the labels are the test ids' variants, in all three
    test_ids = load(results)["test_id"].astype(str)
    ids = {test_id.split("[", 1)[1].rstrip("]") for test_id in test_ids}
    assert set(terminal) == set(cli) == set(page) == ids == {"serial", "threads-2", "threads-4"}
    columns = {name: SUMMARY_HEADER.index(name) for name in
               ("rounds", "wall median", "median CI", "spread", "speedup", "effic.")}  # fmt: skip
    for variant in ids:
        for name, at in columns.items():
            assert terminal[variant][at] == cli[variant][at] == page[variant][at], (variant, name)
    # and they are the stored rounds' statistics, spread = interquartile range / median
    summary = summarize(load(results)).set_index("model")
    threads = summary[summary["workers"] == 4].loc["threads"]
    spread = (threads["wall_q75_s"] - threads["wall_q25_s"]) / threads["wall_median_s"]
    assert page["threads-4"][columns["spread"]] == f"{spread * 100:.0f}%"
    assert page["threads-4"][columns["speedup"]] == f"{threads['speedup']:.2f}x"
    assert page["threads-4"][columns["rounds"]] == "4"


def test_spread_is_defined_once(tmp_path: Path) -> None:
    from pytest_concur import _format as fmt

    assert fmt.spread(0.125) == "12%"  # interquartile range / median, as a whole percentage
    assert fmt.spread(float("nan")) == fmt.MISSING
