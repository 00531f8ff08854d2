"""Statistics shared by claims, analysis and reports: median intervals, rank tests, scaling
fits.
"""
