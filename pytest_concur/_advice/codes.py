"""The diagnosis vocabulary and every threshold behind it, in one place (docs/decisions.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: The codes a diagnosis may carry, in the order they are reported.
CODES: Final[Mapping[str, str]] = {
    "gil_bound": "threads computing on a GIL build hold about one core",
    "startup_bound": "pool start-up is a large share of the round",
    "transfer_bound": "moving arguments and results to and from workers dominates",
    "imbalanced": "workers sat idle while one still worked",
    "oversubscribed": "more CPU-bound workers than usable CPUs, with no gain over fewer",
    "loop_blocked": "a blocking call on the event loop made the coroutines run one after another",
    "crowded": "other processes held the CPUs",
    "scales": "close to linear in the workers",
}

#: Codes a crowded machine can fake: a busy variant (too few quiet rounds, the claims'
#: rule) says ``crowded`` instead. Short of CPUs, threads look held by a GIL, more
#: workers look no faster, speedups look poor, workers look idle while one works, and
#: starting a pool's processes (each an interpreter start-up, CPU work) takes longer.
FAKED_BY_CROWDING: Final = frozenset(
    {"gil_bound", "startup_bound", "oversubscribed", "scales", "imbalanced"}
)

#: Models whose workers are threads of the measuring process (the GIL serialises them).
THREAD_MODELS: Final = frozenset({"threads"})
#: Models that pickle arguments and results across processes or interpreters (transfer is
#: measured there).
PROCESS_MODELS: Final = frozenset({"processes", "asyncio-processes", "subinterpreters"})
#: Models whose tasks are coroutines on an event loop.
LOOP_MODELS: Final = frozenset({"asyncio", "asyncio-processes"})

# gil_bound: a thread variant with 2+ workers on a GIL build whose process tree keeps at
# least GIL_CORES_LOW times the serial variant's cores busy (1 core without serial) and at
# most GIL_CORES_HIGH cores (medians): computing, but on one core. Serial must compute: use
# at least COMPUTING_CORES of the CPU other processes left it (the sampler's witness; a
# whole CPU without it). Comparing with serial keeps the code when others crowd both.
GIL_CORES_LOW: Final = 0.75
GIL_CORES_HIGH: Final = 1.25
COMPUTING_CORES: Final = 0.4
#: The fewest CPUs counted as left free by other processes: on a machine they fill, what
#: is left cannot be told from sampling noise, and waiting work must not look busy.
FREE_FLOOR: Final = 0.25

#: startup_bound: median start-up seconds at least this share of the median round.
STARTUP_SHARE: Final = 0.25

#: transfer_bound without task spans (older files, spans off): median pickling seconds at
#: least this share of the round's CPU seconds; with spans, MOVE_SHARE below decides.
TRANSFER_SHARE: Final = 0.25

#: imbalanced: median over the rounds of the mean share of a map call's span that a
#: worker sat idle after its last task while another still worked.
IDLE_SHARE: Final = 0.25
#: ... over map calls that lasted at least this long (shorter ones are timer noise).
MIN_MAP_S: Final = 0.005

#: oversubscribed: the variant has more workers than usable CPUs, it is not significantly
#: faster than a variant of the same model with at most usable-CPU workers, and it
#: computes: cores used at least this share of min(workers, CPUs others left free).
BUSY_PER_WORKER: Final = 0.5

# loop_blocked: an event-loop variant whose tasks overlapped at most LOOP_OVERLAP on
# average (1.0 = strictly one after another) although 2+ tasks ran per loop; without
# task spans: no faster than serial (speedup below LOOP_SPEEDUP) while waiting
# (cores used below LOOP_CORES).
LOOP_OVERLAP: Final = 1.2
LOOP_SPEEDUP: Final = 1.2
LOOP_CORES: Final = 0.5

#: scales: speedup over serial divided by workers (efficiency) at least this.
SCALES_EFFICIENCY: Final = 0.8

# workload marker against the signals: cpu work that leaves the process tree mostly idle
# (serial cores used below CPU_MARKER_CORES), or io work that keeps a core busy
# (serial cores used above IO_MARKER_CORES).
CPU_MARKER_CORES: Final = 0.5
IO_MARKER_CORES: Final = 0.8

# the tie-breaker: variants not significantly slower than the fastest are compared on CPU
# seconds, then peak memory, then start-up; two values within COST_TOLERANCE of each
# other (relative) count as equal and the next cost decides.
COST_TOLERANCE: Final = 0.10

# scaling: more cores "stop paying" where doubling them adds less than this (relative).
DOUBLING_GAIN: Final = 0.10
#: scaling: the fewest distinct core counts (serial's one included) a law is fitted to.
#: Through 1 and 2 cores alone Amdahl's one parameter fits any point exactly, and its
#: prediction at 4 or 8 cores is an extrapolation the data cannot check.
MIN_CORE_COUNTS: Final = 3

# transfer_bound (_advice/moving.py, docs/decisions.md): the share of the workers' time in
# map calls that went to moving tasks (outside the task function, or pickling) is at least
# MOVE_SHARE. The chunksize suggested brings it under BATCH_OVERHEAD; from DATA_BYTES of
# argument and result per task, the data itself is too big to move and batching cannot
# help. Measured by benchmarks/bench_transfer.py (2026-12-08, 2 vCPUs AMD EPYC, 3.11.7,
# exclusive lock, 3 rounds, processes-2 against serial): 20,000 tasks of 1 us: 31x slower
# than serial, share 0.99; six 24 MiB arguments: 16,600x slower, share 0.99; 5,000 tasks
# of 50 us: 3.7x slower, share 0.73, chunksize=32 suggested; with it: 0.77x (faster than
# serial), share 0.13; a healthy pool (eight 50 ms tasks): 0.79x, share 0.05. Half the
# workers' time sits far from both groups; the suggestion lands near its 10% target.
MOVE_SHARE: Final = 0.5
BATCH_OVERHEAD: Final = 0.10
#: the 24 MiB mistake moves 24x this per task; ordinary tasks move bytes to kilobytes
DATA_BYTES: Final = 2**20
