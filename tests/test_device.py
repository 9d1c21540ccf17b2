"""The CUDA paths: each test runs on a GPU when one is present (benchmarks/gpu_check.sh runs this file there)
and is skipped otherwise. CPU-side checks of the same code (bf16 autocast, --device cpu) live with the
features they test."""
import json

import numpy as np
import pytest
import torch

from lmac.config import TrainConfig
from small_models import LMAC

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def _cfg(tiny_synth, **kw):
    base = dict(task="rg_ball", model="lmac_aligned_md", model_args=dict(LMAC), features=str(tiny_synth / "features"),
                labels=str(tiny_synth), epochs=3, batch_size=8, window=16, progress=False, eval_batch_size=4)
    return TrainConfig(**{**base, **kw})


@cuda
def test_auto_picks_cuda_and_training_on_it_matches_cpu(tiny_synth, tmp_path):
    from lmac.training.trainer import train
    from lmac.utils import resolve_device

    assert resolve_device("auto").type == "cuda"
    model_args = {**LMAC, "dropout": 0.0, "modality_dropout": 0.0}
    a = train(_cfg(tiny_synth, device="cpu", model_args=model_args), tmp_path / "cpu", log=lambda m: None)
    b = train(_cfg(tiny_synth, device="cuda", model_args=model_args), tmp_path / "cuda", log=lambda m: None)
    assert json.loads((tmp_path / "cuda/env.json").read_text())["device"].startswith("cuda")
    assert abs(a["test_mse"] - b["test_mse"]) / a["test_mse"] < 1e-2  # kernels differ; three epochs agree closely


@cuda
def test_bf16_training_and_missing_modalities_on_cuda(tiny_synth, tmp_path):
    from lmac.training.trainer import train

    s = train(_cfg(tiny_synth, device="cuda", precision="bf16"), tmp_path / "run", log=lambda m: None)
    assert np.isfinite(s["test_srcc_last"]) and set(s["missing_modality"]) == {"rgb", "flow", "audio"}


@cuda
def test_checkpoint_trained_on_cuda_loads_on_cpu(tiny_synth, tmp_path):
    from lmac.training.trainer import load_run_model, train

    train(_cfg(tiny_synth, device="cuda", epochs=1), tmp_path / "run", log=lambda m: None)
    model, *_ = load_run_model(tmp_path / "run", device="cpu")
    assert all(p.device.type == "cpu" for p in model.parameters())


@cuda
@pytest.mark.parametrize("name", ["i3d-rgb", "musicnn"])
def test_packaged_extractors_agree_on_cuda_and_cpu(name):
    from lmac.features import EXTRACTORS

    rng = np.random.default_rng(0)
    if name == "i3d-rgb":
        batch = rng.integers(0, 256, (2, 32, 224, 224, 3), dtype=np.uint8)
    else:
        from lmac.features.backbones.musicnn import PATCH_SAMPLES

        batch = (0.1 * rng.standard_normal((4, PATCH_SAMPLES))).astype(np.float32)
    ex = EXTRACTORS.get(name)()
    on_cpu = ex(batch)
    on_gpu = ex.to("cuda")(batch)
    np.testing.assert_allclose(on_gpu, on_cpu, atol=2e-3 * np.abs(on_cpu).max(), rtol=0)
