"""``opt.step()`` without torch's per-call profiling label, when nothing observes it.

``torch.optim.Optimizer`` wraps every subclass's ``step`` once (``Optimizer._patch_step_function``,
``Optimizer.profile_hook_step``) in a function that opens a ``torch.autograd.profiler.record_function``
scope, runs the global and per-instance step pre-hooks, calls the original ``step``, calls the no-op
``_optimizer_step_code`` (an anchor for the Python-tracing profiler) and runs the post-hooks. With no
hook registered and no profiler running, the wrapper's only effect is the label, and the label costs
more than a small tensor's update: 34 µs per ``torch.optim.SGD.step`` on a 5×5 float64 tensor against
11 µs for the wrapped function (the rest of ``step``, ``_use_grad_for_differentiable`` included, is
unchanged), measured on this machine under load; the trainers call it once per member and step.

:func:`step` calls the original function (``functools.wraps`` keeps it as ``__wrapped__``) exactly
when the wrapper would do nothing else — same arguments, same numbers, bitwise — and ``opt.step()``
otherwise: a hook registered globally or on this instance, an active autograd profiler, a ``step``
set on the instance, or a torch whose wrapper does not look as described (the private names read here
are checked, never assigned; nothing in torch is patched).
"""
from __future__ import annotations

import torch


def _wrapped_step(opt):
    """The original ``step`` of ``opt``'s class when calling it is equivalent to ``opt.step()``,
    else None."""
    if "step" in vars(opt):                           # a step set on the instance: call it as is
        return None
    wrapper = getattr(type(opt), "step", None)
    inner = getattr(wrapper, "__wrapped__", None)
    if inner is None or not getattr(wrapper, "hooked", False):
        return None
    try:
        from torch.optim import optimizer as _optimizer

        hooks = (_optimizer._global_optimizer_pre_hooks, _optimizer._global_optimizer_post_hooks,
                 opt._optimizer_step_pre_hooks, opt._optimizer_step_post_hooks)
        profiling = torch.autograd._profiler_enabled() or torch.autograd.profiler._is_profiler_enabled
    except AttributeError:                            # another torch: do not guess
        return None
    if profiling or any(len(h) for h in hooks):
        return None
    return inner


def step(opt, *args, **kwargs):
    """``opt.step(*args, **kwargs)``, skipping torch's profiling wrapper when it would only label the
    call (see the module docstring)."""
    inner = _wrapped_step(opt)
    if inner is None:
        return opt.step(*args, **kwargs)
    return inner(opt, *args, **kwargs)
