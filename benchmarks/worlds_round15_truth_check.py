"""The ground-truth checks the fifteenth round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score, and what simple summaries of
one stream, or of two at the wrong moments, say of it.

    python benchmarks/worlds_round15_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from lmac.data.worlds import PlacementWorld, SeamsWorld
from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("seams", 15)
    total = np.array([lab["total"] for _, lab, _ in rows])
    seams = np.array([tr["seams"] for *_, tr in rows])
    ded = SeamsWorld.SEAM * seams
    musical = np.array([tr["musical"] for *_, tr in rows])
    bounds = np.array([len(tr["boundaries"]) for *_, tr in rows])  # the music alone: how many phrases
    per_seg = np.array([len(tr["boundaries"]) / tr["T"] for *_, tr in rows])
    n_el = np.array([len(tr["elements"]) for *_, tr in rows])
    near = np.array([sum(any(b in (e["start"] - 1, e["start"], e["end"], e["end"] + 1) for e in tr["elements"])
                         for b in tr["boundaries"]) for *_, tr in rows])  # a seam at an element's edge or a segment from it
    print(f"seams: the elements across a seam are {np.var(ded) / np.var(total):.0%} of the total's variance; a reader "
          f"blind to them ranks the total at {spearmanr(total, total + ded)[0]:.2f}; {seams.mean():.1f} a routine (0: "
          f"{np.mean(seams == 0):.0%}, 2 or more: {np.mean(seams >= 2):.0%}), correlation with musicality "
          f"{np.corrcoef(seams, musical)[0, 1]:.2f}; what one stream alone shows of them: the phrase boundaries "
          f"{np.corrcoef(seams, bounds)[0, 1]:.2f} (a segment {np.corrcoef(seams, per_seg)[0, 1]:.2f}), the elements "
          f"{np.corrcoef(seams, n_el)[0, 1]:.2f}; the seams at an element's edges or a segment from them "
          f"{np.corrcoef(seams, near)[0, 1]:.2f}")
    rows = routines("placement", 15)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    match = np.array([tr["match"] for *_, tr in rows])
    term = PlacementWorld.PLACE * match
    skill = np.array([tr["skill"] for *_, tr in rows])
    value = [np.array([e["value"] for e in tr["elements"]]) for *_, tr in rows]
    heard = [np.array([z["audio"][e["start"]:e["end"], 17].mean() for e in tr["elements"]]) for z, _, tr in rows]
    weighted = np.array([np.mean((v - v.mean()) * (i - i.mean())) for v, i in zip(value, heard)])  # both at once
    in_time = np.array([spearmanr(v, np.arange(len(v)))[0] for v in value])  # RGB alone: big jumps late or early
    loud = np.array([i.mean() for i in heard])  # audio at the jumps, whichever jump
    spread = np.array([z["audio"][:, 17].std() for z, _, _ in rows])  # audio alone: how much the music varies
    print(f"placement: the placement term is {np.var(term) / np.var(pcs):.0%} of PCS's variance (a reader blind to it "
          f"ranks PCS at {spearmanr(pcs, pcs - term)[0]:.2f}); the rank correlation {match.mean():.2f} on average (SD "
          f"{match.std():.2f}), correlation with skill {np.corrcoef(match, skill)[0, 1]:.2f}; what the streams show of "
          f"it: the jumps' values times the music under them {np.corrcoef(match, weighted)[0, 1]:.2f}, the values "
          f"against their order in time {np.corrcoef(match, in_time)[0, 1]:.2f}, the music's mean under the jumps "
          f"{np.corrcoef(match, loud)[0, 1]:.2f}, its spread {np.corrcoef(match, spread)[0, 1]:.2f}, TES "
          f"{np.corrcoef(match, tes)[0, 1]:.2f}")


if __name__ == "__main__":
    main()
