"""benchmarks/inference_floor.py runs end to end on tiny dims: its products are found, and every backend agrees."""
import json

from benchmark_scripts import load
from lmac.utils import cpu_model


def test_inference_floor_profiles_the_products_and_checks_every_backend(tmp_path):
    bench = load("inference_floor")
    out = tmp_path / "floor.json"
    assert bench.main(["--dims", "8,8,6", "--T", "12", "--threads", "1", "--repeats", "3", "--copies", "2",
                       "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["latency_ms"] > 0 and res["stream_floor_ms"] > 0 and res["flop_floor_ms"] > 0
    assert res["weights_read_mb"] > 0 and res["gflop_per_scoring"] > 0
    assert res["cpu"] == cpu_model() and res["cpu"]  # the CPU's model name, as run folders record it
    ops = res["matmul_ops"]
    assert ops and all(o["op"] in bench.MATMUL_OPS and o["calls_per_scoring"] > 0 for o in ops)
    assert any(o["op"] == "aten::baddbmm" for o in ops)  # the stacked decoders' products
    backends = {k: v for k, v in res["ffn_product_backends"].items() if isinstance(v, dict)}
    assert {"torch_baddbmm", "torch_linear_per_modality", "numpy_matmul"} <= set(backends)
    for name, v in backends.items():
        assert v["ms"] > 0 and v["max_abs_diff_vs_baddbmm"] < 1e-4, name
