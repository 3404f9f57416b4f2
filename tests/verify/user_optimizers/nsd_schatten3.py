"""Normalized steepest descent under the Schatten 3-norm, written as a plain torch optimizer.

A test fixture standing for a user's file: it does not import the project. For each matrix
parameter, with G = U diag(s) Vᵀ, the step is W ← W − lr · U diag(s^{q−1}) Vᵀ / ‖s‖_q^{q−1},
q = 3/2 (von Neumann's trace inequality gives the maximizer of ⟨G, Δ⟩ over the Schatten-3 ball).
A vector parameter is treated as a 1×d matrix; a zero gradient gives no step.
"""
import torch


class SchattenNSD(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, p=3.0):
        super().__init__(params, dict(lr=lr, p=p))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            q = group["p"] / (group["p"] - 1.0)
            for p in group["params"]:
                if p.grad is None:
                    continue
                G = p.grad.reshape(1, -1) if p.grad.dim() == 1 else p.grad
                U, s, Vh = torch.linalg.svd(G, full_matrices=False)
                dual = (s ** q).sum() ** (1.0 / q)
                if not dual > 0:
                    continue
                step = (U * (s / dual) ** (q - 1.0)) @ Vh
                p.sub_(group["lr"] * step.reshape(p.shape))
        return loss


def make(params):
    return SchattenNSD(params)
