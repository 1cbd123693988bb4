"""The CA-SUM network: the reference's forward pass, its state_dict layout, short videos, and score_frames."""
import numpy as np
import pytest
import torch

from model.layers.summarizer import CA_SUM

pytestmark = pytest.mark.numeric  # compared with golden numbers: CI runs them under the AVX2 kernels too


def load_case(case, recipes):
    model = CA_SUM(case["input_size"], case["output_size"], case["block_size"])
    weights = recipes.weights(case["input_size"], case["output_size"], case["weight_seed"])
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    x = torch.from_numpy(recipes.features(case["T"], case["input_size"], case["feature_seed"]))
    return model.eval(), x


def test_forward_matches_reference(golden, recipes):
    for case in golden("forward.json"):
        model, x = load_case(case, recipes)
        with torch.no_grad():
            scores, attention = model(x)
        assert scores.shape == (1, case["T"]) and attention.shape == (case["T"], case["T"])
        np.testing.assert_allclose(scores[0].numpy(), case["scores"], atol=1e-5, rtol=0)
        att = attention.double()
        np.testing.assert_allclose(att.sum().item(), case["attention_sum"], rtol=1e-5)
        np.testing.assert_allclose(att.sum(1).numpy(), case["attention_row_sums"], atol=1e-5)
        np.testing.assert_allclose(att.trace().item(), case["attention_trace"], rtol=1e-5)


def test_state_dict_layout_matches_released_checkpoints(recipes):
    D, H = 1024, 512
    state = CA_SUM(D, H, 60).state_dict()
    assert [(k, tuple(v.shape)) for k, v in state.items()] == recipes.param_shapes(D, H)


def test_score_frames_equals_forward(golden, recipes):
    for case in golden("forward.json"):
        model, x = load_case(case, recipes)
        with torch.no_grad():
            expected = model(x)[0][0]
        for chunk in (1, case["block_size"], 2 * case["block_size"] + 7, 10_000):
            chunked = model.score_frames(x, chunk=chunk, dense_limit=0)
            np.testing.assert_allclose(chunked.numpy(), expected.numpy(), atol=1e-5, rtol=0)
        assert torch.equal(model.score_frames(x), expected)


@pytest.mark.parametrize("T", [1, 2, 59, 60, 61, 150])
def test_short_videos_and_static_shots_give_finite_scores_and_gradients(T):
    torch.manual_seed(0)
    model = CA_SUM(32, 32, 60)
    for x in (torch.rand(T, 32), torch.rand(1, 32).expand(T, 32).contiguous()):  # varied frames, one static shot
        model.train()
        scores, attention = model(x)
        assert torch.isfinite(scores).all() and torch.isfinite(attention).all()
        scores.mean().backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters())
        model.zero_grad()
        model.eval()
        with torch.no_grad():
            chunked = model.score_frames(x, chunk=7, dense_limit=0)
            np.testing.assert_allclose(chunked.numpy(), model(x)[0][0].numpy(), atol=1e-5)


def test_diversity_is_zero_where_the_reference_divides_by_zero():
    from model.layers.attention import SelfAttention, block_mask
    attention = torch.softmax(torch.rand(90, 90), dim=-1)
    outside = (~block_mask(90, 60)).float()
    dissimilarity = torch.rand(90, 90)
    dissimilarity[:60] = 0  # rows 0..59 see only identical frames outside their block (a static shot)
    d = SelfAttention.diversity(dissimilarity * outside, attention)
    assert torch.equal(d[:60], torch.zeros(60))
    expected = (dissimilarity * attention * outside).sum(1) / (dissimilarity * outside).sum(1)
    torch.testing.assert_close(d[60:], expected[60:])
    short = SelfAttention.diversity(torch.rand(30, 30) * (~block_mask(30, 60)).float(), attention[:30, :30])
    assert torch.equal(short, torch.zeros(30))


def test_a_kept_dissimilarity_changes_nothing():
    """The solver passes each video's outside dissimilarity, computed once; scores and gradients stay bit for bit."""
    torch.manual_seed(1)
    model = CA_SUM(48, 48, 20).train()
    x = torch.rand(75, 48)
    results = []
    for div_out in (None, model.attention.outside_dissimilarity(x)):
        torch.manual_seed(2)  # the same dropout masks
        scores, attention = model(x, div_out)
        scores.mean().backward()
        results.append((scores, attention, [p.grad.clone() for p in model.parameters()]))
        model.zero_grad()
    (s1, a1, g1), (s2, a2, g2) = results
    assert torch.equal(s1, s2) and torch.equal(a1, a2)
    assert all(torch.equal(a, b) for a, b in zip(g1, g2))
