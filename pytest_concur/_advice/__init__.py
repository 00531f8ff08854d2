"""From measured rounds to a decision: per-variant diagnoses, a recommendation per
experiment, and scaling predictions (docs/decisions.md)."""
