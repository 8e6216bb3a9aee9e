"""Start N ranks on this machine with torchrun (a real subprocess) and say clearly how they ended."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ._group import RANK_LOST_EXIT_CODE

#: The prefix of the line in which ``aip_ml.distributed._torchrun`` reports how the ranks ended.
MARKER = "AIP-TORCHRUN "

__all__ = ["LaunchResult", "RankFailure", "launch_local", "torchrun_command"]


@dataclass(frozen=True)
class RankFailure:
    """A rank that ended with an error.

    Attributes:
        rank: Its global rank.
        exitcode: Its exit status (negative: the signal that killed it).
        signal: The signal's name (``SIGKILL``), or None.
    """

    rank: int
    exitcode: int
    signal: str | None = None

    def describe(self) -> str:
        """``rank 1 was killed by SIGKILL`` / ``rank 1 exited with status 2``."""
        if self.signal:
            return f"rank {self.rank} was killed by {self.signal}"
        if self.exitcode == RANK_LOST_EXIT_CODE:
            return f"rank {self.rank} stopped because another rank was lost"
        return f"rank {self.rank} exited with status {self.exitcode}"


@dataclass(frozen=True)
class LaunchResult:
    """How a local torchrun launch ended.

    Attributes:
        returncode: torchrun's exit status (0 done, 1 a rank failed, 130 interrupted).
        failures: The ranks that failed, in rank order.
        first: The rank torchrun saw fail first, or None.
        interrupted: torchrun itself was stopped by a signal (Ctrl-C).
    """

    returncode: int
    failures: tuple[RankFailure, ...] = ()
    first: int | None = None
    interrupted: bool = False
    lines: list[str] = field(default_factory=list, repr=False)

    @property
    def culprit(self) -> RankFailure | None:
        """The rank that ended the run: one that did not stop because of another, the first seen else."""
        if not self.failures:
            return None
        by_rank = {f.rank: f for f in self.failures}
        # Ranks that torchrun stopped (SIGTERM) or that lost a peer are followers, not the cause.
        causes = [f for f in self.failures if f.exitcode != RANK_LOST_EXIT_CODE and f.signal != "SIGTERM"]
        if self.first is not None and by_rank.get(self.first) in causes:
            return by_rank[self.first]
        if causes:
            return causes[0]
        return by_rank.get(self.first) if self.first is not None else self.failures[0]


def torchrun_command(nproc: int, worker: Sequence[str], *, rdzv_id: str | None = None) -> list[str]:
    """The command that starts ``nproc`` ranks of ``worker`` (``["-m", module, ...]`` or a script) here.

    The rendezvous is torchrun's c10d store on 127.0.0.1 (a free port), as ``--standalone`` does, but
    bound to the loopback address, so that nothing listens on the machine's other interfaces.

    Args:
        nproc: Ranks on this machine.
        worker: What each rank runs: ``["-m", "aip_ml", "train", ...]`` or ``["script.py", ...]``.
        rdzv_id: The run's rendezvous id (default: a fresh one).

    Returns:
        The argument list (``sys.executable -m aip_ml.distributed._torchrun ...``).
    """
    return [
        sys.executable,
        "-m",
        "aip_ml.distributed._torchrun",
        "--nnodes",
        "1",
        "--nproc-per-node",
        str(nproc),
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        "127.0.0.1:0",
        "--rdzv-id",
        rdzv_id or uuid.uuid4().hex,
        "--local-addr",
        "127.0.0.1",
        "--max-restarts",
        "0",
        *worker,
    ]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # torchrun's default, without its banner about it
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # one machine: the ranks talk over the loopback
    return env


def launch_local(
    nproc: int,
    worker: Sequence[str],
    *,
    echo: Callable[[str], None] | None = None,
    stdout: IO[str] | None = None,
) -> LaunchResult:
    """Run ``nproc`` ranks of ``worker`` under torchrun on this machine and wait for them.

    While it runs, SIGINT is left to torchrun and the ranks (Ctrl-C reaches the whole process group;
    the ranks finish their update and write a checkpoint).

    Args:
        nproc: Ranks.
        worker: What each rank runs (see `torchrun_command`).
        echo: Called with each line the ranks and torchrun write to stderr (default: written to stderr).
        stdout: Where the ranks' stdout goes (default: this process's stdout).

    Returns:
        How it ended.
    """
    show = echo or (lambda line: print(line, end="", file=sys.stderr, flush=True))
    report: dict[str, Any] = {}
    lines: list[str] = []
    proc = subprocess.Popen(
        torchrun_command(nproc, worker),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith(MARKER):
                report.update(json.loads(line[len(MARKER) :]))
                continue
            lines.append(line)
            show(line)

    with proc:
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        on_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if on_main else None
        try:
            returncode = proc.wait()
        finally:
            if on_main and previous is not None:
                signal.signal(signal.SIGINT, previous)
        reader.join(timeout=10)
    failures = tuple(
        RankFailure(int(f["rank"]), int(f["exitcode"]), f.get("signal")) for f in report.get("failures", [])
    )
    first = report.get("first")
    return LaunchResult(
        returncode=returncode,
        failures=failures,
        first=None if first is None else int(first),
        interrupted="signal" in report,
        lines=lines,
    )
