"""Pieces every part of the HTML page uses: tables, badges, the page's context."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from .svg import (
    text,
)


#: Above this many tasks in one round the Gantt chart shows the first ones only.
def present(value: object) -> bool:
    return not (value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)))


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1) -> str:
    """An HTML table; cells are already-escaped HTML (the caller escapes raw text)."""
    head = "".join(
        f'<th class="{"l" if i < left else ""}">{cell}</th>' for i, cell in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"l" if i < left else ""}">{cell}</td>' for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def badge(value: object) -> str:
    word = str(value).strip().lower()
    known = {
        "confirmed",
        "refuted",
        "inconclusive",
        "faster",
        "slower",
        "no change",
        "too few rounds",
        "machine busy",
    }
    css = f"v-{word.replace(' ', '-')}" if word in known else "v-other"
    return f'<span class="v {css}">{text(value)}</span>'


def python_labels(rounds: pd.DataFrame) -> dict[str, str]:
    """Python version -> label with its GIL state, e.g. ``3.13.5t (GIL off)``."""
    labels: dict[str, str] = {}
    if "python" not in rounds:
        return labels
    for version, group in rounds.groupby("python", observed=True):
        states = (
            set(group["gil_enabled"].dropna().astype(bool)) if "gil_enabled" in group else set()
        )
        gil = {frozenset({False}): " (GIL off)", frozenset({True, False}): " (GIL on and off)"}
        labels[str(version)] = str(version) + gil.get(frozenset(states), "")
    return labels


@dataclass(frozen=True, slots=True)
class Context:
    rounds: pd.DataFrame
    summary: pd.DataFrame
    tasks: pd.DataFrame
    cores: pd.DataFrame
    pythons: list[str]
    labels: dict[str, str]
    chosen_round: int | None
