"""Timelines of the HTML page: one round per variant, its tasks by worker and the busy cores."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from .. import _format as fmt
from .._rounds.counting import measured as measured_rounds
from .._rounds.variant import variant_label
from .html_common import Context, present
from .rows import records
from .svg import PALETTE, model_colour, text
from .svg_timelines import Cell, Span, gantt, heat_strips

#: Above this many tasks in one round the Gantt chart shows the first ones only.
MAX_TASKS: Final = 2000
#: Above this many samples per core the heat strip averages neighbours.
MAX_CELLS: Final = 600


def _round_to_show(rounds: pd.DataFrame, chosen: int | None) -> tuple[Any, int, str] | None:
    """(run_id, round, why) for one variant's rounds: the chosen one or the median one."""
    measured = measured_rounds(rounds)
    if measured.empty:
        return None
    run = sorted(measured["run_id"].astype(str).unique())[-1] if "run_id" in measured else None
    mine = measured[measured["run_id"].astype(str) == run] if run is not None else measured
    if chosen is not None:
        hit = rounds[(rounds["round"] == chosen)]
        if run is not None:
            hit = hit[hit["run_id"].astype(str) == run]
        if hit.empty:
            return None
        return run, chosen, f"round {chosen} (chosen)"
    walls = mine["wall_s"].astype(float)
    ordered = mine.assign(_wall=walls).sort_values(["_wall", "round"])
    middle = ordered.iloc[(len(ordered) - 1) // 2]
    return (
        run,
        int(middle["round"]),
        (
            f"round {int(middle['round'])}, the median of {len(ordered)} measured rounds "
            f"(wall {fmt.seconds(float(middle['wall_s']))})"
        ),
    )


def timelines(context: Context, rounds: pd.DataFrame) -> str:
    tasks, cores = context.tasks, context.cores
    if tasks.empty and cores.empty:
        return (
            '<h3>Timelines</h3><p class="note">No task or core timelines are stored with these '
            "results (they come from the companion tables <code>tasks/&lt;run_id&gt;.parquet"
            "</code> and <code>cores/&lt;run_id&gt;.parquet</code>).</p>"
        )
    parts = [
        "<h3>Timelines of one round per variant</h3>"
        '<p class="sub">Top: one lane per worker, one bar per task from its start to its end; '
        "a bar's shade is the share of that time the task spent on a CPU (solid: computing "
        "all along, pale: waiting, or waiting for its turn). Bars that overlap in time on "
        "different lanes ran at the same time, in parallel only where they are solid and the "
        "cores below were busy at once; bars stacked inside one lane took turns on one "
        "worker: concurrency without parallelism. Bottom: busy fraction of every CPU of the "
        "machine (all processes, not only this test). Hover for the numbers.</p>"
    ]
    shown = 0
    # open the most parallel variant of each model (per Python); the rest start folded
    widest = rounds.groupby(["model", "python"] if "python" in rounds else ["model"],
                            observed=True)["workers"].transform("max")  # fmt: skip
    opened_ids = set(rounds.loc[(rounds["workers"] == widest) & (rounds["model"] != "serial"),
                                "test_id"].astype(str))  # fmt: skip
    # one variant per interpreter: the same test id ran on every Python of the results
    keys = ["test_id", "python"] if "python" in rounds and len(context.pythons) > 1 else ["test_id"]
    for key, variant_rounds in rounds.groupby(keys, sort=False, observed=True):
        test_id = key[0] if isinstance(key, tuple) else key
        choice = _round_to_show(variant_rounds, context.chosen_round)
        first = variant_rounds.iloc[0]
        name = variant_label(first["model"], first["workers"])
        python = context.labels.get(str(first.get("python")), str(first.get("python")))
        if len(context.pythons) > 1:
            name += f" · {python}"
        if choice is None:
            continue
        run_id, round_index, why = choice
        wall = _round_wall(variant_rounds, run_id, round_index)
        task_lanes = _task_lanes(tasks, str(test_id), run_id, round_index, str(first["model"]))
        core_lanes = _core_lanes(cores, str(test_id), run_id, round_index)
        if task_lanes is None and core_lanes is None:
            continue
        ends = [wall if math.isfinite(wall) else 0.0]
        ends.extend(
            span.end for _, spans in (task_lanes.lanes if task_lanes else []) for span in spans
        )
        ends.extend(cell.end for _, cells in (core_lanes or []) for cell in cells)
        span_s = max(ends)
        names = [name for name, _ in (task_lanes.lanes if task_lanes else [])]
        names += [name for name, _ in (core_lanes or [])]
        label_width = min(240.0, 20 + 6.8 * max(map(len, names), default=6))
        body = []
        if task_lanes is not None:
            chart = gantt(
                task_lanes.lanes,
                title=f"tasks by worker, {test_id}",
                span_s=span_s,
                label_width=label_width,
            )
            body.append(
                f"<figure>{chart}<figcaption>{text(task_lanes.caption)}</figcaption></figure>"
            )
        else:
            body.append('<p class="note">No task timeline for this round.</p>')
        if core_lanes is not None:
            chart = heat_strips(
                core_lanes,
                title=f"per-core utilisation, {test_id}",
                span_s=span_s,
                label_width=label_width,
            )
            body.append(f"<figure>{chart}</figure>")
        else:
            body.append('<p class="note">No per-core samples for this round.</p>')
        opened = " open" if str(test_id) in opened_ids else ""
        parts.append(
            f'<details{opened}><summary>{text(name)} <span class="sub">— {text(why)}'
            f"</span></summary>" + "".join(body) + "</details>"
        )
        shown += 1
    if shown == 0:
        parts.append('<p class="note">No timeline rows match the rounds of this experiment.</p>')
    return "".join(parts)


def _round_wall(rounds: pd.DataFrame, run_id: Any, round_index: int) -> float:
    hit = rounds[rounds["round"] == round_index]
    if run_id is not None and "run_id" in hit:
        hit = hit[hit["run_id"].astype(str) == run_id]
    return float(hit["wall_s"].iloc[0]) if len(hit) else math.nan


def _select(frame: pd.DataFrame, test_id: str, run_id: Any, round_index: int) -> pd.DataFrame:
    if frame.empty or "test_id" not in frame or "round" not in frame:
        return frame.iloc[0:0]
    chosen = frame[(frame["test_id"].astype(str) == test_id) & (frame["round"] == round_index)]
    if run_id is not None and "run_id" in chosen:
        chosen = chosen[chosen["run_id"].astype(str) == run_id]
    return chosen


@dataclass(frozen=True, slots=True)
class _TaskLanes:
    lanes: list[tuple[str, list[Span]]]
    caption: str


def _task_lanes(
    tasks: pd.DataFrame, test_id: str, run_id: Any, round_index: int, model: str
) -> _TaskLanes | None:
    """The tasks of one round as Gantt lanes, one per worker; None when there are none."""
    chosen = _select(tasks, test_id, run_id, round_index)
    if chosen.empty:
        return None
    chosen = chosen.sort_values("start_s")
    total = len(chosen)
    chosen = chosen.iloc[:MAX_TASKS]
    lane_names = _lane_names(chosen)
    maps = "map_index" in chosen and chosen["map_index"].nunique() > 1
    lanes: dict[str, list[Span]] = {}
    for position, (lane, row) in enumerate(zip(lane_names, records(chosen), strict=True)):
        begin, finish = float(row["start_s"]), float(row["end_s"])
        number = row.get("task", position)
        cpu: Any = row.get("cpu_s")
        busy = float(cpu) / (finish - begin) if present(cpu) and finish > begin else None
        cpu_text = f", CPU {fmt.seconds(float(cpu))}" if present(cpu) else ""
        cpu_text += f", {fmt.percent(busy)} of it on a CPU" if busy is not None else ""
        map_text = f"map {row['map_index']}, " if maps else ""
        colour = PALETTE[int(row["map_index"]) % len(PALETTE)] if maps else model_colour(model)
        tip = (
            f"{map_text}task {number} on {lane}: {fmt.seconds_tick(round(begin, 6))} to "
            f"{fmt.seconds_tick(round(finish, 6))} ({fmt.seconds(finish - begin)}{cpu_text})"
        )
        lanes.setdefault(lane, []).append(Span(begin, finish, colour, tip, busy))
    caption = f"{total} tasks on {len(lanes)} worker(s)"
    if total > MAX_TASKS:
        caption += f"; the chart shows the first {MAX_TASKS} to start"
    if maps:
        caption += "; one colour per concur.map call"
    ordered = sorted(lanes.items(), key=lambda item: _lane_order(item[0]))
    return _TaskLanes(ordered, caption)


def _lane_order(name: str) -> tuple[Any, ...]:
    from ..analysis import natural_key

    return natural_key(name)


def _lane_names(tasks: pd.DataFrame) -> list[str]:
    """A readable worker name per task: host, process, interpreter, thread.

    Host and interpreter are named only where they differ between tasks of the round.
    """
    fields: list[tuple[str, str]] = []
    for column, label in (
        ("host", "{}"),
        ("pid", "pid {}"),
        ("interpreter_id", "interp {}"),
        ("thread_id", "thread {}"),
    ):
        if column not in tasks or tasks[column].isna().all():
            continue
        if column in ("host", "interpreter_id") and tasks[column].nunique(dropna=True) < 2:
            continue
        fields.append((column, label))
    names: list[str] = []
    for row in records(tasks[[c for c, _ in fields]]) if fields else [{}] * len(tasks):
        parts = [label.format(row[c]) for c, label in fields if present(row[c])]
        names.append(" ".join(parts) or "worker")
    return names


def _core_lanes(
    cores: pd.DataFrame, test_id: str, run_id: Any, round_index: int
) -> list[tuple[str, list[Cell]]] | None:
    """Per-core busy samples of one round as heat-strip lanes; None when there are none."""
    chosen = _select(cores, test_id, run_id, round_index)
    if chosen.empty:
        return None
    lanes: list[tuple[str, list[Cell]]] = []
    for name, samples in sorted(
        chosen.groupby("cpu", observed=True), key=lambda item: _lane_order(str(item[0]))
    ):
        samples = samples.sort_values("start_s")
        starts = samples["start_s"].astype(float).to_numpy()
        ends = samples["end_s"].astype(float).to_numpy()
        busy = samples["busy"].astype(float).to_numpy()
        cells = [
            Cell(float(a), float(b), float(v)) for a, b, v in zip(starts, ends, busy, strict=True)
        ]
        lanes.append((f"cpu {name}", _thin(cells)))
    return lanes


def _thin(cells: list[Cell]) -> list[Cell]:
    """At most MAX_CELLS cells per lane: neighbours averaged, weighted by their length."""
    if len(cells) <= MAX_CELLS:
        return cells
    size = math.ceil(len(cells) / MAX_CELLS)
    merged: list[Cell] = []
    for at in range(0, len(cells), size):
        chunk = cells[at : at + size]
        lengths = [max(c.end - c.start, 0.0) for c in chunk]
        total = sum(lengths)
        values = [c.value for c in chunk]
        mean = (
            sum(v * w for v, w in zip(values, lengths, strict=True)) / total
            if total > 0
            else float(np.mean(values))
        )
        merged.append(Cell(chunk[0].start, chunk[-1].end, mean))
    return merged
