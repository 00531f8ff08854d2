"""Plain-text tables for the command line: aligned columns or Markdown (strings in, lines out)."""

from __future__ import annotations

from collections.abc import Sequence


def aligned(rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Columns padded to their widest cell; the first ``left`` columns flush left."""
    if not rows:
        return []
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    out: list[str] = []
    for row in rows:
        cells = [
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _markdown_cell(text: str) -> str:
    """Pipes, backslashes, HTML tags and line breaks must not change the table's shape."""
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("&", "&amp;").replace("<", "&lt;")  # no tag can open without "<"
    return " ".join(text.splitlines()) or " "


def markdown(rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """A GitHub-flavoured Markdown table; the first row is the header."""
    if not rows:
        return []
    header, *body = rows
    rule = [":---" if i < left else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(_markdown_cell(cell) for cell in header) + " |"]
    lines.append("| " + " | ".join(rule) + " |")
    lines.extend("| " + " | ".join(_markdown_cell(cell) for cell in row) + " |" for row in body)
    return lines
