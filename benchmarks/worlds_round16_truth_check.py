"""The ground-truth checks the sixteenth round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score, and what simple summaries of
one stream, or of the wrong moments, say of it.

    python benchmarks/worlds_round16_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from worlds_round7_truth_check import routines


def main() -> None:
    rows = routines("flights", 16)
    total = np.array([lab["total"] for _, lab, _ in rows])
    term = np.array([tr["risk_value"] for *_, tr in rows])
    under = np.array([tr["under_flight"] for *_, tr in rows])
    daring = np.array([tr["daring"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    risks = [k for *_, tr in rows for k in tr["risks"]]
    n_rot = np.array([sum(len(k["rotations"]) for k in tr["risks"]) for *_, tr in rows])  # RGB alone: every rotation
    n_fl = np.array([len(tr["risks"]) for *_, tr in rows])  # flow alone: how many flights
    flying = np.array([sum(k["end"] - k["start"] for k in tr["risks"]) for *_, tr in rows])  # flow alone: how long
    flow = np.array([z["flow"][:, 7].mean() for z, _, _ in rows])  # flow alone: the hoop's mean motion
    near = np.array([sum(k["start"] - 1 <= r <= k["end"] for k in tr["risks"] for r in k["rotations"])
                     for *_, tr in rows])  # the rotations inside a flight or a segment from it
    room = np.array([sum(min(len(k["rotations"]), k["end"] - k["start"]) for k in tr["risks"])
                     for *_, tr in rows])  # both streams' counts: the most each flight could hold
    print(f"flights: the risks' rotations under flights are {np.var(term) / np.var(total):.0%} of the total's variance; "
          f"a reader blind to them ranks the total at {spearmanr(total, total - term)[0]:.2f}; {under.mean():.1f} of "
          f"{n_rot.mean():.1f} rotations a routine under a flight, {term.mean():.2f} points (SD {term.std():.2f}); "
          f"{np.mean([k['value'] == 0 for k in risks]):.0%} of risks not valid (fewer than 2 under the flight); "
          f"correlation with daring {np.corrcoef(term, daring)[0, 1]:.2f}, skill {np.corrcoef(term, skill)[0, 1]:.2f}; "
          f"what one stream alone shows of it: the rotations (RGB) {np.corrcoef(term, n_rot)[0, 1]:.2f}, the flights "
          f"(flow) {np.corrcoef(term, n_fl)[0, 1]:.2f}, their segments {np.corrcoef(term, flying)[0, 1]:.2f}, the "
          f"hoop's mean motion {np.corrcoef(term, flow)[0, 1]:.2f}; both streams' counts (the rotations each flight "
          f"could hold) {np.corrcoef(term, room)[0, 1]:.2f}; the rotations inside a flight or a segment from it "
          f"{np.corrcoef(term, near)[0, 1]:.2f}; the rotations inside {np.corrcoef(term, under)[0, 1]:.2f}")
    rows = routines("bonus", 16)
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    bonus = np.array([tr["bonus"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    els = [tr["elements"] for *_, tr in rows]
    late = np.array([sum(e["second_half"] for e in es) for es in els])  # RGB, when: the jumps after the halfway mark
    late_big = np.array([sum(e["second_half"] and e["big"] for e in es) for es in els])
    content = np.array([sum(e["value"] for e in es) for es in els])  # RGB, not when: the jumps' base values
    cue = np.array([z["rgb"][:, 25].mean() for z, _, _ in rows])  # RGB's value cue over the whole programme
    order = np.array([spearmanr([e["value"] for e in es], np.arange(len(es)))[0] for es in els])  # big jumps late
    edge = np.mean([any(abs(e["start"] - tr["T"] / 2) <= 2 for e in tr["elements"]) for *_, tr in rows])
    flow = np.array([z["flow"][:, 6].mean() for z, _, _ in rows])  # flow: her speed
    audio = np.array([z["audio"][:, 16].sum() for z, _, _ in rows])  # audio: the music's highlights
    print(f"bonus: the second half's bonus is {np.var(bonus) / np.var(tes):.0%} of TES's variance (a reader blind to it "
          f"ranks TES at {spearmanr(tes, tes - bonus)[0]:.2f}); {bonus.mean():.2f} points on average (SD "
          f"{bonus.std():.2f}), {late.mean():.1f} of 7 jumps late ({np.mean(late_big == 0):.0%} of skaters with no big "
          f"jump late, {np.mean(late_big == 3):.0%} with all three; a jump starting within two segments of the halfway "
          f"mark in {edge:.0%} of programmes); correlation with skill "
          f"{np.corrcoef(bonus, skill)[0, 1]:.2f}, with TES less the bonus {np.corrcoef(bonus, tes - bonus)[0, 1]:.2f}; "
          f"what RGB shows of it, reading when: the jumps after the halfway mark {np.corrcoef(bonus, late)[0, 1]:.2f}, "
          f"the big ones {np.corrcoef(bonus, late_big)[0, 1]:.2f}, the values against their order in time "
          f"{np.corrcoef(bonus, order)[0, 1]:.2f}; not reading when: the jumps' base values summed "
          f"{np.corrcoef(bonus, content)[0, 1]:.2f}, RGB's value cue over the programme {np.corrcoef(bonus, cue)[0, 1]:.2f}; "
          f"the other streams (unscored: extra modalities must not help): her speed in flow with TES "
          f"{np.corrcoef(tes, flow)[0, 1]:.2f} and PCS {np.corrcoef(pcs, flow)[0, 1]:.2f}, the music's highlights in "
          f"audio with TES {np.corrcoef(tes, audio)[0, 1]:.2f} and PCS {np.corrcoef(pcs, audio)[0, 1]:.2f}; PCS with "
          f"the bonus {np.corrcoef(pcs, bonus)[0, 1]:.2f}")


if __name__ == "__main__":
    main()
