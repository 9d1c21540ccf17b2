"""benchmarks/train_profile.py runs end to end on tiny dims: both dropout modes, shares that add up, a JSON."""
import json
import subprocess
import sys
from pathlib import Path

from lmac.utils import cpu_model

ROOT = Path(__file__).resolve().parents[1]


def test_train_profile_writes_both_dropout_modes(tmp_path):
    out = tmp_path / "p.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_profile.py"), "--models", "concat,lmac",
                    "--dims", "8,8,6", "--T", "12", "--repeats", "1", "--compare-dropout", "--out", str(out)],
                   check=True, capture_output=True, cwd=tmp_path, timeout=300)
    res = json.loads(out.read_text())
    assert res["cpu"] == cpu_model() and res["cpu"]  # the CPU's model name, as run folders record it
    assert [(r["model"], r["dropout"]) for r in res["models"]] == [
        ("concat", "torch"), ("concat", "lmac"), ("lmac", "torch"), ("lmac", "lmac")]
    for r in res["models"]:
        assert abs(r["share_matmul"] + r["share_dropout_rng"] + r["share_other"] - 1) < 1e-9
        assert r["gflop_per_step"] > 0 and r["step_ms"] > 0 and r["optimizer_ms_torch_loop"] > 0
    torch_rng = [r["share_dropout_rng"] for r in res["models"] if r["dropout"] == "torch"]
    assert all(s > 0 for s in torch_rng)  # torch's masks show up as bernoulli_ draws
