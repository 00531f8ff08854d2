"""The decisions as the reports show them: terminal lines and an HTML section (pure)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from .._format import escape as _escape
from .._rounds.variant import keyed, variant_label
from .diagnose import Diagnosis
from .frames import groups, recommendations, scaling
from .recommend import Recommendation, recommend_group

TITLE = "decisions"


def _title(experiment: str, params: str) -> str:
    return experiment + (f" [{params}]" if params else "")


def decision_lines(rows: pd.DataFrame, tasks: pd.DataFrame | None = None) -> list[str]:
    """The decisions block: one line per experiment and parameter set that has a winner, a
    tie, an undecided answer (machine busy, every round failed) or a finding; then one per
    fitted scaling law of a recommended model; the experiments with nothing to say are
    counted on one last line."""
    if rows.empty:
        return []
    out = [f"{TITLE} (docs/decisions.md):"]
    best: set[tuple[str, str, str]] = set()
    silent = 0
    for variants, found in groups(rows, tasks):
        rec = recommend_group(variants, found)
        said = _said(rec, found)
        if said is None:
            silent += 1
            continue
        out.append(f"  {_escape(_title(rec.experiment, rec.params))}: {_escape(said)}")
        if rec.best is not None:
            best.add((rec.experiment, rec.params, rec.best))
    # the terminal shows the recommended model's fit only: fit nothing else (bootstraps)
    plain = keyed(rows)
    labels = [variant_label(m, w) for m, w in zip(plain["model"], plain["workers"], strict=True)]
    best_models = {
        (experiment, params, model)
        for experiment, params, model, label in zip(
            plain["experiment"], plain["params"], plain["model"], labels, strict=True
        )
        if (experiment, params, label) in best
    }
    keys = zip(plain["experiment"], plain["params"], plain["model"], strict=True)
    wanted = [key in best_models or key[2] == "serial" for key in keys]
    for _, fit in scaling(rows[wanted]).iterrows():
        if fit["law"] is None and not len(fit["left_out"]):
            continue  # nothing predicted and nothing left out: the block stays short
        title = _title(str(fit["experiment"]), str(fit["params"]))
        out.append(f"  {_escape(title)}: scaling: {_escape(str(fit['text']))}")
    if silent:
        out.append(f"  {silent} experiment(s) with nothing to decide: one variant and no finding")
    return out


def _said(rec: Recommendation, found: Sequence[Diagnosis]) -> str | None:
    """What the block says of one experiment: its recommendation, or None where one variant
    ran with no finding, nothing failed and nothing was odd."""
    quiet = rec.problems == ("one_variant",) and not any(
        d.findings or d.variant.rounds == 0 for d in found
    )
    return None if quiet else rec.reason


def decisions_html(rows: pd.DataFrame, tasks: pd.DataFrame | None = None) -> str:
    """A card listing each recommendation and scaling fit, for the HTML page."""
    if rows.empty:
        return ""
    items = [
        f"<li><b>{html.escape(_title(r.experiment, r.params))}</b>: {html.escape(r.reason)}</li>"
        for r in recommendations(rows, tasks)
    ]
    fits = scaling(rows)
    items.extend(
        f"<li><b>{html.escape(_title(str(f['experiment']), str(f['params'])))}</b>: scaling: "
        f"{html.escape(str(f['text']))}</li>"
        for _, f in fits.iterrows()
    )
    return (
        '<section class="card"><h2>Decisions</h2><p class="sub">The variant to use per '
        "experiment, why the others lose, and what more workers would give "
        "(docs/decisions.md).</p><ul>" + "".join(items) + "</ul></section>"
    )
