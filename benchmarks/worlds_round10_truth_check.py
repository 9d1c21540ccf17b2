"""The ground-truth checks the tenth round of held-out worlds was written with (docs/worlds.md): no features are read
and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called directly),
and how large each world's judged term is against the rest of its score.

    python benchmarks/worlds_round10_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import EntriesWorld, SpaceWorld
from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("entries", 10)
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    bonus = np.array([sum(EntriesWorld.BONUS * e["value"] for e in tr["elements"] if e["entry"]) for *_, tr in rows])
    entered = np.array([tr["entered"] for *_, tr in rows])
    elsewhere = np.array([len(tr["footwork_elsewhere"]) for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    jumps = np.array([np.mean([e["q"] for e in tr["elements"]]) for *_, tr in rows])  # RGB's execution
    print(f"entries: the entry bonuses are {np.var(bonus) / np.var(tes):.0%} of TES's variance; a reader blind to them "
          f"ranks TES at {spearmanr(tes, tes - bonus)[0]:.2f}; PCS ranked by the jumps entered from footwork "
          f"{spearmanr(pcs, entered)[0]:.2f}, by all the footwork (entries and elsewhere) "
          f"{spearmanr(pcs, entered + elsewhere)[0]:.2f}, by RGB's mean jump execution {spearmanr(pcs, jumps)[0]:.2f}, "
          f"by skill {spearmanr(pcs, skill)[0]:.2f}; jumps entered 0-7: {np.bincount(entered, minlength=8).tolist()}")
    rows = routines("space", 10)
    total = np.array([lab["total"] for _, lab, _ in rows])
    ded = np.array([SpaceWorld.LEVEL * tr["missing_levels"] + SpaceWorld.DIRECTION * tr["missing_directions"]
                    for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    levels = np.bincount([tr["missing_levels"] for *_, tr in rows], minlength=3)
    directions = np.bincount([tr["missing_directions"] for *_, tr in rows], minlength=4)
    print(f"space: the unused levels and directions cost {np.var(ded) / np.var(total):.0%} of the total's variance; a "
          f"reader blind to them ranks the total at {spearmanr(total, total + ded)[0]:.2f}; routines missing 0-2 "
          f"levels: {levels.tolist()}, 0-3 directions: {directions.tolist()}; correlation with skill "
          f"{np.corrcoef(ded, skill)[0, 1]:.2f}")


if __name__ == "__main__":
    main()
