"""The ground-truth checks the ninth round of held-out worlds was written with (docs/worlds.md): no features are read
and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called directly),
and how large each world's judged term is against the rest of its score.

    python benchmarks/worlds_round9_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import CutsWorld
from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("cuts", 9)
    total = np.array([lab["total"] for _, lab, _ in rows])
    ded = np.array([CutsWorld.CUT * tr["cuts"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    counts = np.bincount([tr["cuts"] for *_, tr in rows], minlength=5)
    print(f"cuts: the music's cuts cost {np.var(ded) / np.var(total):.0%} of the total's variance; a reader blind to "
          f"them ranks the total at {spearmanr(total, total + ded)[0]:.2f}; routines with 0-4 cuts: {counts.tolist()}; "
          f"correlation with skill {np.corrcoef(ded, skill)[0, 1]:.2f}")
    rows = routines("edges", 9)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    together = np.array([tr["together"] for *_, tr in rows])
    jumps = np.array([np.mean([e["q"] for e in tr["elements"]]) for *_, tr in rows])  # RGB's execution
    lo, mid, hi = np.percentile(together, [5, 50, 95])
    print(f"edges: PCS ranked by lean and speed's correlation {spearmanr(pcs, together)[0]:.2f}, by RGB's mean jump "
          f"execution {spearmanr(pcs, jumps)[0]:.2f}; TES by it {spearmanr(tes, jumps)[0]:.2f}; the correlation's "
          f"5th, 50th, 95th percentiles {lo:.2f}, {mid:.2f}, {hi:.2f}")


if __name__ == "__main__":
    main()
