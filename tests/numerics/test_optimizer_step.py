"""numerics.optimizer_step.step: the same numbers as opt.step(), bitwise; torch's wrapper is skipped only
when it would do nothing but label the call (no hook, no profiler, no step on the instance)."""
import pytest
import torch

from numerics.optimizer_step import _wrapped_step, step


class _Coupled(torch.optim.Optimizer):
    """A user optimizer that couples its tensors (one global norm) and overrides step via super()."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        grads = [p.grad for g in self.param_groups for p in g["params"]]
        total = torch.sqrt(sum((gr * gr).sum() for gr in grads))
        for g in self.param_groups:
            for p in g["params"]:
                p.add_(p.grad / total, alpha=-g["lr"])


class _Sub(torch.optim.SGD):
    def step(self, closure=None):
        return super().step(closure)


FACTORIES = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.1),
    "adamax": lambda ps: torch.optim.Adamax(ps, lr=0.1),
    "coupled": lambda ps: _Coupled(ps),
    "subclass": lambda ps: _Sub(ps, lr=0.1, momentum=0.5),
}


def _run(factory, fast: bool, steps: int = 50):
    gen = torch.Generator().manual_seed(0)
    ps = [torch.zeros(3, 4, dtype=torch.float64, requires_grad=True),
          torch.zeros(5, dtype=torch.float64, requires_grad=True)]
    opt = factory(ps)
    with torch.no_grad():
        for _ in range(steps):
            for p in ps:
                p.grad = torch.randn(p.shape, generator=gen, dtype=torch.float64) + p.sin()
            step(opt) if fast else opt.step()
    return [p.detach().clone() for p in ps], opt


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_bitwise_equal_to_opt_step(name):
    ref, _ = _run(FACTORIES[name], fast=False)
    got, opt = _run(FACTORIES[name], fast=True)
    assert _wrapped_step(opt) is not None          # the fast path was taken
    assert all(torch.equal(a, b) for a, b in zip(ref, got))


def test_a_different_update_is_detected():
    """The comparison above can fail: one more step differs."""
    ref, _ = _run(FACTORIES["adam"], fast=False, steps=50)
    got, _ = _run(FACTORIES["adam"], fast=True, steps=51)
    assert not all(torch.equal(a, b) for a, b in zip(ref, got))


def _one_param_opt():
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    p.grad = torch.ones(3, dtype=torch.float64)
    return torch.optim.SGD([p], lr=1.0)


def test_hooks_are_honoured():
    calls = []
    opt = _one_param_opt()
    handles = [opt.register_step_pre_hook(lambda *a: calls.append("pre")),
               opt.register_step_post_hook(lambda *a: calls.append("post"))]
    assert _wrapped_step(opt) is None
    step(opt)
    assert calls == ["pre", "post"]
    for h in handles:
        h.remove()
    assert _wrapped_step(opt) is not None
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    handle = register_optimizer_step_pre_hook(lambda *a: calls.append("global"))
    try:
        assert _wrapped_step(opt) is None
        step(opt)
        assert calls[-1] == "global"
    finally:
        handle.remove()


def test_profiler_and_instance_step_use_the_wrapper():
    opt = _one_param_opt()
    with torch.autograd.profiler.profile():
        assert _wrapped_step(opt) is None
    seen = []
    opt.step = lambda *a, **k: seen.append(1)
    step(opt)
    assert seen == [1]
