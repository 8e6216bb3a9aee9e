"""``python -m aip_game``: the same as the ``aip-game`` command."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
