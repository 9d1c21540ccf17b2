"""The ground-truth checks the twelfth round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score.

    python benchmarks/worlds_round12_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import FallsWorld, LagWorld
from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("lag", 12)
    total = np.array([lab["total"] for _, lab, _ in rows])
    late = np.array([LagWorld.LATE * tr["lateness"] for *_, tr in rows])  # E's cost of marking late
    lags = np.array([tr["lag"] for *_, tr in rows])
    marks = np.array([len(tr["accents"]) for *_, tr in rows])
    print(f"lag: lateness is {np.var(late) / np.var(total):.0%} of the total's variance; a reader blind to it ranks the "
          f"total at {spearmanr(total, total + late)[0]:.2f}; the total ranked by the lateness {spearmanr(total, -late)[0]:.2f}, "
          f"by how many accents are marked {spearmanr(total, -marks)[0]:.2f}; lags 0-3: {np.bincount(lags, minlength=4).tolist()}")
    rows = routines("falls", 12)
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    falls = np.array([tr["falls"] for *_, tr in rows])
    cost = np.array([sum(e["value"] * (0.5 + e["q"]) - e["points"] for e in tr["elements"]) for *_, tr in rows])
    print(f"falls: the falls cost {np.var(cost) / np.var(tes):.0%} of TES's variance (a reader blind to them ranks TES at "
          f"{spearmanr(tes, tes + cost)[0]:.2f}) and {np.var(FallsWorld.FALL_PCS * falls) / np.var(pcs):.0%} of PCS's "
          f"(blind: {spearmanr(pcs, pcs + FallsWorld.FALL_PCS * falls)[0]:.2f}); falls per programme 0-{falls.max()}: "
          f"{np.bincount(falls).tolist()}")


if __name__ == "__main__":
    main()
