"""``python -m aip_ml.distributed._torchrun ARGS``: torchrun itself, reporting failed ranks as one JSON line.

It runs torchrun's own launcher (``torch.distributed.run``) with the same arguments; when a worker
fails, instead of torchrun's traceback it writes ``AIP-TORCHRUN {...}`` to stderr: every failed rank
with its exit code or signal, and the first failure, which `aip_ml.distributed.launch_local` reads.
"""

from __future__ import annotations

import json
import sys

from aip_ml.distributed._launch import MARKER


def main(argv: list[str]) -> int:
    """Run torchrun with ``argv``; return 0, 1 (a rank failed) or 130 (interrupted)."""
    from torch.distributed.elastic.multiprocessing import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    try:
        run(parse_args(argv))  # type: ignore[no-untyped-call]
    except ChildFailedError as exc:
        first_rank, _ = exc.get_first_failure()
        failures = [
            {
                "rank": int(rank),
                "local_rank": int(f.local_rank),
                "exitcode": int(f.exitcode),
                "signal": f.signal_name() if f.exitcode < 0 else None,
                "message": str(getattr(f, "message", ""))[:500],
            }
            for rank, f in sorted(exc.failures.items())
        ]
        print(MARKER + json.dumps({"failures": failures, "first": int(first_rank)}), file=sys.stderr, flush=True)
        return 1
    except SignalException as exc:
        print(MARKER + json.dumps({"signal": int(exc.sigval)}), file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
