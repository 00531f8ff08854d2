"""Reporting: summary rows, number formatting, and the terminal, CLI and HTML renderers."""


class CommandError(Exception):
    """A command's argument that cannot be used: ``cli.py`` says it as a usage error (exit
    status 2). The message says which argument and why."""
