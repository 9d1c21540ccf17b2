"""md5 of one generated draw, made afresh from its world.json by whatever `lmac` is first on PYTHONPATH: every
video's labels and the first N videos' features. Two commits (or two machines) that print the same hashes generate
the same draw, so a rerun that does not repeat a round's figures can be told apart from other data.

    PYTHONPATH=WORKTREE/src python benchmarks/worlds_draw_hash.py FOLDER/data/glide/seed1/world.json [--features 5]
"""
import argparse
import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from lmac.data import worlds as W


def draw_hashes(world_json, n_features: int = 5) -> dict:
    """{"world", "seed", "labels": md5, "features_first_N": md5}. Label values are hashed by their repr, so compare
    hashes made in one environment (one numpy), as when two worktrees share a virtual environment."""
    path = Path(world_json)
    if not path.is_file():
        raise SystemExit(f"{path}: no such world.json (give DIR/data/WORLD/seed{{s}}/world.json of a generated draw)")
    cfgd = json.loads(path.read_text())
    known = {f.name for f in dataclasses.fields(W.WorldConfig)}
    cfg = W.WorldConfig(**{k: v for k, v in cfgd.items() if k in known})
    world = W.build_world(cfg)
    h_labels, h_features = hashlib.md5(), hashlib.md5()
    for i in range(cfg.n_train + cfg.n_test):
        rng = np.random.default_rng([cfg.seed, W._world_seed(cfg.world), 2, i])  # as generate_world draws video i
        if isinstance(world, W.RGWorld):
            feats, labels, _ = world.make(rng)
        else:
            z, labels, _ = world.make(rng)
            feats = world.features(z, rng) if i < n_features else None
        h_labels.update(repr(sorted(labels.items())).encode())
        if i < n_features:
            for k in sorted(feats):
                h_features.update(np.ascontiguousarray(feats[k]).tobytes())
    return {"world": cfg.world, "seed": cfg.seed, "labels": h_labels.hexdigest(),
            f"features_first_{n_features}": h_features.hexdigest()}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("world_json")
    ap.add_argument("--features", type=int, default=5, help="how many videos' features to hash (default 5)")
    a = ap.parse_args()
    print(json.dumps(draw_hashes(a.world_json, a.features)))
