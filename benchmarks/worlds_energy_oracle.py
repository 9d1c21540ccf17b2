"""How much can reading flow against the music add in the `energy` world? Oracle rhos from the ground truth.

For each draw's test videos: the Spearman rho with the total of (a) a perfect reader of what RGB shows
(sum of element values minus technical deductions) and (b) the same plus the cross-modal term
(8 x mean |energy - intensity|, which needs flow and audio at the elements' moments). The gap (b) - (a) is
the most a model can gain over a perfect RGB-only model; a model far below (a) is limited by how well it
reads RGB, not by cross-modal reading. Also (c) the number of elements alone and (d) (a) in mean form (the mean
of the per-element RGB terms): what a read-out that averages over elements, and cannot count them, could reach.

    python benchmarks/worlds_energy_oracle.py DEV/data/energy --seeds 1,2,3 [--split train] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr


def oracles(folder: Path, split: str = "test") -> dict:
    truth = json.loads((folder / "truth.json").read_text())
    rows = [line.split() for line in (folder / f"{split}.txt").read_text().splitlines()[1:] if line.strip()]
    total = np.array([float(r[3]) for r in rows])
    els = [truth[r[0]]["elements"] for r in rows]
    rgb_terms = [[e["value"] - 0.5 * (1 - e["q"]) for e in es] for es in els]  # what RGB shows, per element
    rgb = np.array([sum(t) for t in rgb_terms])
    mism = np.array([np.mean([abs(e["energy"] - e["intensity"]) for e in es]) for es in els])
    return {"rgb_oracle": float(spearmanr(rgb, total)[0]), "rgb_plus_crossmodal_oracle": float(spearmanr(rgb - 8 * mism, total)[0]),
            "crossmodal_share_of_variance": float(np.var(8 * mism) / np.var(total)),
            "element_count_rho": float(spearmanr([len(es) for es in els], total)[0]),
            "rgb_mean_form_oracle": float(spearmanr([np.mean(t) for t in rgb_terms], total)[0]),
            f"{split}_videos": len(rows)}


def built_world(folder: Path):
    """The draw's world with its fixed tables, rebuilt from the folder's world.json as `lmac benchmark` built it."""
    from lmac.data.worlds import WorldConfig, build_world

    cfg = json.loads((folder / "world.json").read_text())
    return build_world(WorldConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()
                                      if k in WorldConfig.__dataclass_fields__}))


def oracle_main(doc: str, data_help: str, oracles_fn, describe, argv=None) -> int:
    """The command line shared by the worlds' oracle scripts: one line per draw, and the JSON."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("data", type=Path, help=data_help)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--split", default="test", choices=["train", "test"])
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    out = {}
    for s in args.seeds.split(","):
        out[f"seed{s}"] = r = oracles_fn(args.data / f"seed{s}", args.split)
        print(f"draw {s}: {describe(r)} ({args.split})")
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


def main(argv=None) -> int:
    return oracle_main(__doc__, "DEV/data/energy (holding seed{s}/)", oracles, lambda r: (
        f"RGB oracle {r['rgb_oracle']:.3f}, RGB + cross-modal oracle {r['rgb_plus_crossmodal_oracle']:.3f}, "
        f"cross-modal term {r['crossmodal_share_of_variance']:.0%} of the total's variance; "
        f"element count alone {r['element_count_rho']:.3f}, RGB oracle in mean form {r['rgb_mean_form_oracle']:.3f}"), argv)


if __name__ == "__main__":
    raise SystemExit(main())
