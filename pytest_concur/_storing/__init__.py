"""Storing rows: the Parquet schemas, atomic files, spilling to part files, worker journals and
recovery.
"""
