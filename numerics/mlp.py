"""Fully connected networks (a linear model is the one-layer case) and their training objective as a
function of one flat parameter vector, for gradient matching and training to stationarity.

Architecture grammar: ``mlp:D,H1,...,K`` (layer widths, input first) or ``linear:D,K``; activation
``relu`` | ``tanh`` | ``gelu`` between layers; biases on or off. The network is a
``torch.nn.Sequential`` of ``Linear`` and activation modules (and ``Dropout`` after each hidden
activation when a dropout rate is given), float64.

Losses (mean over the n samples): ``mse`` L = (1/(2n)) Σ_i ‖f(x_i) − y_i‖² (the convention of
``theory.equivalences``), ``cross_entropy`` (log-sum-exp, integer labels).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.func import functional_call

from numerics.classification import read_npz
from theory.errors import UserInputError

LOSSES = ("mse", "cross_entropy")
ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}


class ArchitectureError(UserInputError):
    """An architecture string, or a state dict that does not match the declared architecture."""


class ModelDataError(UserInputError):
    """Malformed data for a model (shapes, labels, non-finite values)."""


@dataclass(frozen=True)
class Architecture:
    widths: tuple[int, ...]
    activation: str = "relu"
    bias: bool = True

    @property
    def name(self) -> str:
        return ("linear:" if self.is_linear else "mlp:") + ",".join(map(str, self.widths))

    @property
    def is_linear(self) -> bool:
        return len(self.widths) == 2

    def build(self, dropout: float = 0.0) -> torch.nn.Sequential:
        layers: list[torch.nn.Module] = []
        for i, (a, b) in enumerate(zip(self.widths[:-1], self.widths[1:])):
            layers.append(torch.nn.Linear(a, b, bias=self.bias, dtype=torch.float64))
            if i < len(self.widths) - 2:
                layers.append(ACTIVATIONS[self.activation]())
                if dropout > 0:
                    layers.append(torch.nn.Dropout(dropout))
        return torch.nn.Sequential(*layers)

    def parameter_shapes(self) -> list[tuple[int, ...]]:
        shapes = []
        for a, b in zip(self.widths[:-1], self.widths[1:]):
            shapes.append((b, a))
            if self.bias:
                shapes.append((b,))
        return shapes

    @property
    def size(self) -> int:
        return int(sum(np.prod(s) for s in self.parameter_shapes()))


_ARCH = re.compile(r"^(mlp|linear):(\d+(,\d+)+)$")


def parse_architecture(text: str, activation: str = "relu", bias: bool = True) -> Architecture:
    m = _ARCH.match(text.strip().lower().replace(" ", ""))
    if not m:
        raise ArchitectureError(f"architecture {text!r} is not mlp:D,H1,...,K or linear:D,K "
                                "(comma-separated layer widths, input first)")
    widths = tuple(int(v) for v in m.group(2).split(","))
    if any(v < 1 for v in widths):
        raise ArchitectureError(f"architecture {text!r}: every width must be ≥ 1")
    if m.group(1) == "linear" and len(widths) != 2:
        raise ArchitectureError(f"linear:D,K takes two widths, got {len(widths)} in {text!r}")
    if activation not in ACTIVATIONS:
        raise ArchitectureError(f"unknown activation {activation!r}; expected one of "
                                f"{', '.join(ACTIVATIONS)}")
    return Architecture(widths, activation, bias)


def load_state_dict(path: str | Path, arch: Architecture) -> torch.nn.Sequential:
    """Load a ``torch.save(model.state_dict())`` file into ``arch.build()``. Tensors are matched to
    the architecture's layers in order (their key names are free); counts and shapes must agree."""
    path = Path(path)
    if not path.exists():
        raise ArchitectureError(f"{path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ArchitectureError(f"{path}: not a readable torch state dict ({type(exc).__name__}: "
                                f"{str(exc).splitlines()[0][:120]})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ArchitectureError(f"{path}: expected a dict of tensors (torch.save(model.state_dict()))")
    expected = arch.parameter_shapes()
    got = [(k, tuple(v.shape)) for k, v in state.items()]
    if len(got) != len(expected) or any(g[1] != e for g, e in zip(got, expected)):
        bad = f"{len(got)} tensors, expected {len(expected)}" if len(got) != len(expected) else \
            next(f"{k} has shape {s}, expected {e}" for (k, s), e in zip(got, expected) if s != e)
        raise ArchitectureError(f"state dict does not match {arch.name} (bias={arch.bias}): {bad}; "
                                f"expected shapes {expected}")
    model = arch.build()
    with torch.no_grad():
        for p, v in zip(model.parameters(), state.values()):
            if not torch.isfinite(v).all():
                raise ArchitectureError(f"{path}: parameter tensor has NaN/Inf entries")
            p.copy_(v.to(torch.float64))
    return model


def load_data(path: str | Path, arch: Architecture, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n×D floats) and ``y`` from an ``.npz``: targets (n,) or (n, K) for ``mse``, integer
    labels 0..K−1 for ``cross_entropy``."""
    X, y = read_npz(path, ("X", "y"), ModelDataError)
    D, K = arch.widths[0], arch.widths[-1]
    if X.ndim != 2 or X.shape[1] != D or not np.issubdtype(X.dtype, np.number):
        raise ModelDataError(f"X must be numeric of shape (n, {D}) for {arch.name}, got {X.shape}")
    if y.ndim == 0 or not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise ModelDataError(f"y must be a numeric array with one entry (or row) per row of X, got "
                             f"{y.dtype} of shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ModelDataError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.shape[0] == 0:
        raise ModelDataError("X and y have no rows (n = 0): there is no data to fit")
    if np.iscomplexobj(X) or np.iscomplexobj(y):
        raise ModelDataError("X and y must be real; complex values would be cast, dropping the imaginary part")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ModelDataError("X contains NaN/Inf entries")
    if loss == "mse":
        y = y.astype(np.float64).reshape(y.shape[0], -1)
        if y.shape[1] != K or not np.all(np.isfinite(y)):
            raise ModelDataError(f"y must hold finite targets of shape (n,) or (n, {K}), got {y.shape}")
        return X, y
    if loss != "cross_entropy":
        raise ModelDataError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
    if y.ndim != 1 or not np.all(np.isfinite(y)) or np.any(y != np.round(y)) or y.min() < 0 \
            or y.max() >= K:
        raise ModelDataError(f"cross_entropy needs integer labels 0..{K - 1} in y (shape (n,))")
    return X, y.astype(np.int64)


class Objective:
    """L(θ) of a network on fixed data, with θ one flat float64 vector (in ``parameters()`` order)."""

    def __init__(self, model: torch.nn.Module, X, y, loss: str = "mse"):
        if loss not in LOSSES:
            raise ModelDataError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
        self.model = model.eval()
        self.loss = loss
        self.X = torch.as_tensor(X, dtype=torch.float64)
        y = torch.as_tensor(y)
        self.y = y.long() if loss == "cross_entropy" else y.to(torch.float64).reshape(len(y), -1)
        named = list(model.named_parameters())
        self.names = [nm for nm, _ in named]
        self.shapes = [tuple(p.shape) for _, p in named]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.size = int(sum(self.sizes))

    # -- flat vectors <-> tensors ------------------------------------------------------------
    def flat(self) -> np.ndarray:
        return np.concatenate([p.detach().numpy().ravel() for p in self.model.parameters()])

    def blocks(self, theta: np.ndarray) -> list[np.ndarray]:
        """Views of θ as the parameter tensors."""
        return [b.reshape(s) for b, s in zip(np.split(theta, np.cumsum(self.sizes)[:-1]), self.shapes)]

    def _params(self, theta) -> dict[str, torch.Tensor]:
        t = torch.as_tensor(theta, dtype=torch.float64)
        return {nm: b.reshape(s) for nm, b, s in zip(self.names, torch.split(t, self.sizes), self.shapes)}

    # -- the loss ----------------------------------------------------------------------------
    def _loss(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        out = functional_call(self.model, params, (self.X,))
        if self.loss == "mse":
            return 0.5 * ((out - self.y) ** 2).sum() / self.X.shape[0]
        return torch.nn.functional.cross_entropy(out, self.y)

    def value(self, theta: np.ndarray) -> float:
        with torch.no_grad():
            return float(self._loss(self._params(theta)))

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        params = {nm: b.reshape(s) for nm, b, s in zip(self.names, torch.split(t, self.sizes), self.shapes)}
        value = self._loss(params)
        (g,) = torch.autograd.grad(value, t)
        return float(value.detach()), g.numpy()

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        return self.value_and_gradient(theta)[1]

    def gradient_norm_value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """(‖∇L‖², ∇‖∇L‖²) by double backpropagation (∇‖∇L‖² = 2 H ∇L,
        ``theory.penalties.gradient_norm_derivation``)."""
        t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        params = {nm: b.reshape(s) for nm, b, s in zip(self.names, torch.split(t, self.sizes), self.shapes)}
        (g,) = torch.autograd.grad(self._loss(params), t, create_graph=True)
        value = (g * g).sum()
        (gg,) = torch.autograd.grad(value, t)
        return float(value.detach()), gg.detach().numpy()

    def input_second_moment(self) -> np.ndarray:
        """Per-coordinate weights of ``dropout_l2``: (XᵀX)_jj/(2n) on the first layer's weight entries
        W_kj, 0 elsewhere (Wager et al. 2013; exact for a linear model with the ``mse`` loss)."""
        c = (self.X**2).sum(0).numpy() / (2 * self.X.shape[0])
        blocks = [np.zeros(s) for s in self.shapes]
        blocks[0] = np.broadcast_to(c, self.shapes[0]).copy()
        return np.concatenate([b.ravel() for b in blocks])
