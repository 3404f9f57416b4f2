"""The engine's command-line options, shared by ``all``, ``run`` and ``optimizer``: seeds, executor,
cache (``optimizer`` has no cache: a user's optimizer is not part of the package source it is keyed
by)."""
from __future__ import annotations

import argparse

from theory.errors import UserInputError
from verify.cache import default_dir
from verify.seeds import resolve_seeds


def add_engine_arguments(parser, cache: bool = True) -> None:
    parser.add_argument("--seeds", metavar="SPEC",
                        help="N (seeds 0..N-1), a:b (a..b-1) or a comma list; default quick 3, full 10")
    parser.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)   # = --seeds N:N+1
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="N local worker processes (Dask); default 1: in this process")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the tasks on an existing Dask cluster (e.g. tcp://host:8786)")
    if not cache:
        return
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--cache", metavar="DIR", help=f"result cache directory (default {default_dir()})")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write results (the recorded task costs still order the tasks)")
    parser.add_argument("--refresh", action="store_true", help="recompute every result (and re-cache it)")


def engine_kwargs(args) -> dict:
    """``run_claims`` keyword arguments from the parsed options (one-line errors for bad values)."""
    if args.jobs is not None and args.jobs < 1:
        raise UserInputError(f"--jobs must be at least 1, got {args.jobs}")
    if args.jobs is not None and args.scheduler is not None:
        raise UserInputError("give --jobs or --scheduler, not both (the cluster decides its workers)")
    if args.scheduler is not None and not args.scheduler.strip():
        raise UserInputError("--scheduler needs an address such as tcp://host:8786")
    no_cache, refresh = getattr(args, "no_cache", True), getattr(args, "refresh", False)
    if no_cache and refresh:
        raise UserInputError("--refresh recomputes into the cache: it cannot go with --no-cache")
    seeds = resolve_seeds(args.seeds, args.seed, args.profile)
    if args.scheduler is not None:          # before the catalogue loads: a bad address fails fast
        from verify.executors import check_scheduler

        check_scheduler(args.scheduler)
    cache_dir = None if no_cache else (args.cache if args.cache is not None else str(default_dir()))
    # --no-cache reads no result; the default directory's recorded task costs and experiment map
    # still plan and order the tasks (they change no number), and are not written.
    costs_dir = str(default_dir()) if getattr(args, "no_cache", False) else None
    return {"seeds": seeds, "jobs": args.jobs or 1, "scheduler": args.scheduler,
            "cache_dir": cache_dir, "refresh": refresh, "costs_dir": costs_dir}
