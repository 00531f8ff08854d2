"""What a round means: the kernel every reader of rounds uses.

Claims, decisions, reports and the public pandas API all ask the same questions of the
rounds table: which variant a row belongs to and how it is named (``variant``), which
rounds count and which of them were crowded (``counting``), and the median and the
significance level they are judged with (``conventions``). Each is answered once, here, as a
pure function over one row and, where readers need it, as its vectorised pandas form,
tested to agree (tests/test_rounds_kernel.py).

The kernel imports nothing of the package but the standard library (pandas only inside
the vectorised forms), so the round loop may use it between rounds, where pandas has no
place.
"""
