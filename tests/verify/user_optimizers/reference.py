"""The optimizers the fingerprint must identify, as SPEC factories built from the project's family
(``numerics.optim``): e.g. ``tests/verify/user_optimizers/reference.py:signgd``.

Each factory returns a ``TransformOptimizer`` whose step size is the ``lr`` of its parameter group,
the torch convention the fingerprint uses to impose its schedule (it sets ``lr = η_t`` before every
step); the transformation itself is the project's (Fan, Schmidt, Thrampoulidis 2025 vocabulary).
"""
from numerics.optim import TransformOptimizer, adam, gd, nmd, nsd
from theory.norms import parse_norm


def _with_group_lr(params, make):
    """``make(eta)`` is a transformation taking the schedule t ↦ η_t; η_t is read from the group."""
    opt = TransformOptimizer([{"params": list(params), "lr": 1.0}],
                             make(lambda t: opt.param_groups[0]["lr"]))
    return opt


def _per_layer(norm, params):
    """The max of a matrix norm over the parameter tensors (the norm itself for one tensor): its LMO
    is the tensor's own LMO, applied to each (Gronich & Vardi 2026's block max with unit weights)."""
    from theory.norms import BlockMax
    if len(params) == 1:
        return norm
    return BlockMax((norm,) * len(params), (1.0,) * len(params))


def gradient_descent(params):
    return _with_group_lr(params, gd)


def signgd(params):
    return _with_group_lr(params, lambda eta: nsd(parse_norm("max"), eta))


def signum(params):
    return _with_group_lr(params, lambda eta: nmd(parse_norm("max"), eta, beta1=0.9))


def adam_eps0(params):
    return _with_group_lr(params, lambda eta: adam(eta, beta1=0.9, beta2=0.99, eps=0.0))


def spectral(params):
    params = list(params)
    return _with_group_lr(params, lambda eta: nsd(_per_layer(parse_norm("spectral"), params), eta))


def muon_exact(params):
    """Muon with the exact polar factor of the momentum, on every tensor."""
    params = list(params)
    return _with_group_lr(params, lambda eta: nmd(_per_layer(parse_norm("spectral"), params), eta, beta1=0.9))


def nuclear(params):
    params = list(params)
    return _with_group_lr(params, lambda eta: nsd(_per_layer(parse_norm("nuclear"), params), eta))


def ngd(params):
    return _with_group_lr(params, lambda eta: nsd(parse_norm("fro"), eta))


def adam_exponent(e):
    """x −= η m/(v^e) (ε = 0, no bias correction): the preconditioner-exponent family of Li, Wen,
    Lyu 2025 (e = ½ is Adam)."""
    def make(params):
        return _with_group_lr(params, lambda eta: adam(eta, beta1=0.9, beta2=0.99, eps=0.0,
                                                        bias_correction=True, exponent=e))
    return make


adam_quarter = adam_exponent(0.25)


# -- methods for networks (several parameter tensors) -------------------------------------------
def ngd_layerwise(params):
    """Gradient descent normalized per tensor (Frobenius LMO on each)."""
    params = list(params)
    return _with_group_lr(params, lambda eta: nsd(_per_layer(parse_norm("fro"), params), eta))


def muon_signum(params):
    """Muon on the first tensor (the hidden layer), Signum on the others (the output layer)."""
    from numerics.optim import partition
    params = list(params)
    rest = list(range(1, len(params)))
    return _with_group_lr(params, lambda eta: partition([([0], nmd(parse_norm("spectral"), eta, beta1=0.9)),
                                                         (rest, nmd(parse_norm("max"), eta, beta1=0.9))]))
