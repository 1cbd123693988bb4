"""model/fast_dropout.py: torch's dropout masks and random stream, drawn through numpy."""
import pytest
import torch
import torch.nn.functional as F

from model import fast_dropout
from model.fast_dropout import FastDropout, bernoulli, numpy_matches_torch, use_fast_dropout

pytestmark = pytest.mark.numeric  # compared with golden numbers: CI runs them under the AVX2 kernels too

fast_path = pytest.mark.skipif(not numpy_matches_torch(),
                               reason="this torch build draws bernoulli numbers otherwise: FastDropout is torch's")


@fast_path
@pytest.mark.parametrize("shape, keep", [((300, 1024), 0.5), ((7, 13), 0.5), ((1000,), 0.3), ((623,), 0.9),
                                         ((1,), 0.5), ((0, 4), 0.5)])
def test_masks_and_generator_state_are_torch_bernoulli(shape, keep):
    for warm_up in (0, 1, 311, 624):  # seeded state (twist first), and positions across a twist
        torch.manual_seed(7)
        torch.rand(warm_up)
        mask, state = bernoulli(shape, keep, torch.get_rng_state())
        expected = torch.empty(shape).bernoulli_(keep)
        assert torch.equal(mask, expected)
        assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("p, transposed", [(0.5, False), (0.2, False), (0.5, True)])
def test_dropout_gives_torch_outputs_gradients_and_later_random_numbers(p, transposed):
    x = torch.randn(64, 257).t() if transposed else torch.randn(257, 64)
    x.requires_grad_()
    results = []
    for drop in (lambda t: FastDropout(p)(t), lambda t: F.dropout(t, p, training=True)):
        torch.manual_seed(3)
        y = drop(drop(x))  # twice in a row, as CA-SUM uses it
        y.square().sum().backward()
        results.append((y.detach(), x.grad.clone(), torch.rand(5)))
        x.grad = None
    (y1, g1, r1), (y2, g2, r2) = results
    assert torch.equal(y1, y2) and torch.equal(g1, g2) and torch.equal(r1, r2)


def test_eval_mode_and_other_builds_use_torch(monkeypatch):
    x = torch.randn(10, 8)
    assert torch.equal(FastDropout(0.5).eval()(x), x)
    monkeypatch.setattr(fast_dropout, "numpy_matches_torch", lambda: False)
    calls = []
    monkeypatch.setattr(fast_dropout, "bernoulli", lambda *a: calls.append(a))
    torch.manual_seed(0)
    y = FastDropout(0.5)(x)
    torch.manual_seed(0)
    assert torch.equal(y, F.dropout(x, 0.5, training=True)) and not calls


def test_use_fast_dropout_swaps_every_dropout_module_and_nothing_else():
    from model.layers.summarizer import CA_SUM
    model = CA_SUM(8, 8, 4)
    assert type(model.drop) is torch.nn.Dropout
    linear = model.linear_1
    assert use_fast_dropout(model) is model
    assert isinstance(model.drop, FastDropout) and model.drop.p == 0.5 and model.linear_1 is linear
