"""FastDropout: the same dropout as nn.Dropout (each element kept with probability 1 - p, scaled by 1 / (1 - p)),
with a mask drawn from a quarter of the random numbers; seeded, and the same for any thread count."""
import pytest
import torch
import torch.nn as nn

from lmac.models import create_model
from lmac.models.dropout import FastDropout, dropout_mask


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_every_lane_keeps_an_element_with_probability_one_minus_p(p):
    torch.manual_seed(0)
    n = 400_000
    mask = dropout_mask((n,), p)
    values = torch.unique(mask)
    assert len(values) == 2 and values[0] == 0 and values[1].item() == pytest.approx(1 / (1 - p))
    se = (p * (1 - p) / (n / 4)) ** 0.5
    for lane in range(4):  # the four 16-bit lanes of each 64-bit draw are each uniform
        dropped = (mask[lane::4] == 0).float().mean().item()
        assert abs(dropped - p) < 5 * se, (lane, dropped)
    # neighbours are independent: P(both dropped) = p^2
    both = ((mask[:-1] == 0) & (mask[1:] == 0)).float().mean().item()
    assert abs(both - p * p) < 5 * (p * p * (1 - p * p) / n) ** 0.5 + 1e-3
    assert abs(mask.mean().item() - 1.0) < 0.01  # expectation preserved


def test_mask_is_seeded_and_the_same_for_any_thread_count():
    threads = torch.get_num_threads()
    try:
        masks = []
        for t in (1, 2, 1):
            torch.set_num_threads(t)
            torch.manual_seed(123)
            masks.append(dropout_mask((64, 77, 33), 0.1))
        assert torch.equal(masks[0], masks[1]) and torch.equal(masks[0], masks[2])
        torch.manual_seed(124)
        assert not torch.equal(masks[0], dropout_mask((64, 77, 33), 0.1))
    finally:
        torch.set_num_threads(threads)


def test_fast_dropout_is_identity_in_eval_and_its_gradient_is_the_mask():
    drop = FastDropout(0.25)
    x = torch.randn(8, 5, 7, requires_grad=True)
    drop.eval()
    assert drop(x) is x
    drop.train()
    torch.manual_seed(0)
    y = drop(x)
    torch.manual_seed(0)
    mask = dropout_mask(x.shape, 0.25)
    assert torch.equal(y, x * mask)
    y.sum().backward()
    assert torch.equal(x.grad, mask)
    assert torch.equal(FastDropout(0.0).train()(x), x)
    FastDropout.enabled = False  # the switch gives torch's own masks
    try:
        torch.manual_seed(0)
        y_torch = drop(x)
        torch.manual_seed(0)
        assert torch.equal(y_torch, nn.functional.dropout(x, 0.25, True))
    finally:
        FastDropout.enabled = True


@pytest.mark.parametrize("name", ["lmac_ensemble", "gdlt", "concat", "pamfn_branch"])
def test_created_models_use_it_everywhere_and_keep_their_state_dict_keys(name):
    from lmac.models import MODELS

    dims = {"rgb": 16} if name == "pamfn_branch" else {"rgb": 16, "flow": 12, "audio": 8}
    model = create_model(name, dims)
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert drops and all(type(m) is FastDropout for m in drops)
    if name != "lmac_ensemble":  # the registry entry alone builds torch's dropout: same weights, same keys
        wanted = MODELS.info(name).get("modalities") or tuple(dims)
        plain = MODELS.get(name)(dims={m: dims[m] for m in wanted})
        assert any(type(m) is nn.Dropout for m in plain.modules())
        assert list(plain.state_dict()) == list(model.state_dict())
