"""Reporting: summary rows, number formatting, and the terminal, CLI and HTML renderers."""
