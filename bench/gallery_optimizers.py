"""Factories for the gallery of ``torch.optim`` optimizers (``bench/make_gallery.py``): each returns
the optimizer with torch's defaults, or with ε = 0 where it has one. ``verify optimizer`` sets ``lr``
before every step; every other hyperparameter is torch's default unless the name says otherwise.
Each entry of ``SPECS`` becomes a module-level factory of that name (``gallery_optimizers.py:adam_eps0``)."""
from __future__ import annotations

import torch

O = torch.optim
SPECS = {
    "sgd": (O.SGD, dict(lr=0.1)),
    "sgd_momentum": (O.SGD, dict(lr=0.1, momentum=0.9)),
    "sgd_nesterov": (O.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    "adam": (O.Adam, {}), "adam_eps0": (O.Adam, dict(eps=0.0)),
    "adamw_wd0": (O.AdamW, dict(weight_decay=0.0)),
    "adamw_wd0_eps0": (O.AdamW, dict(weight_decay=0.0, eps=0.0)),
    "adamax": (O.Adamax, {}), "adamax_eps0": (O.Adamax, dict(eps=0.0)),
    "nadam": (O.NAdam, {}), "nadam_eps0": (O.NAdam, dict(eps=0.0)),
    "radam": (O.RAdam, {}), "radam_eps0": (O.RAdam, dict(eps=0.0)),
    "adagrad": (O.Adagrad, {}), "adagrad_eps0": (O.Adagrad, dict(eps=0.0)),
    "adadelta": (O.Adadelta, {}),
    "rmsprop": (O.RMSprop, {}), "rmsprop_eps0": (O.RMSprop, dict(eps=0.0)),
    "rprop": (O.Rprop, {}), "asgd": (O.ASGD, {}), "adafactor": (O.Adafactor, {}), "muon": (O.Muon, {}),
}


def _factory(cls, kwargs):
    def make(params):
        return cls(params, **kwargs)
    return make


globals().update({name: _factory(cls, kwargs) for name, (cls, kwargs) in SPECS.items()})
