"""The one check of a user's optimizer factory (numerics.optim.construct_optimizer)."""
import pytest
import torch

from numerics.optim import FactoryError, construct_optimizer


def test_a_torch_optimizer_passes():
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    assert isinstance(construct_optimizer(lambda ps: torch.optim.SGD(ps, lr=0.1), [p]), torch.optim.SGD)


@pytest.mark.parametrize("factory, words", [
    (lambda ps: 3, "the factory returned a int, not a torch.optim.Optimizer"),
    (lambda ps: (_ for _ in ()).throw(RuntimeError("bad\n  lr")), "the factory raised RuntimeError: bad lr"),
    (lambda ps: 1 / 0, "the factory raised ZeroDivisionError: division by zero"),
])
def test_a_broken_factory_is_one_line(factory, words):
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(FactoryError) as info:
        construct_optimizer(factory, [p])
    assert str(info.value) == words and "\n" not in str(info.value)
