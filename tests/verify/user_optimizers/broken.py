"""Factories that go wrong in the ways ``verify optimizer`` must report in one line (test fixtures
standing for a user's file; they do not import the project)."""
import torch


def raises(params):
    raise RuntimeError("no optimizer today")


def not_an_optimizer(params):
    return [p for p in params]


class _Constant(torch.optim.Optimizer):
    """W ← W − lr·g, then the parameters are replaced by ``value`` from step ``after`` on (with
    ``scale``: multiplied by ``value`` at step ``after`` only)."""

    def __init__(self, params, value, after, scale=False):
        super().__init__(params, dict(lr=0.1))
        self.value, self.after, self.scale, self.t = value, after, scale, 0

    @torch.no_grad()
    def step(self, closure=None):
        self.t += 1
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(group["lr"] * p.grad)
                    if self.scale and self.t == self.after:
                        p.mul_(self.value)
                    elif not self.scale and self.t >= self.after:
                        p.fill_(self.value)


def nan_at_once(params):
    return _Constant(params, float("nan"), 1)


def diverges(params):
    """Fine for 20 steps, then NaN (a blow-up)."""
    return _Constant(params, float("nan"), 20)


def ascent(params):
    """Gradient ascent: moves, never separates the data."""
    return torch.optim.SGD(params, lr=0.1, maximize=True)




def blowup(params):
    """Gradient descent that multiplies the parameters by 1e150 at step 5: the margins overflow float64
    (an optimizer whose step size is far too large for the network, seen with Nesterov SGD)."""
    return _Constant(params, 1e150, 5, scale=True)
