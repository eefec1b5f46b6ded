"""`bench/run processing --profile`: py-spy samples the worker process while it drains.

Writes a flame graph (`<name>.svg`, next to the results) and a short table of where the
samples fell (`<name>-top.md`: for each function of the shop and of the libraries on the
path, the share of samples with it on the stack, and with it on top). The raw folded
stacks go to var/bench/ only (megabytes). py-spy samples wall time: a frame waiting for
PostgreSQL or Redis counts as much as one computing, so the table splits the waits out.
"""

import collections
import re
import signal
import subprocess
from pathlib import Path

from bench.common import PY, SCRATCH, output_path

# Frames whose own samples are waits for a socket, not computation.
WAITS = ("Connection.wait", "read_from_socket", "EpollSelector.select", "_epoll.poll")


class Profile:
    def __init__(self, pid: int, name: str):
        SCRATCH.mkdir(parents=True, exist_ok=True)
        self.name, self.svg, self.folded = (
            name,
            output_path(f"{name}.svg"),
            SCRATCH / f"{name}.folded",
        )
        spy = str(Path(PY).with_name("py-spy"))
        common = [spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking"]
        self.processes = [
            subprocess.Popen(
                [*common, "--format", fmt, "--output", str(path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for fmt, path in (("flamegraph", self.svg), ("raw", self.folded))
        ]

    def stop(self) -> list[str]:
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            process.wait(timeout=60)
        top = output_path(f"{self.name}-top.md")
        top.write_text(summary(self.folded))
        return [self.svg.name, top.name]


def summary(folded: Path, rows: int = 45) -> str:
    """Markdown: the functions most often on the stack (inclusive) and on top (self)."""
    inclusive, own, total, waiting = collections.Counter(), collections.Counter(), 0, 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        n = int(count)
        total += n
        waiting += n if any(w in frames[-1] for w in WAITS) else 0
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    share = lambda n: f"{100 * n / max(total, 1):.1f} %"  # noqa: E731
    lines = [
        f"{total} samples at 250 a second; {share(waiting)} of them waiting on a socket "
        "(PostgreSQL, Redis).\n",
        "| on the stack | on top | function |",
        "|---|---|---|",
    ]
    shown = [f for f, _ in inclusive.most_common() if not _is_plumbing(f)][:rows]
    lines += [f"| {share(inclusive[f])} | {share(own[f])} | `{f}` |" for f in shown]
    return "\n".join(lines) + "\n"


def _is_plumbing(frame: str) -> bool:
    """Frames every sample has (the interpreter, click, Celery's and kombu's loop)."""
    return any(
        part in frame
        for part in ("runpy", "click/", "celery/bin", "celery/__main__", "bootsteps", "loops.py")
    )
