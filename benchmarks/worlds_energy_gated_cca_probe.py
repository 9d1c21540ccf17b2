"""A probe on `energy` (validation only; no test video is read): does a canonical correlation analysis of flow and
audio fitted on flow's key moments alone (the elements stand out in flow) read the music mismatch better than the
shared moments the ridge has, which are fitted on every segment (where, between elements, flow's energy is random)?

For each draw 1-3 in a benchmark folder: (1) how often flow's key moments (top third by salience in its first 16
principal components) are element segments (training videos' ground truth, a diagnostic); (2) the correlation of
mean |x - y| over the key moments with the true mean |energy - intensity| (training videos, in-sample) for the
all-segment pair (today's) and the key-moment pair; (3) the validation rho of today's ridge (key pooling; its five
input options rebuilt as in worlds_key_pool_probe.py) against the same with the key-moment pair's five features over
flow's key moments added to the options that read shared moments.

    PYTHONPATH=src:benchmarks python benchmarks/worlds_energy_gated_cca_probe.py DEV27 OUT.json [--gate rgb]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from lmac.evaluation.metrics import fisher_z_mean
from lmac.models.ridge import cca_features, cca_pair, cca_sides, key_gate, salience
from worlds_key_pool_probe import K, option_features, ridge_on_validation, unsupervised_fits, validation_draws


def gated_pair(train, gates):
    """The flow-audio canonical pair fitted on each training video's gated segments only."""
    return cca_pair([np.asarray(s.feats["flow"])[g] for s, g in zip(train.samples, gates)],
                    [np.asarray(s.feats["audio"])[g] for s, g in zip(train.samples, gates)], 64)


def main(root: Path, out: Path, gate_modality: str = "flow") -> None:
    """`gate_modality`: the modality whose key moments gate the pair (`--gate rgb`: RGB's)."""
    res = {}
    for task_name, seed, train, val, w, y, yv in validation_draws(root):
        if task_name != "world_energy":
            continue
        truth = json.loads((root / "data" / "energy" / f"seed{seed}" / "truth.json").read_text())
        proj8, projK, dirs = unsupervised_fits(train)
        gate = lambda s: key_gate(salience(s.feats[gate_modality], projK[gate_modality], K))  # noqa: E731
        g_train = [gate(s) for s in train.samples]
        hit, mism = [], []
        for s, g in zip(train.samples, g_train):
            el = np.zeros(len(g), bool)
            for e in truth[s.video_id]["elements"]:
                el[e["start"]:e["end"]] = True
            hit.append((g & el).sum() / max(g.sum(), 1))
            mism.append(np.mean([abs(e["energy"] - e["intensity"]) for e in truth[s.video_id]["elements"]]))
        pair = gated_pair(train, g_train)

        def keyed(ds, d):
            out = []
            for s in ds.samples:
                x, yy = cca_sides(s.feats, "flow", "audio", d)
                g = gate(s)
                out.append(cca_features(x[g], yy[g]))
            return np.stack(out)

        old_t, new_t = keyed(train, dirs[("flow", "audio")]), keyed(train, pair)
        row = {"gate_on_elements": round(float(np.mean(hit)), 3),
               "r_mismatch_all_segment_pair": round(float(np.corrcoef(old_t[:, 3], mism)[0, 1]), 3),
               "r_mismatch_key_moment_pair": round(float(np.corrcoef(new_t[:, 3], mism)[0, 1]), 3)}
        A_t, A_v = (option_features(ds, w, proj8, projK, dirs, True) for ds in (train, val))
        new_v = keyed(val, pair)
        B_t = {k: np.concatenate([v, new_t], 1) if k.endswith("_cca") else v for k, v in A_t.items()}
        B_v = {k: np.concatenate([v, new_v], 1) if k.endswith("_cca") else v for k, v in A_v.items()}
        for name, (Xt, Xv) in {"A": (A_t, A_v), "B": (B_t, B_v)}.items():
            row[name] = ridge_on_validation(Xt, Xv, y, yv, seed)
        res[f"{task_name}-s{seed}"] = row
        print(task_name, seed, row, flush=True)
    json.dump(res, open(out, "w"), indent=1)
    print("energy", {n: round(fisher_z_mean([r[n][3] for r in res.values()]), 3) for n in ("A", "B")})


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[sys.argv.index("--gate") + 1] if "--gate" in sys.argv else "flow")
