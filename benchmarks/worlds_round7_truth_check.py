"""The ground-truth checks the seventh round of held-out worlds was written with (docs/worlds.md): no features are read
and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called directly),
and how large each world's judged cross-modal term is against the rest of its score.

    python benchmarks/worlds_round7_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import build_world, world_config


def routines(name: str, round_no: int = 7, n: int = 300):
    """n routines of a held-out world from a draw no run uses (seed 100), each from its own generator keyed by round."""
    world = build_world(world_config(name, seed=100))
    return [world.make(np.random.default_rng([100, round_no, i])) for i in range(n)]


def main() -> None:
    rows = routines("climax")
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    term = np.array([3 * tr["match"] for *_, tr in rows])  # PCS's climax term
    skill = np.array([tr["skill"] for *_, tr in rows])
    print(f"climax: the climax term is {np.var(term) / np.var(pcs):.0%} of PCS's variance; a reader blind to it ranks "
          f"PCS at {spearmanr(pcs, pcs - term)[0]:.2f}; match {term.mean() / 3:.2f} on average (SD {(term / 3).std():.2f}), "
          f"correlation with skill {np.corrcoef(term, skill)[0, 1]:.2f}")
    rows = routines("balances")
    total = np.array([lab["total"] for _, lab, _ in rows])
    ded = np.array([0.8 * tr["swaying"] for *_, tr in rows])  # the sway deductions
    n_bal = np.mean([sum(e["kind"] == "balance" for e in tr["elements"]) for *_, tr in rows])
    flow = np.array([z["flow"][:, 6].mean() for z, _, _ in rows])  # the body's movement over the routine
    print(f"balances: the sway deductions are {np.var(ded) / np.var(total):.0%} of the total's variance; a reader blind "
          f"to them ranks the total at {spearmanr(total, total + ded)[0]:.2f}; {n_bal:.1f} balances a routine, "
          f"{ded.mean():.2f} points on average; the routine's mean movement (flow) correlates "
          f"{np.corrcoef(flow, ded)[0, 1]:.2f} with them")


if __name__ == "__main__":
    main()
