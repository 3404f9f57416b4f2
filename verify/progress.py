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
