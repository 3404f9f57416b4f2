"""Normalized steepest descent under the entrywise 3-norm, written as a plain torch optimizer.

A test fixture standing for a user's file: it does not import the project. The step is
W ← W − lr · Δ with Δ = argmax_{‖Δ‖₃ ≤ 1} ⟨G, Δ⟩ = sign(G) |G|^{q−1} / ‖G‖_q^{q−1}, q = 3/2 (Hölder),
taken over all parameters together; a zero gradient gives no step.
"""
import torch


class EntrywiseNSD(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, p=3.0):
        super().__init__(params, dict(lr=lr, p=p))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            q = group["p"] / (group["p"] - 1.0)
            dual = sum((p.grad.abs() ** q).sum() for p in params) ** (1.0 / q)
            if not dual > 0:
                continue
            for p in params:
                g = p.grad
                p.sub_(group["lr"] * torch.sign(g) * (g.abs() / dual) ** (q - 1.0))
        return loss


def make(params):
    return EntrywiseNSD(params)
