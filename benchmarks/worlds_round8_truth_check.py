"""The ground-truth checks the eighth round of held-out worlds was written with (docs/worlds.md): no features are read
and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called directly),
and how large each world's judged term is against the rest of its score.

    python benchmarks/worlds_round8_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import MotifsWorld
from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("motifs", 8)
    total = np.array([lab["total"] for _, lab, _ in rows])
    ded = np.array([MotifsWorld.UNANSWERED * tr["unanswered"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    counts = np.bincount([tr["unanswered"] for *_, tr in rows], minlength=4)
    print(f"motifs: the unanswered themes cost {np.var(ded) / np.var(total):.0%} of the total's variance; a reader "
          f"blind to them ranks the total at {spearmanr(total, total + ded)[0]:.2f}; routines with 0-3 unanswered: "
          f"{counts.tolist()}; correlation with skill {np.corrcoef(ded, skill)[0, 1]:.2f}")
    rows = routines("glide", 8)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    glide = np.array([tr["glide"] for *_, tr in rows])
    stumbles = np.array([tr["stumbles"] for *_, tr in rows])
    speed = np.array([z["flow"][:, 6].mean() for z, _, _ in rows])  # flow's speed over the programme
    jumps = np.array([np.mean([e["q"] for e in tr["elements"]]) for *_, tr in rows])  # RGB's execution
    print(f"glide: PCS ranked by flow's mean speed {spearmanr(pcs, speed)[0]:.2f}, by glide itself "
          f"{spearmanr(pcs, glide)[0]:.2f}, by RGB's mean jump execution {spearmanr(pcs, jumps)[0]:.2f}; TES by it "
          f"{spearmanr(tes, jumps)[0]:.2f}; stumbles {stumbles.mean():.2f} a programme ({np.bincount(stumbles).tolist()})")


if __name__ == "__main__":
    main()
