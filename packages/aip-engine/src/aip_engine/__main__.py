"""``python -m aip_engine``: a demonstration run of scripted bots (see ``_demo.py``)."""

from __future__ import annotations

from ._demo import main

if __name__ == "__main__":
    raise SystemExit(main())
