"""Merge validation screens (`worlds_val_gate.py --out` files) task-draw by task-draw and average them again.

Why: a candidate whose code path is another's on some task-draws (checked to every digit on runs of both) need not
train those again; its screen is the other's runs there and its own elsewhere (the twenty-fifth worlds candidate).
Each later file's runs replace the earlier files' runs of the same (task, seed); the per-world and overall figures
are the Fisher-z averages `worlds_val_gate.py` prints (its `by_world`). Each merged run records the file it came from.

    PYTHONPATH=src:benchmarks python benchmarks/worlds_val_merge.py BASE.json OWN.json [...] --out MERGED.json
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from lmac.evaluation.metrics import fisher_z_mean
from worlds_val_gate import by_world


def merge(files: list[Path]) -> dict:
    runs = {}
    for f in files:
        for r in json.loads(Path(f).read_text())["runs"]:
            runs[(r["task"], r["seed"])] = {**r, "from": Path(f).name}
    rows = [runs[k] for k in sorted(runs)]
    table = {}
    for wname, sel in by_world(rows).items():
        table[wname] = {k: fisher_z_mean([r[k] for r in sel]) for k in ("fixed", "gated")}
        print(f"{wname}: fixed {table[wname]['fixed']:.3f} gated {table[wname]['gated']:.3f} ({len(sel)} task-draws: "
              + ", ".join(f"{n} from {src}" for src, n in Counter(r["from"] for r in sel).items()) + ")")
    return {"runs": rows, "worlds": table}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", type=Path, nargs="+", help="screens, earliest first: later files replace earlier runs")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    merged = merge(args.files)
    if args.out:
        args.out.write_text(json.dumps(merged, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
