"""The two scripts of 2026-12-05's checks: the authors'-PAMFN reference run's data side, and the difference probe."""
import numpy as np
import pytest

from benchmark_scripts import load
from lmac.config import TrainConfig
from lmac.data.features import PamfnStore, NativeStore
from lmac.data.tasks import get_task
from lmac.data.worlds import generate_world, world_config
from lmac.training.trainer import prepare_data


@pytest.fixture(scope="module")
def catch_draw(tmp_path_factory):
    out = tmp_path_factory.mktemp("catch") / "seed1"
    generate_world(out, world_config("catch", seed=1, n_train=30, n_test=10))
    return out


def test_the_reference_trains_on_lmac_s_training_split(catch_draw):
    ref = load("pamfn_authors_reference")
    cfg = TrainConfig(task="world_catch", features=str(catch_draw / "features"), labels=str(catch_draw), seed=1)
    train, val, _ = prepare_data(cfg, get_task("world_catch"))
    ids = [line.split()[0] for line in (catch_draw / "train.txt").read_text().splitlines()[1:] if line.strip()]
    assert sorted(ref.lmac_train_ids(ids, 1)) == sorted(s.video_id for s in train.samples)
    assert not set(ref.lmac_train_ids(ids, 1)) & {s.video_id for s in val.samples}
    assert sorted(ref.lmac_train_ids(ids, 2)) != sorted(ref.lmac_train_ids(ids, 1))  # the seed matters


def test_the_reference_package_is_one_lmac_reads_back_unchanged(catch_draw, tmp_path):
    ref = load("pamfn_authors_reference")
    name, dims, train_ids = ref.write_package(catch_draw, tmp_path, seed=1, all_train=False)
    assert name == "Ribbon" and len(train_ids) == 24
    labels = (tmp_path / "data" / "RG" / "train.txt").read_text().splitlines()
    assert labels[0].startswith("Video_Name") and sorted(r.split()[0] for r in labels[1:]) == train_ids
    package, native = PamfnStore(tmp_path / "features"), NativeStore(catch_draw / "features")
    assert len(package.ids()) == 24 + 10
    vid = train_ids[0]
    for m in ("rgb", "flow", "audio"):
        assert np.array_equal(package.load(vid)[m], native.load(vid)[m].astype(np.float32))
    _, _, every = ref.write_package(catch_draw, tmp_path / "all", seed=1, all_train=True)
    assert len(every) == 30


def test_the_reference_reads_the_authors_log_lines():
    ref = load("pamfn_authors_reference")
    line = ("Epoch[3/30] \tTime: 22.5/19.5 \tLoss 1.2259/1.0906 \tAvg_loss 1.18/1.18\tCoef 0.61/51.37 \t"
            "Avg_coef 33.30/33.30 \tBestCoef 51.37\t BestLoss 1.09\t ")
    assert ref.parse_epochs(["best avg coef: 0.1", line]) == [
        {"train_loss": 1.2259, "test_loss": 1.0906, "train_rho": 0.61, "test_rho": pytest.approx(0.5137)}]


def test_the_difference_probe_scores_each_option_on_validation(catch_draw):
    r = load("worlds_delta_probe").probe(catch_draw, "world_catch", 1, k=4)
    assert set(r) == {"rgb", "rgb+delta", "all", "all+delta"}
    assert all(-1 <= v <= 1 for v in r.values())
    assert load("worlds_delta_probe").world_of("world_landing_pcs") == "landing"
