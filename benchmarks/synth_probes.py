"""Linear probes on the synthetic benchmark: how much of the score is readable, and from where.

Ridge regression (closed form) from time-averaged features, and from features averaged over the
true key-element segments only (an oracle for "where"), per modality set. Also reports, for a
trained run, how much attention mass each modality puts on the true element segments.

    python benchmarks/synth_probes.py DATA_DIR [--cls Ball] [--run RUN_DIR] [--out probes.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from lmac.data.features import NativeStore
from lmac.data.labels import read_rg_labels


def _load(root: Path, split: str, cls: str, store, truth):
    rows = [r for r in read_rg_labels(root / f"{split}.txt") if r.cls == cls]
    pooled = {m: [] for m in store.modalities}
    elem = {m: [] for m in store.modalities}
    y = []
    for r in rows:
        f = store.load(r.video_id)
        idx = np.concatenate([np.arange(e["start"], e["end"]) for e in truth[r.video_id]["elements"]])
        for m in store.modalities:
            pooled[m].append(f[m].mean(0))
            elem[m].append(f[m][idx].mean(0))
        y.append(r.scores["total"])
    return {m: np.array(v) for m, v in pooled.items()}, {m: np.array(v) for m, v in elem.items()}, np.array(y)


def ridge_rho(A, b, At, bt, lam):
    mu, sd = A.mean(0), A.std(0) + 1e-6
    A, At = (A - mu) / sd, (At - mu) / sd
    w = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ (b - b.mean()))
    return float(spearmanr(At @ w + b.mean(), bt).statistic)


def attention_on_elements(run_dir, data_dir, cls):
    import torch

    from lmac.config import TrainConfig
    from lmac.data.dataset import collate_sequences
    from lmac.data.tasks import get_task
    from lmac.training.trainer import load_run_model, prepare_data

    model, meta = load_run_model(run_dir)
    task = get_task(meta["task"])
    _, _, test = prepare_data(TrainConfig(task=task.name, features=str(Path(data_dir) / "features"), labels=str(data_dir),
                                          val_fraction=0), task)
    truth = json.loads((Path(data_dir) / "truth.json").read_text())
    batch = collate_sequences([test[i] for i in range(len(test))])
    with torch.no_grad():
        out = model(batch["feats"], batch["mask"])
    res = {}
    for m, a in out.get("attn", {}).items():
        mass, chance = [], []
        for i, vid in enumerate(batch["video_id"]):
            T = int(batch["mask"][i].sum())
            el = np.zeros(a.shape[-1], bool)
            for e in truth[vid]["elements"]:
                el[e["start"]:e["end"]] = True
            mass.append(float(a[i, :, el].sum(-1).mean()))
            chance.append(float(el[:T].mean()))
        res[m] = {"mass_on_elements": float(np.mean(mass)), "chance": float(np.mean(chance))}
    return res


def cue_salience(synth_json: Path, n_videos: int = 40) -> dict:
    """How far a music highlight (audio) and a movement accent (flow) move the features at their
    peak, as a fraction of an ordinary segment-to-segment step of that modality (median norm of
    consecutive differences). Below ~0.5 the "highlight" does not stand out of the music."""
    from lmac.data.synthetic import ACCENT_DIMS, LATENT, SynthConfig, _routine, _World, highlight_dims, video_rng

    saved = json.loads(Path(synth_json).read_text())
    fields = set(SynthConfig.__dataclass_fields__)
    cfg = SynthConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in fields})
    world = _World(cfg, np.random.default_rng(cfg.seed))  # the generator's first draws: the same projections
    cls = cfg.classes[0]
    steps = {"audio": [], "flow": []}
    for i in range(n_videos):
        feats = _routine(cfg, world, cls, video_rng(cfg, cls, i))[0]
        for m in steps:
            steps[m] += list(np.linalg.norm(np.diff(feats[m], axis=0), axis=1))
    event = {"audio": (highlight_dims(cfg), cfg.highlight_amp), "flow": (ACCENT_DIMS, cfg.accent_amp)}  # latent dims, height
    out = {}
    for m, (dims, height) in event.items():
        z = np.zeros(LATENT[m])
        z[dims] = height
        out[m] = float(np.linalg.norm(z @ world.proj[m]) / np.median(steps[m]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--cls", default="Ball")
    ap.add_argument("--run")
    ap.add_argument("--out")
    args = ap.parse_args()
    root = Path(args.data)
    store = NativeStore(root / "features")
    truth = json.loads((root / "truth.json").read_text())
    Ptr, Etr, ytr = _load(root, "train", args.cls, store, truth)
    Pte, Ete, yte = _load(root, "test", args.cls, store, truth)
    result = {"cls": args.cls, "probes": {}}
    sets = {"rgb": ["rgb"], "all": list(store.modalities)}
    for name, mods in sets.items():
        for where, (A, At) in {"pooled": (Ptr, Pte), "element_pooled": (Etr, Ete)}.items():
            key = f"{where}_{name}"
            rhos = {lam: ridge_rho(np.hstack([A[m] for m in mods]), ytr, np.hstack([At[m] for m in mods]), yte, lam)
                    for lam in (1, 10, 100, 1000)}
            result["probes"][key] = rhos
            print(f"ridge {key:22s} " + "  ".join(f"lam={k}: {v:.3f}" for k, v in rhos.items()))
    result["salience"] = cue_salience(root / "synth.json")
    print("cue salience (peak shift / ordinary segment step): " + "  ".join(f"{m} {v:.2f}" for m, v in result["salience"].items()))
    if args.run:
        result["attention"] = attention_on_elements(args.run, root, args.cls)
        for m, v in result["attention"].items():
            print(f"attention {m}: {v['mass_on_elements']:.2f} of its mass on key elements (chance {v['chance']:.2f})")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
