"""The ground-truth checks the fourteenth round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score, and what simple summaries of
the stream that shows it say of it.

    python benchmarks/worlds_round14_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import StaticWorld, UnisonWorld
from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("static", 14)
    total = np.array([lab["total"] for _, lab, _ in rows])
    holds = np.array([tr["holds"] for *_, tr in rows])
    ded = StaticWorld.HOLD * holds
    still = np.array([sum(n for _, n in tr["stills"]) for *_, tr in rows])  # still segments
    share = np.array([s / tr["T"] for s, (*_, tr) in zip(still, rows)])
    onsets = np.array([len(tr["stills"]) for *_, tr in rows])
    print(f"static: the long holds are {np.var(ded) / np.var(total):.0%} of the total's variance; a reader blind to "
          f"them ranks the total at {spearmanr(total, total + ded)[0]:.2f}; {holds.mean():.1f} long holds a routine "
          f"(0: {np.mean(holds == 0):.0%}, 3 or more: {np.mean(holds >= 3):.0%}); what counts of stillness show of "
          f"them: still segments {np.corrcoef(holds, still)[0, 1]:.2f}, their share of the routine "
          f"{np.corrcoef(holds, share)[0, 1]:.2f}, how many stills {np.corrcoef(holds, onsets)[0, 1]:.2f}")
    rows = routines("unison", 14)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    u = np.array([tr["unison"] for *_, tr in rows])
    term = UnisonWorld.UNISON * (u - 0.575)
    skill = np.array([tr["skill"] for *_, tr in rows])
    a = [z["rgb"][:, 26:30] for z, _, _ in rows]
    b = [z["rgb"][:, 30:34] for z, _, _ in rows]
    prod = np.array([np.mean(x * y) for x, y in zip(a, b)])  # the two partners together, moment by moment
    spread = np.array([np.std(y) for y in b])
    mean2 = np.array([np.abs(y.mean(0)).mean() for y in b])
    lagged = np.array([np.mean(x[:-5] * y[5:]) for x, y in zip(a, b)])  # five segments apart: not in unison
    print(f"unison: the unison term is {np.var(term) / np.var(pcs):.0%} of PCS's variance (a reader blind to it ranks "
          f"PCS at {spearmanr(pcs, pcs - term)[0]:.2f}); unison {u.mean():.2f} on average (SD {u.std():.2f}), "
          f"correlation with skill {np.corrcoef(u, skill)[0, 1]:.2f}; what the partners' latent movement shows of it: "
          f"the product at the same moment {np.corrcoef(u, prod)[0, 1]:.2f}, five segments apart "
          f"{np.corrcoef(u, lagged)[0, 1]:.2f}, the second partner's spread {np.corrcoef(u, spread)[0, 1]:.2f}, "
          f"|mean| {np.corrcoef(u, mean2)[0, 1]:.2f}")


if __name__ == "__main__":
    main()
