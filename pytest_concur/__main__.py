"""``python -m pytest_concur``: the same as the ``pytest-concur`` command."""

import sys

from .cli import main

sys.exit(main())
