"""Is the held-out `landing` world learnable? Oracle rhos from the ground truth (no model), read after its one run.

For each draw's test videos, the Spearman rho with TES of (a) a perfect reader of what RGB shows (the sum over
jumps of value x (0.5 + q): the jump's type and execution) and (b) the full rule, which adds 0.6 x value for each
landing on a strong beat (flow's landing burst against audio's beat); (c) the number of jumps alone. With PCS:
(d) the correlation of the movement's energy (flow) with the music's intensity (audio) over the programme.
The jump values are the world's own (rebuilt from world.json, as `lmac benchmark` generated them).

    python benchmarks/worlds_landing_oracle.py HELDOUT/data/landing --seeds 1,2,3 [--split train] [--out FILE.json]
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from worlds_energy_oracle import built_world, oracle_main


def oracles(folder: Path, split: str = "test") -> dict:
    value = built_world(folder).value
    truth = json.loads((folder / "truth.json").read_text())
    rows = [line.split() for line in (folder / f"{split}.txt").read_text().splitlines() if line.strip()]
    tes, pcs = np.array([float(r[1]) for r in rows]), np.array([float(r[2]) for r in rows])
    els = [truth[r[0]]["elements"] for r in rows]
    rgb = [sum(value[e["type"]] * (0.5 + e["q"]) for e in es) for es in els]
    full = [sum(value[e["type"]] * (0.5 + e["q"] + 0.6 * e["on_beat"]) for e in es) for es in els]
    return {"tes_rgb_oracle": float(spearmanr(rgb, tes)[0]), "tes_full_oracle": float(spearmanr(full, tes)[0]),
            "tes_jump_count_rho": float(spearmanr([len(es) for es in els], tes)[0]),
            "pcs_energy_music_corr_rho": float(spearmanr([truth[r[0]]["corr"] for r in rows], pcs)[0]),
            "tes_clipped_at_45": float(np.mean(tes >= 45.0)), f"{split}_videos": len(rows)}


def main(argv=None) -> int:
    return oracle_main(__doc__, "HELDOUT/data/landing (holding seed{s}/)", oracles, lambda r: (
        f"TES RGB oracle {r['tes_rgb_oracle']:.3f}, full rule {r['tes_full_oracle']:.3f}, jump count alone "
        f"{r['tes_jump_count_rho']:.3f}, {r['tes_clipped_at_45']:.0%} of TES clipped at 45; PCS vs energy-music "
        f"correlation {r['pcs_energy_music_corr_rho']:.3f}"), argv)


if __name__ == "__main__":
    raise SystemExit(main())
