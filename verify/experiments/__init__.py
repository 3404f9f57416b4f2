"""Experiments: named computations (settings, data, optimizers) that claims read and that the library,
the benches and the tests import instead of claim modules."""
