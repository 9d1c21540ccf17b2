"""The distributed guarantee, tested where it is exact: in one process and in float64.

For every registered model, each global batch cut into the shards ShardedBatchSampler makes, with
each shard's loss weighted as the trainer weights it and the gradients averaged as DDP averages
them, gives the 1-process gradient; the sharded evaluation gathers the 1-process predictions.
The real torchrun job that checks the whole path end to end is in test_torchrun.py.
"""
from __future__ import annotations

import pytest
import torch

from lmac.config import TrainConfig
from lmac.data.dataset import collate_sequences
from lmac.data.tasks import get_task
from lmac.distributed import ShardedBatchSampler, shard_bounds
from lmac.models import MODELS, create_model, list_models
from lmac.training.trainer import merge_prediction_parts, predict_dataset, prepare_data, train

from small_models import merge_options, model_dims, narrow, without_dropout

# 19 training videos (24 minus the validation share) in global batches of 9: 9, 9, 1. The ranks'
# shards are unequal (4 + 5), so their losses must be weighted by share; the last batch is smaller
# than the world size, so one rank steps on a zero-weight stand-in. A small LMAC-Net keeps it quick.
SMALL = narrow("lmac")
RUN = dict(task="rg_hoop", model="lmac", epochs=4, batch_size=9, window=16, dropout=0.0, seed=1, eval_batch_size=3,
           precision="fp64", model_args=SMALL)


def _cfg(tiny_synth, **kw) -> TrainConfig:
    return TrainConfig(features=str(tiny_synth / "features"), labels=str(tiny_synth), progress=False, device="cpu",
                       **{**RUN, **kw})

# ----------------------------------------------------------------------------- the guarantee, in one process
@pytest.fixture(scope="module")
def hoop_data(tiny_synth):
    cfg = _cfg(tiny_synth)
    train_ds, _, test_ds = prepare_data(cfg, get_task(cfg.task))
    return train_ds, test_ds


def _small_model(name: str, dims: dict, **kw):
    torch.manual_seed(0)
    opts = merge_options(narrow(name), without_dropout(name), kw)
    return create_model(name, model_dims(name, dims), **opts).double()


def _loss(model, batch) -> torch.Tensor:
    feats = {m: x.double() for m, x in batch["feats"].items()}
    return model.compute_loss(model(feats, batch["mask"]), batch["target"].double(), batch["mask"])["total"]


def _grads(model) -> dict:
    return {n: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for n, p in model.named_parameters()}


def _step_gradients(model, dataset, batch_size: int, world: int):
    """Per global batch: (1-process loss and gradient, the ranks' loss and gradient as DDP combines them)."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, collate_fn=collate_sequences,
                                         generator=torch.Generator().manual_seed(5))
    ranks = []
    for rank in range(world):
        g = torch.Generator().manual_seed(5)
        s = ShardedBatchSampler(torch.utils.data.RandomSampler(dataset, generator=g), batch_size, rank, world)
        ranks.append((s, iter(torch.utils.data.DataLoader(dataset, batch_sampler=s, generator=g,
                                                         collate_fn=collate_sequences))))
    for step, batch in enumerate(loader):
        model.zero_grad(set_to_none=True)
        full = _loss(model, batch)
        full.backward()
        want = _grads(model)
        got, loss = {n: torch.zeros_like(g) for n, g in want.items()}, 0.0
        for s, it in ranks:
            shard = next(it)
            count, weight = s.loss_weight(step)
            assert count in (0, len(shard["video_id"]))
            model.zero_grad(set_to_none=True)
            part = _loss(model, shard) * weight
            part.backward()
            loss += float(part.detach()) / world  # DDP averages over the ranks
            for n, g in _grads(model).items():
                got[n] += g / world
        yield step, float(full), want, loss, got


@pytest.mark.parametrize("world", [2, 4])
@pytest.mark.parametrize("name", list_models())
def test_sharded_gradient_is_the_one_process_gradient(name, world, hoop_data):
    """19 videos in global batches of 9 (9, 9, 1): unequal shards, and a last batch smaller than the
    world, so some ranks step on zero-weight stand-ins. float64: the agreement is to rounding."""
    train_ds, _ = hoop_data
    coupled = MODELS.info(name).get("batch_coupled")
    model = _small_model(name, train_ds.dims).train()
    if coupled:  # the registry's caveat is true: batch statistics make the shards' gradient another one
        assert any(not torch.allclose(want[n], got[n], rtol=1e-6, atol=1e-9)
                   for _, _, want, _, got in _step_gradients(model, train_ds, 9, world) for n in want)
        # ... and what is not coupled (BatchNorm with fixed statistics, no noise drawn per batch: gdlt's
        # triplet term off, pamfn's Gumbel policy at its arg-max) is exact
        model = _small_model(name, train_ds.dims, **MODELS.info(name).get("uncoupled_args", {})).eval()
    steps = 0
    for step, full, want, loss, got in _step_gradients(model, train_ds, 9, world):
        assert loss == pytest.approx(full, rel=1e-12), step
        for n in want:
            torch.testing.assert_close(got[n], want[n], rtol=1e-9, atol=1e-12, msg=lambda m: f"step {step} {n}: {m}")
        steps += 1
    assert steps == 3


@pytest.mark.parametrize("name", list_models())
def test_sharded_evaluation_gathers_the_one_process_predictions(name, hoop_data):
    _, test_ds = hoop_data
    model = _small_model(name, test_ds.dims).eval()
    task = get_task(RUN["task"])
    one = predict_dataset(model, test_ds, task, "cpu", batch_size=3)
    n = len(test_ds)
    for world in (2, 3, n + 2):  # unequal shards; more ranks than videos (empty shards)
        parts = []
        for rank in range(world):
            lo, hi = shard_bounds(n, rank, world)
            parts.append(predict_dataset(model, torch.utils.data.Subset(test_ds, range(lo, hi)), task, "cpu", 3)
                         if hi > lo else None)
        got = merge_prediction_parts(parts)
        assert got["video_id"] == one["video_id"]
        for key in ("pred", "true", "stage_scores", "stage_weights"):
            assert (key in got) == (key in one), key
            if key in one:  # batches differ (other padding): models are padding-invariant to rounding
                torch.testing.assert_close(torch.as_tensor(got[key]), torch.as_tensor(one[key]), rtol=1e-9, atol=1e-9)
        if one["center_gap"] == one["center_gap"]:
            assert got["center_gap"] == pytest.approx(one["center_gap"], rel=1e-9)
        else:
            assert got["center_gap"] != got["center_gap"]  # both NaN: no centres


# ----------------------------------------------------------------------------- sharding (in process)
@pytest.mark.parametrize("n,batch,world", [(19, 6, 2), (24, 8, 2), (7, 3, 3), (5, 4, 3), (10, 10, 4)])
def test_sharded_batches_are_the_single_process_batches(n, batch, world):
    data = list(range(n))

    def loader(**kw):
        return torch.utils.data.DataLoader(data, generator=torch.Generator().manual_seed(11), **kw)

    single = [b.tolist() for b in loader(batch_size=batch, shuffle=True)]
    per_rank = []
    for rank in range(world):
        g = torch.Generator().manual_seed(11)
        s = ShardedBatchSampler(torch.utils.data.RandomSampler(data, generator=g), batch, rank, world)
        dl = torch.utils.data.DataLoader(data, batch_sampler=s, generator=g)
        per_rank.append((s, [b.tolist() for b in dl]))
        assert len(s) == len(single) == len(per_rank[-1][1])
    for step, want in enumerate(single):
        got, share = [], 0.0
        for s, batches in per_rank:
            count, w = s.share(step)
            assert count in (0, len(batches[step]))
            got += batches[step][:count]  # a zero-count shard is a stand-in, weighted 0
            share += w
        assert got == want, step
        assert share == pytest.approx(1.0)


def test_shard_bounds_cover_each_item_once():
    for n in range(0, 12):
        for world in range(1, 5):
            items = [i for r in range(world) for i in range(*shard_bounds(n, r, world))]
            assert items == list(range(n))


def test_global_batch_smaller_than_world_is_refused():
    with pytest.raises(ValueError, match="batch size 2 is smaller than the 3 processes"):
        ShardedBatchSampler(range(10), 2, 0, 3)


def test_distributed_true_needs_a_process_group(tiny_synth, tmp_path):
    with pytest.raises(RuntimeError, match="process group"):
        train(_cfg(tiny_synth, epochs=1), tmp_path / "r", log=lambda m: None, distributed=True)
