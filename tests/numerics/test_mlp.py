import numpy as np
import pytest
import torch

from numerics.mlp import (Architecture, ArchitectureError, ModelDataError, Objective, load_data,
                          load_state_dict, parse_architecture)


def test_parse_architecture():
    arch = parse_architecture("mlp:5, 8,1", "tanh")
    assert arch.widths == (5, 8, 1) and arch.name == "mlp:5,8,1" and arch.size == 5 * 8 + 8 + 8 + 1
    assert parse_architecture("linear:3,2", bias=False).parameter_shapes() == [(2, 3)]
    for bad in ("mlp:5", "cnn:3,3", "linear:3,4,5", "mlp:0,3", "mlp:a,b"):
        with pytest.raises(ArchitectureError):
            parse_architecture(bad)
    with pytest.raises(ArchitectureError, match="activation"):
        parse_architecture("mlp:3,3,1", "sigmoid")


def test_state_dict_round_trip_and_mismatch(tmp_path):
    arch = Architecture((3, 4, 2), "relu")
    torch.manual_seed(0)
    model = arch.build()
    path = tmp_path / "m.pt"
    torch.save(model.state_dict(), path)
    loaded = load_state_dict(path, arch)
    for p, q in zip(model.parameters(), loaded.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ArchitectureError, match=r"does not match mlp:3,5,2.*expected \(5, 3\)"):
        load_state_dict(path, Architecture((3, 5, 2), "relu"))
    with pytest.raises(ArchitectureError, match="tensors"):
        load_state_dict(path, Architecture((3, 4, 2), "relu", bias=False))
    (tmp_path / "junk.pt").write_text("not a state dict")
    with pytest.raises(ArchitectureError, match="not a readable"):
        load_state_dict(tmp_path / "junk.pt", arch)
    with pytest.raises(ArchitectureError, match="no such file"):
        load_state_dict(tmp_path / "missing.pt", arch)


def test_load_data_errors(tmp_path):
    arch = Architecture((3, 2))
    np.savez(tmp_path / "ok.npz", X=np.zeros((4, 3)), y=np.zeros((4, 2)))
    X, y = load_data(tmp_path / "ok.npz", arch, "mse")
    assert X.shape == (4, 3) and y.shape == (4, 2)
    np.savez(tmp_path / "wrong.npz", X=np.zeros((4, 5)), y=np.zeros(4))
    with pytest.raises(ModelDataError, match=r"shape \(n, 3\)"):
        load_data(tmp_path / "wrong.npz", arch, "mse")
    np.savez(tmp_path / "labels.npz", X=np.zeros((4, 3)), y=np.array([0, 1, 2, 1]))
    with pytest.raises(ModelDataError, match="labels 0..1"):
        load_data(tmp_path / "labels.npz", arch, "cross_entropy")
    np.savez(tmp_path / "nox.npz", y=np.zeros(4))
    with pytest.raises(ModelDataError, match="missing"):
        load_data(tmp_path / "nox.npz", arch, "mse")


@pytest.mark.parametrize("loss,y", [("mse", np.linspace(-1, 1, 12)), ("cross_entropy", np.arange(12) % 3)])
def test_objective_gradient_matches_finite_differences(loss, y):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    torch.manual_seed(1)
    arch = Architecture((3, 5, 3 if loss == "cross_entropy" else 1), "tanh")
    obj = Objective(arch.build(), X, y, loss)
    theta = obj.flat()
    value, grad = obj.value_and_gradient(theta)
    assert value == pytest.approx(obj.value(theta))
    h = 1e-6
    fd = np.array([(obj.value(theta + h * e) - obj.value(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, fd, atol=1e-8)
    np.testing.assert_allclose(np.concatenate([b.ravel() for b in obj.blocks(theta)]), theta)


def test_mse_convention():
    X = np.array([[1.0], [2.0]])
    model = Architecture((1, 1), bias=False).build()
    with torch.no_grad():
        model[0].weight.fill_(0.0)
    obj = Objective(model, X, np.array([1.0, 3.0]), "mse")
    assert obj.value(obj.flat()) == pytest.approx((1 + 9) / (2 * 2))     # (1/(2n)) Σ (y − f)²
