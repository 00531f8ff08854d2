"""Statistics shared by claims, analysis and reports: median intervals, rank tests, the
Amdahl fit (the Universal Scalability Law fit of the advice is in ``_advice/scaling.py``).
"""
