"""The ground-truth checks the thirteenth round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score.

    python benchmarks/worlds_round13_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import ContourWorld, CoverageWorld
from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("contour", 13)
    total = np.array([lab["total"] for _, lab, _ in rows])
    ded = np.array([ContourWorld.AGAINST * tr["against"] for *_, tr in rows])  # E's cost of moving against the line
    n_el = np.array([len(tr["elements"]) for *_, tr in rows])
    with_line = np.mean([e["with_melody"] for *_, tr in rows for e in tr["elements"]])
    print(f"contour: moving against the melody is {np.var(ded) / np.var(total):.0%} of the total's variance; a reader "
          f"blind to it ranks the total at {spearmanr(total, total + ded)[0]:.2f}; the deduction alone ranks it at "
          f"{spearmanr(total, -ded)[0]:.2f}; {n_el.mean():.1f} elements a routine, {with_line:.0%} of them with the line")
    rows = routines("coverage", 13)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    cov = np.array([tr["coverage"] for *_, tr in rows])
    term = CoverageWorld.COVER * (cov - 0.5)
    skill = np.array([tr["skill"] for *_, tr in rows])
    speed = np.array([np.linalg.norm(z["flow"][:, 8:10], axis=1).mean() for z, _, _ in rows])  # mean |velocity|
    drift = np.array([np.linalg.norm(z["flow"][:, 8:10].mean(0)) for z, _, _ in rows])  # |mean velocity|
    turns = np.array([np.mean(np.sum(np.diff(z["flow"][:, 8:10], axis=0) ** 2, 1) > 1e-9) for z, _, _ in rows])
    print(f"coverage: the coverage term is {np.var(term) / np.var(pcs):.0%} of PCS's variance (a reader blind to it "
          f"ranks PCS at {spearmanr(pcs, pcs - term)[0]:.2f}); coverage {cov.mean():.2f} on average (SD {cov.std():.2f}), "
          f"correlation with skill {np.corrcoef(cov, skill)[0, 1]:.2f}; what pooled velocity shows of it: mean |velocity| "
          f"{np.corrcoef(cov, speed)[0, 1]:.2f}, |mean velocity| {np.corrcoef(cov, drift)[0, 1]:.2f}, how often she turns "
          f"{np.corrcoef(cov, turns)[0, 1]:.2f}")

if __name__ == "__main__":
    main()
