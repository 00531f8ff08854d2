"""The variant label: ``serial``, ``threads-2``, ``asyncio-8``, as in test ids.

The one place it is built. Test ids, claims, analysis and every report use it, so it
lives low in the import graph and imports nothing.
"""

from __future__ import annotations


def variant_label(model: object, workers: object) -> str:
    """``threads-2`` for a model at a worker count; ``serial`` alone (it always has one)."""
    name = str(model)
    if name == "serial":
        return name
    count = int(workers) if isinstance(workers, float) and workers.is_integer() else workers
    return f"{name}-{count}"
