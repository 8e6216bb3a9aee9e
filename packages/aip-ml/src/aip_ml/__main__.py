"""``python -m aip_ml train TASK ...``: one rank of a data-parallel run (torchrun starts one per rank).

``aip train TASK --nproc N`` starts N of them on this machine; docs/tutorials/scale-out.md shows the
``torchrun ... -m aip_ml train TASK`` command for several machines.
"""

from __future__ import annotations

import sys

_USAGE = "usage: python -m aip_ml train TASK [KEY=VALUE ...] --run-dir DIR [options]  (see: python -m aip_ml train -h)"


def _main(argv: list[str]) -> int:
    if not argv or argv[0] != "train":
        print(_USAGE, file=sys.stderr)
        return 2
    from aip_ml.distributed._worker import main

    return main(argv[1:])


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
