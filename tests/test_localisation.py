"""Stage localisation: spans from attention, hit rate and tIoU against known element times, and the
figures in summary.json and the benchmark table of synthetic data."""
import numpy as np
import pytest

from lmac.evaluation.localisation import chance_spans, localisation, stage_spans, truth_elements


def test_spans_come_from_the_attention_centre_and_spread():
    attn = np.zeros((2, 10))
    attn[0, 3] = 1.0  # all on segment 3: centre 3.5, a one-segment span
    attn[1, [6, 8]] = 0.5  # segments [6, 7) and [8, 9): centre 7.5, std 1.0
    np.testing.assert_allclose(stage_spans(attn), [[3.0, 4.0], [6.5, 8.5]])


def test_hit_rate_and_tiou_against_elements_with_the_chance_layout():
    spans = {"a": np.array([[3.0, 4.0], [7.0, 9.0]])}
    elements = {"a": [(3, 4), (7, 9), (0, 1)]}  # the stages sit exactly on two of three elements
    out = localisation(spans, {"a": 10}, elements)
    assert out["hit_rate"] == pytest.approx(2 / 3) and out["tiou"] == pytest.approx(2 / 3)
    assert out["elements"] == 3
    np.testing.assert_allclose(chance_spans(spans["a"], 10), [[2.0, 3.0], [6.5, 8.5]])
    assert out["chance_hit_rate"] == pytest.approx(1 / 3)  # the chance centres 2.5 and 7.5: only (7, 9) is hit
    assert localisation(spans, {"a": 10}, {"b": [(0, 1)]}) is None


def test_truth_elements_reads_a_synthetic_truth_file(tmp_path):
    (tmp_path / "truth.json").write_text('{"Ball_0001": {"elements": [{"start": 4, "end": 7, "q": 0.3}]}}')
    assert truth_elements(tmp_path) == {"Ball_0001": [(4, 7)]}
    (tmp_path / "truth.json").write_text("not json")
    assert truth_elements(tmp_path) == {} and truth_elements(None) == {}


def test_a_world_run_reports_stage_localisation_and_the_table_shows_it(tmp_path):
    from lmac.config import TrainConfig
    from lmac.data.worlds import generate_world, world_config
    from lmac.evaluation.benchmark import summarise
    from lmac.training.trainer import train
    from small_models import narrow

    generate_world(tmp_path / "w", world_config("rg", seed=0, n_train=16, n_test=8))
    cfg = TrainConfig(task="world_rg", model="lmac_aligned", model_args=narrow("lmac"),
                      features=str(tmp_path / "w/features"), labels=str(tmp_path / "w"), epochs=1, batch_size=8,
                      window=16, val_fraction=0.0, progress=False, device="cpu")
    s = train(cfg, tmp_path / "run", log=lambda m: None)
    loc = s["stage_localisation"]
    assert loc["elements"] >= 8 * 4 and 0 <= loc["hit_rate"] <= 1 and 0 <= loc["tiou"] <= 1
    md, _, _ = summarise([s])
    assert "Stage localisation" in md and f"{loc['hit_rate']:.2f} / {loc['tiou']:.2f}" in md
    cfg_g = TrainConfig(**{**cfg.__dict__, "model": "gdlt", "model_args": narrow("gdlt")})
    assert "stage_localisation" not in train(cfg_g, tmp_path / "run_g", log=lambda m: None)  # no stages, no figure
