"""Factories for the gallery of ``torch.optim`` optimizers (``bench/make_gallery.py``): each returns
the optimizer with torch's defaults, or with ε = 0 where it has one. ``verify optimizer`` sets ``lr``
before every step; every other hyperparameter is torch's default unless the name says otherwise."""
from __future__ import annotations

import torch


def sgd(params):
    return torch.optim.SGD(params, lr=0.1)


def sgd_momentum(params):
    return torch.optim.SGD(params, lr=0.1, momentum=0.9)


def sgd_nesterov(params):
    return torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True)


def adam(params):
    return torch.optim.Adam(params)


def adam_eps0(params):
    return torch.optim.Adam(params, eps=0.0)


def adamw_wd0(params):
    return torch.optim.AdamW(params, weight_decay=0.0)


def adamw_wd0_eps0(params):
    return torch.optim.AdamW(params, weight_decay=0.0, eps=0.0)


def adamax(params):
    return torch.optim.Adamax(params)


def adamax_eps0(params):
    return torch.optim.Adamax(params, eps=0.0)


def nadam(params):
    return torch.optim.NAdam(params)


def nadam_eps0(params):
    return torch.optim.NAdam(params, eps=0.0)


def radam(params):
    return torch.optim.RAdam(params)


def radam_eps0(params):
    return torch.optim.RAdam(params, eps=0.0)


def adagrad(params):
    return torch.optim.Adagrad(params)


def adagrad_eps0(params):
    return torch.optim.Adagrad(params, eps=0.0)


def adadelta(params):
    return torch.optim.Adadelta(params)


def rmsprop(params):
    return torch.optim.RMSprop(params)


def rmsprop_eps0(params):
    return torch.optim.RMSprop(params, eps=0.0)


def rprop(params):
    return torch.optim.Rprop(params)


def asgd(params):
    return torch.optim.ASGD(params)


def adafactor(params):
    return torch.optim.Adafactor(params)


def muon(params):
    return torch.optim.Muon(params)
