"""The ground-truth checks the eleventh round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score.

    python benchmarks/worlds_round11_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import RotationsWorld, StaminaWorld
from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("stamina", 11)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    fade = np.array([StaminaWorld.FADE * tr["fade"] for *_, tr in rows])  # PCS's cost of fading
    level = np.array([tr["level"] for *_, tr in rows])  # the mean speed, which pooled flow shows
    print(f"stamina: the fade is {np.var(fade) / np.var(pcs):.0%} of PCS's variance; a reader blind to it ranks PCS at "
          f"{spearmanr(pcs, pcs + fade)[0]:.2f}; PCS ranked by the mean speed {spearmanr(pcs, level)[0]:.2f}, by the "
          f"fade alone {spearmanr(pcs, -fade)[0]:.2f}; fade's 5th, 50th, 95th percentiles "
          f"{', '.join(f'{v:.2f}' for v in np.percentile(fade / StaminaWorld.FADE, [5, 50, 95]))}")
    rows = routines("rotations", 11)
    total = np.array([lab["total"] for _, lab, _ in rows])
    under = np.array([tr["under_flight"] for *_, tr in rows])
    every = under + np.array([len(tr["pivots"]) for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    bonus = RotationsWorld.ROTATION * under
    print(f"rotations: the rotations under flights are {np.var(bonus) / np.var(total):.0%} of the total's variance; a "
          f"reader blind to them ranks the total at {spearmanr(total, total - bonus)[0]:.2f}; the total ranked by the "
          f"rotations under flights {spearmanr(total, under)[0]:.2f}, by every rotation {spearmanr(total, every)[0]:.2f}; "
          f"rotations under flights 0-{under.max()}: {np.bincount(under).tolist()}; correlation with skill "
          f"{np.corrcoef(under, skill)[0, 1]:.2f}")


if __name__ == "__main__":
    main()
