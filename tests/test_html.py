"""The HTML report: self-contained, escaped, every section present or explained, and what a
real browser (headless Chromium, where installed) renders from it."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from concur_samples import rows
from helpers import NAP_SOURCE, concur_test, experiment_source
from hypothesis import given
from hypothesis import strategies as st

from pytest_concur._reporting.html_page import report_html
from pytest_concur._reporting.html_timelines import MAX_TASKS
from pytest_concur._reporting.svg import nice_ticks
from pytest_concur._reporting.svg_timelines import Span, pack
from pytest_concur.analysis import rows_frame

HOSTILE_EXPERIMENT = 'test_evil.py::test_x[<script>alert("x")</script>]'
HOSTILE_PARAMS = "p=<b>&amp;'\""
HOSTILE_CLAIM = '<img src=x onerror="alert(1)">'
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _variant(model: str, workers: int) -> str:
    return model if model == "serial" else f"{model}-{workers}"


def sample(pythons: tuple[str, ...] = ("3.11.7", "3.13.5t")) -> dict[str, pd.DataFrame]:
    """Rounds, tasks, cores and verdicts as the plugin stores them, for two interpreters."""
    data: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    cores: list[dict[str, Any]] = []
    for python in pythons:
        gil = not python.endswith("t")
        run_id = f"run-{python}"
        for experiment, params in (
            ("test_cpu.py::test_pi", ""),
            (HOSTILE_EXPERIMENT, HOSTILE_PARAMS),
        ):
            for model, counts in (("serial", [1]), ("threads", [1, 2]), ("asyncio", [1, 2])):
                for n in counts:
                    parallel = model == "threads" and not gil
                    wall = 0.2 / (n if parallel else 1)
                    walls = [wall * (1 + 0.01 * i) for i in range(5)]
                    data += rows(walls, model=model, workers=n, experiment=experiment,
                                 params=params, python=python, gil_enabled=gil, run_id=run_id,
                                 warmup=1)  # fmt: skip
                    test_id = f"{experiment}[{_variant(model, n)}]"
                    for round_index, round_wall in enumerate(walls):
                        for task in range(4):
                            lane = 0 if model == "asyncio" else task % n
                            if model == "asyncio":  # all on one thread, overlapping
                                start, end = 0.001 * task, round_wall * 0.95
                            else:
                                step = round_wall / (4 / n)
                                start, end = (task // n) * step, (task // n + 1) * step * 0.98
                            tasks.append(
                                {"run_id": run_id, "test_id": test_id, "round": round_index,
                                 "model": model, "workers": n, "map_index": 0, "task": task,
                                 "host": "vm", "pid": 100, "thread_id": 200 + lane,
                                 "interpreter_id": 0, "start_s": start, "end_s": end,
                                 "wall_s": end - start, "cpu_s": (end - start) * 0.9,
                                 "suspensions": None}
                            )  # fmt: skip
                        for cpu in range(2):
                            for k in range(10):
                                cores.append(
                                    {"run_id": run_id, "test_id": test_id, "round": round_index,
                                     "cpu": cpu, "sample": k, "start_s": k * round_wall / 10,
                                     "end_s": (k + 1) * round_wall / 10,
                                     "busy": (k + cpu) % 10 / 10}
                                )  # fmt: skip
    verdicts = pd.DataFrame(
        [
            {"run_id": "run-3.11.7", "python": "3.11.7", "gil": "enabled",
             "claim": "threads do not speed up CPU work under the GIL", "claim_status": "confirmed",
             "experiment": "test_cpu.py::test_pi", "expectation": "threads-2 not faster",
             "status": "confirmed", "reason": "ratio 1.00x", "p_value": 0.01},
            {"run_id": "run-3.11.7", "python": "3.11.7", "gil": "enabled", "claim": HOSTILE_CLAIM,
             "claim_status": "refuted", "experiment": HOSTILE_EXPERIMENT,
             "expectation": "<b>bold</b>", "status": "refuted", "reason": "<tr><td>INJECTED",
             "p_value": 0.9},
        ]
    )  # fmt: skip
    return {
        "rounds": rows_frame(data),
        "tasks": pd.DataFrame(tasks),
        "cores": pd.DataFrame(cores),
        "verdicts": verdicts,
    }


@pytest.fixture(scope="module")
def parts() -> dict[str, pd.DataFrame]:
    return sample()


@pytest.fixture(scope="module")
def page(parts: dict[str, pd.DataFrame]) -> str:
    return report_html(
        parts["rounds"],
        tasks=parts["tasks"],
        cores=parts["cores"],
        verdicts=parts["verdicts"],
        generated=WHEN,
    )


# ---------------------------------------------------------------------------- the page


def test_the_page_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    for external in ("@import", "url(http", "@font-face"):
        assert external not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}


def test_every_string_from_a_test_is_escaped(page: str) -> None:
    for raw in (
        '<script>alert("x")</script>',
        "<b>&amp;",
        "<img src=x",
        "<b>bold</b>",
        "<td>INJECTED",
    ):
        assert raw not in page
    assert "&lt;tr&gt;&lt;td&gt;INJECTED" in page
    assert "test_x[&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;]" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "p=&lt;b&gt;&amp;amp;&#x27;&quot;" in page


def test_every_svg_is_well_formed_xml(page: str) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)
    assert len(svgs) >= 10
    for svg in svgs:
        ET.fromstring(svg)  # raises on a broken tag or an unescaped character


def test_sections_for_claims_versions_scaling_and_timelines(page: str) -> None:
    assert page.count('class="chart line-chart"') == 4  # 2 experiments x 2 interpreters
    assert page.count('class="chart bar-chart"') == 2  # cross-version, per experiment
    assert "Across Python versions" in page
    assert "3.13.5t (GIL off)" in page
    assert "Scaling fit (Amdahl)" in page
    assert ">ideal<" in page
    assert 'class="chart gantt"' in page
    assert 'class="chart heat"' in page
    assert "the median of 4 measured rounds" in page
    assert "Claims and verdicts" in page
    assert '<span class="v v-confirmed">confirmed</span>' in page
    assert '<span class="v v-refuted">refuted</span>' in page


def test_overlapping_tasks_on_one_thread_are_stacked(page: str) -> None:
    # asyncio-2 runs 4 overlapping tasks on one thread: one lane, four rows of bars
    gantts = re.findall(r'<svg[^>]*class="chart gantt".*?</svg>', page, re.DOTALL)
    asyncio = [g for g in gantts if "test_pi[asyncio-2]" in g]
    assert asyncio
    lanes = re.findall(r'<g class="lane".*?</g>', asyncio[0], re.DOTALL)
    assert len(lanes) == 1
    tops = set(re.findall(r'<rect class="task" x="[^"]*" y="([^"]*)"', lanes[0]))
    assert len(tops) == 4


def test_a_chosen_round_is_shown(parts: dict[str, pd.DataFrame]) -> None:
    html = report_html(parts["rounds"], tasks=parts["tasks"], cores=parts["cores"], chosen_round=3)
    assert "round 3 (chosen)" in html


def test_missing_timelines_verdicts_and_versions_are_explained(
    parts: dict[str, pd.DataFrame],
) -> None:
    one = parts["rounds"][parts["rounds"]["python"] == "3.11.7"]
    html = report_html(one)
    assert "No task or core timelines are stored with these results" in html
    assert "No verdicts are stored with these results" in html
    assert "Across Python versions" not in html
    assert 'class="chart line-chart"' in html
    empty = report_html(parts["rounds"].iloc[0:0])
    assert "No measured rounds in these results" in empty


def test_failed_variants_show_their_escaped_error() -> None:
    data = rows([1.0, 1.1, 1.2]) + rows(
        [0.5], model="threads", workers=2, outcome="failed", error="ValueError: <oops> & more"
    )
    html = report_html(rows_frame(data))
    assert "failed</span>" in html
    assert "ValueError: &lt;oops&gt; &amp; more" in html


def test_huge_task_counts_are_capped(parts: dict[str, pd.DataFrame]) -> None:
    first = parts["rounds"].iloc[0]
    count = MAX_TASKS + 10
    many = pd.DataFrame(
        {"run_id": [first["run_id"]] * count, "test_id": [first["test_id"]] * count,
         "round": [1] * count, "pid": [1] * count, "thread_id": [1] * count,
         "task": list(range(count)), "start_s": [i * 1e-5 for i in range(count)],
         "end_s": [i * 1e-5 + 1e-5 for i in range(count)]}
    )  # fmt: skip
    html = report_html(parts["rounds"], tasks=many, chosen_round=1)
    assert f"{MAX_TASKS + 10} tasks on 1 worker(s); the chart shows the first {MAX_TASKS}" in html


# ---------------------------------------------------------------------------- chart helpers


@given(low=st.floats(-1e6, 1e6), width=st.floats(1e-6, 1e6))
def test_nice_ticks_cover_the_range_in_order(low: float, width: float) -> None:
    high = low + width
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low + 1e-9 * max(1.0, abs(low))
    assert ticks[-1] >= high - 1e-9 * max(1.0, abs(high))
    assert all(a < b for a, b in itertools.pairwise(ticks))
    assert 2 <= len(ticks) <= 12


spans = st.lists(
    st.tuples(st.floats(0, 10), st.floats(0, 5)).map(lambda t: Span(t[0], t[0] + t[1], "#000", "")),
    max_size=40,
)


@given(items=spans, limit=st.integers(1, 20))
def test_pack_places_every_span_and_overlaps_only_past_the_limit(
    items: list[Span], limit: int
) -> None:
    rows_ = pack(items, limit)
    assert sorted(map(id, (s for row in rows_ for s in row))) == sorted(map(id, items))
    assert len(rows_) <= limit
    if len(rows_) < limit:
        for row in rows_:
            ordered = sorted(row, key=lambda s: s.start)
            assert all(a.end <= b.start for a, b in itertools.pairwise(ordered))


# ---------------------------------------------------------------------------- the plugin


def test_concur_html_writes_the_page_of_the_session(pytester: pytest.Pytester) -> None:
    nap = concur_test(
        models=["serial", "threads"], workers=[2], rounds=2, fixtures="concur, tag",
        decorators=['@pytest.mark.parametrize("tag", ["<i>&"])'],
        body="concur.map(nap, [0.005] * 4)",
    )  # fmt: skip
    pytester.makepyfile(test_exp=experiment_source(nap, before=NAP_SOURCE))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--concur-html", "out/r.html")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [f"pytest-concur: HTML report written to {pytester.path}/out/r.html"]
    )
    html = (pytester.path / "out" / "r.html").read_text(encoding="utf-8")
    assert "test_exp.py::test_nap [tag=&lt;i&gt;&amp;]" in html
    assert 'class="chart line-chart"' in html
    assert "<i>&" not in html


# ---------------------------------------------------------------------------- a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
             *args],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_headless_chromium_renders_the_charts_and_runs_nothing(page: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    done = _chromium("--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # what the browser built: the charts, their marks and texts, and no injected elements
    assert dom.count('class="chart line-chart"') == 4
    assert dom.count('class="chart bar-chart"') == 2
    assert dom.count('class="chart gantt"') >= 4
    for element in ("<polyline", "<rect", "<circle", "<title>"):
        assert element in dom
    assert "Across Python versions" in dom
    assert "Scaling fit (Amdahl)" in dom
    assert 'test_x[&lt;script&gt;alert("x")&lt;/script&gt;]' in dom
    assert '&lt;img src=x onerror="alert(1)"&gt;' in dom
    assert "<script" not in dom
    assert "<img" not in dom
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_headless_chromium_screenshot_is_not_blank(page: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    done = _chromium("--window-size=1280,2000", f"--screenshot={shot}", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG")
    # a rendered page with charts compresses far worse than an empty one (about 5 KB)
    assert len(data) > 50_000
