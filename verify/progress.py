"""Progress display: one updating line on a terminal (steps, detail, ETA); silent otherwise."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, stream=None, enabled: bool | None = None, min_interval: float = 0.2):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.min_interval = min_interval
        self.label = ""
        self._start = self._last = 0.0
        self._width = 0

    def start(self, label: str) -> None:
        self.label = label
        self._start = time.perf_counter()
        self._last = 0.0
        self.update(0, 0)

    def update(self, done: int, total: int, info: str = "") -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done and total and done < total and now - self._last < self.min_interval:
            return
        self._last = now
        text = self.label
        if total:
            elapsed = now - self._start
            eta = elapsed / done * (total - done) if done else float("nan")
            text += f"  {done}/{total} ({100 * done / total:.0f}%)"
            if done:
                text += f"  ETA {eta:.0f}s"
        if info:
            text += f"  {info}"
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _duration(seconds: float) -> str:
    if not seconds == seconds:          # NaN: no estimate yet
        return "?"
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class TaskProgress:
    """The engine's line: tasks done/total and the estimated time left across workers, then (in
    process) the running task and its own progress. The estimate scales the measured wall time by
    the earlier runs' costs of the tasks done and left when every task has one, else by the count."""

    def __init__(self, stream=None, enabled: bool | None = None, min_interval: float = 0.2):
        self.line = Progress(stream, enabled, min_interval)
        self.total = self.done = 0
        self.workers = 1
        self.estimates: dict[object, float] = {}
        self.finished: set = set()
        self._t0 = time.perf_counter()
        self.label = ""

    def begin(self, total: int, workers: int = 1, estimates: dict | None = None) -> None:
        self.total, self.workers = total, max(1, workers)
        self.estimates = dict(estimates or {})
        self._t0 = time.perf_counter()
        self._draw(0, 0, "")

    def eta(self) -> float:
        elapsed = time.perf_counter() - self._t0
        known = self.estimates and len(self.estimates) >= self.total and all(
            v == v for v in self.estimates.values())
        if known:
            done_cost = sum(v for k, v in self.estimates.items() if k in self.finished)
            left_cost = sum(v for k, v in self.estimates.items() if k not in self.finished)
            if done_cost > 0:
                return left_cost * elapsed / done_cost
            return left_cost / self.workers
        if self.done:
            return elapsed / self.done * (self.total - self.done)
        return float("nan")

    def started(self, label: str) -> None:
        self.label = label
        self._draw(0, 0, "")

    def finish(self, key) -> None:
        self.finished.add(key)
        self.done += 1
        self.label = ""
        self._draw(0, 0, "")

    def update(self, done: int, total: int, info: str = "") -> None:
        """A running task's own progress (the Context's ``progress``)."""
        self._draw(done, total, info)

    def _draw(self, done: int, total: int, info: str) -> None:
        line = self.line
        if not line.enabled:
            return
        now = time.perf_counter()
        if done and total and done < total and now - line._last < line.min_interval:
            return
        text = f"tasks {self.done}/{self.total}  ETA {_duration(self.eta())}"
        if self.label:
            text += f"  | {self.label}"
            if total:
                text += f"  {done}/{total} ({100 * done / total:.0f}%)"
            if info:
                text += f"  {info}"
        line.label = text
        line._last = 0.0
        line.update(0, 0)
        line._last = now

    def clear(self) -> None:
        self.line.clear()
