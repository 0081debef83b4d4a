"""Entry point for ``python -m geodata``."""

import sys

from geodata.cli import main

sys.exit(main())
