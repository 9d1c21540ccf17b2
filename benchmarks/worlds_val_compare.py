"""Compare runs from different benchmark folders on *validation* only (last epoch), by world.

Each argument is DIR:MODEL[:LABEL] (a `lmac benchmark --suite worlds` folder and a model name in it), so a
candidate trained with `--set` into its own folder can be set against the default trained into another.
Only the task-draws that every argument has finished are compared. Per world: the Fisher-z mean of the
last-epoch validation rho over the draws (the `amplitude` world pools its TES and PCS tasks); "avg": the
Fisher-z mean over every task-draw. Then each row minus the first.
Test numbers are not read.

    python benchmarks/worlds_val_compare.py DEV:lmac_ensemble:default CAND7:lmac_ensemble:cand7 --seeds 1,2,3 [--out F.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from lmac.data.worlds import WORLDS
from lmac.evaluation.benchmark import validation_curves, world_of
from lmac.evaluation.metrics import fisher_z_mean


def last_val(bench: Path, model: str, seeds: set[int] | None) -> dict[tuple[str, int], float]:
    """(task, seed) -> validation rho at the last epoch of every finished run of `model` in `bench`. A task
    trained on the judges' parts (`world_energy_parts`) counts as its base task: the same videos, the same split
    and the same total to rank; only the training targets differ."""
    return {(t.removesuffix("_parts"), s): v[-1] for (m, t, s), v in validation_curves(bench, seeds).items() if m == model}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="DIR:MODEL[:LABEL]")
    p.add_argument("--seeds", help="comma-separated (default: all)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    seeds = {int(s) for s in args.seeds.split(",")} if args.seeds else None
    loaded = {}
    for spec in args.runs:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            p.error(f"{spec!r}: expected DIR:MODEL[:LABEL]")
        bench, model = Path(parts[0]), parts[1]
        label = parts[2] if len(parts) == 3 else f"{bench.name}:{model}"
        vals = last_val(bench, model, seeds)
        if not vals:
            p.error(f"{spec}: no finished run of {model!r} in {bench}/runs")
        loaded[label] = vals
    common = set.intersection(*(set(v) for v in loaded.values()))  # compare on the same task-draws only
    table = {}
    for label, vals in loaded.items():
        vals = {k: v for k, v in vals.items() if k in common}
        row = {w: fisher_z_mean([v for (t, _), v in vals.items() if world_of(t) == w]) for w in WORLDS
               if any(world_of(t) == w for t, _ in vals)}
        row["avg"] = fisher_z_mean(list(vals.values()))
        row["n"] = len(vals)
        table[label] = {k: float(v) if k != "n" else v for k, v in row.items()}
    cols = [w for w in (*WORLDS, "avg") if all(w in r for r in table.values())]
    first = next(iter(table))
    print("validation Spearman rho, last epoch; Fisher-z mean over draws (and amplitude's two tasks)")
    print(f"{'run':28s}" + "".join(f"{c:>18s}" for c in cols) + "   n")
    for label, row in table.items():
        cells = "".join(f"{row[c]:18.3f}" if label == first else f"{row[c]:>9.3f} ({row[c] - table[first][c]:+.3f})"
                        for c in cols)
        print(f"{label:28s}{cells}   {row['n']}")
    if args.out:
        args.out.write_text(json.dumps({"seeds": sorted(seeds) if seeds else "all", "table": table}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
