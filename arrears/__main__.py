"""`python -m arrears`: the command line, exactly as the `arrears` script runs it."""

from __future__ import annotations

import sys

from arrears.cli import main

if __name__ == "__main__":
    sys.exit(main())
