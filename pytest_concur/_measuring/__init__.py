"""Measuring one round: process-tree CPU accounting, the core sampler, task spans, time limits,
environment and GIL state.
"""
