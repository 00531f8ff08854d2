"""The plugin's warning categories, so users can filter them precisely."""

from __future__ import annotations


class ConcurWarning(UserWarning):
    """Base class of every warning pytest-concur issues."""


class GilStateWarning(ConcurWarning):
    """The GIL state changed during the session (an extension turned it back on)."""


class MeasurementWarning(ConcurWarning):
    """A measurement could not be taken as intended; the message says what is missing."""


class ResultsFileWarning(ConcurWarning):
    """A file in a results folder was skipped or read specially; the message names it."""
