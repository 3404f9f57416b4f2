"""The result cache: one JSON file per (claim, profile, seed, package source).

An entry holds one seed's outcome record (``verify.tasks.outcome_data``) under its full key; the key
includes a hash of every ``.py`` file of ``theory/``, ``numerics/`` and ``verify/``, so any change to
the code starts a fresh cache. Entries are JSON (never pickle: a cache directory may be shared on a
cluster, and reading it must not be able to execute code), written to a temporary file in the same
directory and renamed over the target, so two runs sharing a cache never leave a torn entry. A
corrupt or truncated entry is recomputed (and said so); an unwritable cache directory is a one-line
warning and the run goes on without a cache. ``error`` outcomes are not cached (a crashed check or
a lost worker is worth running again).
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path

FORMAT = 1
_PACKAGES = ("theory", "numerics", "verify")


def default_dir() -> Path:
    """``$XDG_CACHE_HOME/implicit-bias-verify`` (``~/.cache/implicit-bias-verify`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "implicit-bias-verify"


@functools.lru_cache(maxsize=None)
def source_hash() -> str:
    """SHA-256 over the package's Python source (relative path and bytes of each file, sorted)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _safe(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    if clean != name:
        clean += "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return clean


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultCache:
    """Per-seed outcome records on disk. ``refresh`` skips reads (every task recomputes) but still
    writes."""

    def __init__(self, root: str | os.PathLike, refresh: bool = False, stream=None, source: str | None = None):
        self.root = Path(root).expanduser()
        self.refresh = refresh
        self.stream = stream or sys.stderr
        self.source = source or source_hash()
        self.writable = True

    @classmethod
    def open(cls, root: str | os.PathLike | None, refresh: bool = False, stream=None,
             source: str | None = None) -> "ResultCache | None":
        """The cache at ``root`` (the default directory when None), or None, after a one-line
        warning, when it cannot be created or written."""
        cache = cls(root if root is not None else default_dir(), refresh, stream, source)
        try:
            cache.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=cache.root, prefix=".probe.", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            cache._warn(f"cache directory {cache.root} is not writable ({exc.strerror or exc}); "
                        "running without a cache")
            return None
        return cache

    def _warn(self, text: str) -> None:
        print(f"warning: {text}", file=self.stream, flush=True)

    def key(self, claim_id: str, profile: str, seed: int) -> dict:
        return {"claim": claim_id, "profile": profile, "seed": int(seed), "source": self.source}

    def path(self, claim_id: str, profile: str, seed: int) -> Path:
        return (self.root / f"v{FORMAT}" / self.source[:24] / profile / f"seed-{int(seed)}"
                / f"{_safe(claim_id)}.json")

    def get(self, claim_id: str, profile: str, seed: int) -> dict | None:
        """The cached record, or None (absent, ``refresh``, or corrupt: then recomputed)."""
        if self.refresh:
            return None
        path = self.path(claim_id, profile, seed)
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn(f"cache entry {path} cannot be read ({exc.strerror or exc}); recomputing it")
            return None
        try:
            entry = json.loads(text)
            record = entry["record"]
            if entry.get("format") != FORMAT or entry.get("key") != self.key(claim_id, profile, seed):
                raise ValueError("its key does not match")
            if (not isinstance(record, dict) or record.get("seed") != int(seed)
                    or not isinstance(record.get("status"), str) or not isinstance(record.get("checks"), list)):
                raise ValueError("its record is incomplete")
        except (ValueError, KeyError, TypeError) as exc:
            reason = "truncated or not JSON" if isinstance(exc, json.JSONDecodeError) else str(exc) or type(exc).__name__
            self._warn(f"cache entry {path} is corrupt ({reason}); recomputing it")
            return None
        return record

    def put(self, claim_id: str, profile: str, seed: int, record: dict) -> None:
        if not self.writable or record.get("status") == "error":
            return
        entry = {"format": FORMAT, "key": self.key(claim_id, profile, seed), "record": record}
        try:
            _atomic_write(self.path(claim_id, profile, seed), json.dumps(entry, allow_nan=True))
        except (OSError, TypeError, ValueError) as exc:
            self.writable = False
            self._warn(f"cannot write to the cache in {self.root} ({exc}); the rest of this run is not cached")

    # What earlier runs (any source version) measured: each claim's cost per seed (timings.json)
    # and the experiments each claim read with their costs (plan.json). They decide how tasks are
    # grouped and the order they start in, and the ETA; never a number of a result. Read and
    # merged leniently (a corrupt file counts as empty), written atomically (two runs sharing the
    # directory may lose one another's update, never tear the file).
    def _table(self, name: str, profile: str) -> dict:
        try:
            data = json.loads((self.root / name).read_text())
            table = data.get(profile, {})
            return table if isinstance(table, dict) else {}
        except (OSError, ValueError, AttributeError, TypeError):
            return {}

    def _merge(self, name: str, profile: str, update) -> None:
        if not self.writable:
            return
        path = self.root / name
        try:
            try:
                data = json.loads(path.read_text())
                if not isinstance(data, dict):
                    data = {}
            except (OSError, ValueError):
                data = {}
            table = data.get(profile) if isinstance(data.get(profile), dict) else {}
            data[profile] = update(table)
            _atomic_write(path, json.dumps(data, indent=1, sort_keys=True, allow_nan=False))
        except (OSError, ValueError, TypeError):
            pass

    def timings(self, profile: str) -> dict[str, float]:
        """Claim id → seconds per seed (its mean over the last run that ran it)."""
        out = {}
        for k, v in self._table("timings.json", profile).items():
            try:
                out[str(k)] = float(v)
            except (TypeError, ValueError):
                continue
        return out

    def save_timings(self, profile: str, seconds: dict[str, float]) -> None:
        seconds = {k: round(float(v), 3) for k, v in seconds.items() if math.isfinite(v)}
        if seconds:
            self._merge("timings.json", profile, lambda table: {**table, **seconds})

    def plan(self, profile: str) -> tuple[dict[str, list[str]], dict[str, float]]:
        """(claim id → experiment keys it read, experiment key → seconds computing it)."""
        table = self._table("plan.json", profile)
        reads, costs = table.get("reads", {}), table.get("experiments", {})
        reads = {str(k): [str(x) for x in v] for k, v in (reads if isinstance(reads, dict) else {}).items()
                 if isinstance(v, list)}
        out_costs = {}
        for k, v in (costs if isinstance(costs, dict) else {}).items():
            try:
                out_costs[str(k)] = float(v)
            except (TypeError, ValueError):
                continue
        return reads, out_costs

    def save_plan(self, profile: str, reads: dict[str, list[str]], costs: dict[str, float]) -> None:
        costs = {k: round(float(v), 3) for k, v in costs.items() if math.isfinite(v)}
        if not reads and not costs:
            return

        def update(table):
            old_reads = table.get("reads") if isinstance(table.get("reads"), dict) else {}
            old_costs = table.get("experiments") if isinstance(table.get("experiments"), dict) else {}
            return {"reads": {**old_reads, **{k: list(v) for k, v in reads.items()}},
                    "experiments": {**old_costs, **costs}}
        self._merge("plan.json", profile, update)
