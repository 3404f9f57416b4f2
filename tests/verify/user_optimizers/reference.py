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


def gradient_descent(params):
    return _with_group_lr(params, gd)


def signgd(params):
    return _with_group_lr(params, lambda eta: nsd(parse_norm("max"), eta))


def signum(params):
    return _with_group_lr(params, lambda eta: nmd(parse_norm("max"), eta, beta1=0.9))


def adam_eps0(params):
    return _with_group_lr(params, lambda eta: adam(eta, beta1=0.9, beta2=0.99, eps=0.0))


def spectral(params):
    return _with_group_lr(params, lambda eta: nsd(parse_norm("spectral"), eta))


def muon_exact(params):
    return _with_group_lr(params, lambda eta: nmd(parse_norm("spectral"), eta, beta1=0.9))


def nuclear(params):
    return _with_group_lr(params, lambda eta: nsd(parse_norm("nuclear"), eta))


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
