"""``python -m spacead.cli``: the same as the ``spacead`` command."""

import sys

from . import main

if __name__ == "__main__":  # pragma: no cover - run as a program
    sys.exit(main())
