"""Experiments: named computations (settings, data, optimizers) that claims read and that the library,
the benches and the tests import instead of claim modules.

What the engine reads from an experiment module (all optional):

- ``SECONDS_PER_SEED = {"quick": s, "full": s}``: the cost of one seed of the claims of the module
  of the same name in ``verify/claims/``. The planner (``verify.tasks``) orders tasks longest first
  by the costs earlier runs recorded in the cache; this declaration stands in before any run has
  measured the module, and ``python -m verify all --plan`` (``verify/engine_plan.py``) uses its
  full/quick ratio to extrapolate the full profile's costs instead of the settings-based estimate.

What the planner learns without any declaration: the experiments each claim reads through
``ctx.shared``/``ctx.experiment`` (recorded by the task, ``verify.tasks.TaskContext``), so the
claims sharing one experiment run in one task and the others in their own.
"""
