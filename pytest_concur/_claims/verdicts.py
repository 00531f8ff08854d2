"""Claims judged at the end of a session: expectations evaluated over all rows, as lines and rows.

Pure functions over a DataFrame of rounds and the claims that experiments stated; the
plugin side (``hooks.py``) feeds them and writes what they return.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._rounds.conventions import ALPHA
from .decision import STATUSES, Status, Verdict, combine, undecided
from .spent import ran_adaptive, with_spent_alpha
from .transport import Unsendable, decode, encode
from .vocabulary import describe

if TYPE_CHECKING:
    import pandas as pd

    from .._measuring.environment import Environment
    from .._rounds.counting import Crowding, QuietSelection
    from .._stats.sequential import SequentialDesign


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    """What one experiment claims: the text of the claim and its expectations."""

    experiment: str
    claim: str | None
    expect: tuple[Any, ...]

    @property
    def title(self) -> str:
        return self.claim or f"{self.experiment} (no claim text)"

    def to_plain(self) -> dict[str, Any]:
        """Plain values, to ride on a test report to the xdist controller."""
        return {
            "experiment": self.experiment,
            "claim": self.claim,
            "expect": [encode(item) for item in self.expect],
            "described": [describe(item) for item in self.expect],
        }

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any]) -> ClaimSpec:
        items: list[Any] = []
        for encoded, text in zip(plain["expect"], plain["described"], strict=True):
            try:
                item = decode(encoded)
                # an opaque object is named as the worker described it, not by its repr
                items.append(Unsendable(text) if isinstance(item, Unsendable) else item)
            except (ImportError, AttributeError, TypeError, ValueError) as exc:
                items.append(_Undecodable(text, f"{type(exc).__name__}: {exc}"))
        return cls(str(plain["experiment"]), plain.get("claim"), tuple(items))


@dataclass(frozen=True, slots=True)
class _Undecodable:
    """An expectation the controller could not rebuild; its verdict says why."""

    text: str
    error: str

    def describe(self) -> str:
        return self.text

    def evaluate(self, rows: pd.DataFrame) -> Verdict:
        return _unjudged(self.text, f"could not be rebuilt on the controller: {self.error}")


def _unjudged(text: str, reason: str) -> Verdict:
    """The verdict of an expectation that could not even be evaluated."""
    return undecided(text, "", "", reason, ALPHA)


def _interpreter_facts(rows: pd.DataFrame) -> tuple[str, bool | None, str]:
    free = (
        {bool(value) for value in rows["free_threaded"].dropna()}
        if "free_threaded" in rows
        else set()
    )
    gil = (
        {bool(value) for value in rows["gil_enabled"].dropna()} if "gil_enabled" in rows else set()
    )
    python = ", ".join(sorted({str(value) for value in rows["python"]})) if "python" in rows else ""
    gil_text = {frozenset({True}): "enabled", frozenset({False}): "disabled"}.get(
        frozenset(gil), "mixed" if gil else "unknown"
    )
    return python, (free.pop() if len(free) == 1 else None), gil_text


def evaluate_claims(
    rows: pd.DataFrame, claims: Iterable[ClaimSpec], adaptive: SequentialDesign | None = None
) -> list[Verdict]:
    """Every expectation of every claim, over all rows of its experiment, per interpreter.

    Rows of different interpreters are never compared with each other: under xdist with
    workers on several Pythons each interpreter gets verdicts of its own. ``adaptive`` is
    the session's design of adaptive rounds: experiments that ran them are judged at the
    alpha their looks left (_claims/spent.py).
    """
    # pandas comes with these: imported here, on the controller after the rounds
    from .._rounds.counting import crowding, measured, quiet_rounds

    verdicts: list[Verdict] = []
    for spec in sorted(claims, key=lambda claim: claim.experiment):
        mine = rows[rows["experiment"] == spec.experiment] if not rows.empty else rows
        groups = (
            [(str(python), part) for python, part in mine.groupby("python", observed=True)]
            if not mine.empty
            else []
        )
        if not groups:
            groups = [("", mine)]
        for _, part in groups:
            python, free_threaded, gil = _interpreter_facts(part)
            quiet = quiet_rounds(measured(part)) if not part.empty else None
            if quiet is not None and quiet.dropped:  # crowded rounds with quiet ones to spare
                part = part.drop(measured(part).index.difference(quiet.rows.index))
            crowd = crowding(quiet.rows) if quiet is not None else None
            spent_on = adaptive if adaptive is not None and ran_adaptive(part) else None
            items = spec.expect or (None,)
            for item in items:
                if item is None:
                    verdict = _unjudged("", "the experiment states no expectations (expect=[...])")
                elif spent_on is not None:
                    judged, note = with_spent_alpha(item, part, spent_on)
                    verdict = _evaluate_one(judged, part)
                    if note:
                        verdict = dataclasses.replace(verdict, reason=f"{verdict.reason}; {note}")
                else:
                    verdict = _evaluate_one(item, part)
                verdicts.append(
                    dataclasses.replace(
                        verdict,
                        experiment=spec.experiment,
                        claim=spec.title,
                        python=verdict.python or python,
                        gil=verdict.gil if verdict.gil != "unknown" else gil,
                        free_threaded=verdict.free_threaded
                        if verdict.free_threaded is not None
                        else free_threaded,
                    )
                )
                if crowd is not None:
                    verdicts[-1] = _with_crowding(verdicts[-1], crowd)
                if quiet is not None:
                    verdicts[-1] = _on_quiet_rounds(verdicts[-1], quiet)
    return verdicts


def _on_quiet_rounds(verdict: Verdict, quiet: QuietSelection) -> Verdict:
    """Never confirmed or refuted on crowded rounds: inconclusive, "machine busy"."""
    reason = verdict.reason
    if quiet.dropped:
        reason = f"{reason}; {quiet.dropped} crowded round(s) left out, quiet ones used"
    if not quiet.busy_variants or verdict.status == "inconclusive":
        return dataclasses.replace(verdict, reason=reason)
    return dataclasses.replace(
        verdict,
        status="inconclusive",
        reason=f"{quiet.busy_reason()} (on those rounds: {verdict.status}, {reason})",
        crowded=True,
    )


def _with_crowding(verdict: Verdict, crowd: Crowding) -> Verdict:
    """``verdict`` with what the sampler saw; a crowded machine is said in its reason."""
    reason = verdict.reason
    if crowd.crowded:
        reason = f"{reason}; measured on a crowded machine: {crowd.describe()}"
    return dataclasses.replace(
        verdict, reason=reason, other_cores_busy=crowd.other_cores, crowded=crowd.crowded
    )


def _evaluate_one(item: Any, rows: pd.DataFrame) -> Verdict:
    """One expectation's verdict; an expectation that breaks is inconclusive, and says why."""
    try:
        verdict = item.evaluate(rows)
    except Exception as exc:  # a user's expectation that breaks: its error is its verdict
        return _unjudged(describe(item), f"could not be evaluated: {type(exc).__name__}: {exc}")
    if not isinstance(verdict, Verdict) or verdict.status not in STATUSES:
        return _unjudged(describe(item), f"evaluate() returned {verdict!r}, not a Verdict")
    if callable(getattr(item, "describe", None)):
        # an expectation built on another (a user's class) is named as it names itself
        return dataclasses.replace(verdict, expectation=describe(item))
    return verdict


def claim_statuses(verdicts: Sequence[Verdict]) -> dict[tuple[str, str], Status]:
    """Each (claim, python) as one status over all its expectations."""
    grouped: dict[tuple[str, str], list[Status]] = {}
    for verdict in verdicts:
        grouped.setdefault((verdict.claim, verdict.python), []).append(verdict.status)
    return {key: combine(statuses) for key, statuses in grouped.items()}


def verdict_rows(verdicts: Sequence[Verdict], environment: Environment) -> list[dict[str, Any]]:
    """Rows of the verdicts table (VERDICTS_SCHEMA)."""
    statuses = claim_statuses(verdicts)
    rows: list[dict[str, Any]] = []
    for verdict in verdicts:
        row = verdict.as_row()
        row.update(
            run_id=environment.run_id,
            started_at=environment.started_at.isoformat(),
            host=environment.host,
            claim_status=statuses[(verdict.claim, verdict.python)],
        )
        rows.append(row)
    return rows


def refuted_claims(verdicts: Sequence[Verdict]) -> list[str]:
    """Texts of the claims that at least one expectation refuted (for --concur-strict)."""
    statuses = claim_statuses(verdicts)
    return [
        f"{claim} (python {python})"
        for (claim, python), status in statuses.items()
        if status == "refuted"
    ]
