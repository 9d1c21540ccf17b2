"""What the nineteenth worlds candidate was looked at on before its rule (validation and training videos only): do the
shared moments (`lmac.models.ridge.cca_pool`) read better at a routine's key moments than over all its segments?

For each draw it reads the split of BENCH's `lmac_ensemble` run of `world_<WORLD>` (train / validation; no test
video), fits the canonical pairs of every two modalities (64 components) on the training videos, and gates each
video's segments by each modality's salience: the squared distance of a segment from the video's own mean over the
modality's first 16 principal components, whitened (`sal_`) or at their own scale (`salu_`); a video's top third by
salience are its key moments. It prints the validation rho of a ridge (penalty by the member's own 5-fold
cross-validation) on RGB's pooled features alone, with the shared moments, with the shared moments at each gate's
key moments and the rest (`gated_<gate>`), with all three whitened gates at once (`all3`), and, where the draw's
truth.json has elements, with the true element segments as the gate (`oracle`, an upper bound no model has). On
`energy` it also prints how well each gate's features read the true mean mismatch (a linear fit on the training
videos, in-sample r).

    python benchmarks/worlds_key_moments_probe.py BENCH WORLD [--seeds 1,2,3]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lmac.evaluation.metrics import spearman
from lmac.models.ridge import (cca_features, cca_pair, cca_sides, choose_by_cv, key_gate, pca_projection,
                               pool_video, project_segments, ridge_fit, ridge_predict)
from worlds_shared_moments_probe import validation_split


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", type=Path)
    ap.add_argument("world")
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args()
    for seed in map(int, args.seeds.split(",")):
        tr, va, y, yv = validation_split(args.bench, args.world, seed)
        w = int(tr.window)
        mods = list(tr.samples[0].feats)
        pairs = [(a, b) for i, a in enumerate(mods) for b in mods[i + 1:]]
        dirs = {p: cca_pair([s.feats[p[0]] for s in tr.samples], [s.feats[p[1]] for s in tr.samples], 64)
                for p in pairs}
        proj = {m: pca_projection(np.concatenate([np.asarray(s.feats[m], np.float64) for s in tr.samples]), 16)
                for m in mods}
        truth_file = args.bench / "data" / args.world / f"seed{seed}" / "truth.json"
        truth = json.loads(truth_file.read_text()) if truth_file.exists() else None

        def gates(s):
            out = {}
            for m in mods:
                p = project_segments(s.feats[m], proj[m], 16)
                for name, q in ((f"sal_{m}", p), (f"salu_{m}", p / np.linalg.norm(proj[m][2][:, :16], axis=0))):
                    out[name] = key_gate(((q - q.mean(0)) ** 2).sum(1))
            if truth is not None and "elements" in truth[s.video_id]:
                g = np.zeros(len(s.feats[mods[0]]), bool)
                for e in truth[s.video_id]["elements"]:
                    g[e["start"]:e["end"]] = True
                out["oracle"] = g
            return out

        def features(s):
            sides = [cca_sides(s.feats, a, b, d) for (a, b), d in dirs.items()]
            gated = {k: np.concatenate([np.r_[cca_features(x[g], yy[g]), cca_features(x[~g], yy[~g])]
                                        for x, yy in sides]) for k, g in gates(s).items()}
            return np.concatenate([cca_features(x, yy) for x, yy in sides]), gated

        F, Fv = [features(s) for s in tr.samples], [features(s) for s in va.samples]
        rgb, rgbv = (np.stack([pool_video(s.feats, ("rgb",), w) for s in ds.samples]) for ds in (tr, va))
        sh, shv = np.stack([f[0] for f in F]), np.stack([f[0] for f in Fv])

        def val(X, Xv):
            _, lam = choose_by_cv({"x": X}, y, seed)
            return round(spearman(ridge_predict(ridge_fit(X, y, lam), Xv), yv), 3)

        def gated(keys, FF):
            return np.stack([np.concatenate([f[1][k] for k in keys]) for f in FF])

        row = {"seed": seed, "rgb": val(rgb, rgbv), "rgb+shared": val(np.c_[rgb, sh], np.c_[rgbv, shv])}
        for pre in ("sal_", "salu_"):
            keys = [f"{pre}{m}" for m in mods]
            row[f"rgb+shared+gated_all3_{pre}"] = val(np.c_[rgb, sh, gated(keys, F)], np.c_[rgbv, shv, gated(keys, Fv)])
        mism = None
        if truth is not None and args.world == "energy":
            mism = np.array([np.mean([abs(e["energy"] - e["intensity"]) for e in truth[s.video_id]["elements"]])
                             for s in tr.samples])
        for k in [f"sal_{m}" for m in mods] + (["oracle"] if "oracle" in F[0][1] else []):
            G, Gv = gated([k], F), gated([k], Fv)
            row[f"rgb+shared+gated_{k}"] = val(np.c_[rgb, sh, G], np.c_[rgbv, shv, Gv])
            if mism is not None:
                Z = np.c_[G, np.ones(len(G))]
                fit = np.linalg.lstsq(Z, mism, rcond=None)[0]
                row[f"reads_mismatch_r_{k}"] = round(float(np.corrcoef(Z @ fit, mism)[0, 1]), 3)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
