"""The ground-truth checks the nineteenth round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score, and what simple summaries of
one stream, of the two at the same moments, or of the two read against each other, say of it.

    python benchmarks/worlds_round19_truth_check.py
"""
import numpy as np
from scipy.stats import skew, spearmanr

from worlds_round7_truth_check import routines
from worlds_round18_truth_check import _corr


def _autocorr(x, k: int) -> float:
    x = x - x.mean()
    return float(np.mean(x[k:] * x[:-k]) / x.var())


def _pct(x) -> str:
    return ", ".join(f"{v:.2f}" for v in np.percentile(x, [5, 50, 95]))


def main() -> None:
    rows = routines("dynamics", 19)
    total = np.array([lab["total"] for _, lab, _ in rows])
    m = np.array([tr["disproportion"] for *_, tr in rows])
    term = -3.5 * m  # E's proportion term
    proportion = np.array([tr["proportion"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    music = [z["audio"][:, 17] for z, _, _ in rows]  # audio: the music's loudness
    move = [z["flow"][:, 10] for z, _, _ in rows]  # flow: the intensity of her movement
    sd_a, sd_f = np.array([x.std() for x in music]), np.array([x.std() for x in move])
    far_a = np.abs(np.log(sd_a) - np.median(np.log(sd_a)))  # one stream alone: how far its range is from the usual
    far_f = np.abs(np.log(sd_f) - np.median(np.log(sd_f)))
    level_a, level_f = np.array([x.mean() for x in music]), np.array([x.mean() for x in move])
    together = np.array([_corr(a, f) for a, f in zip(music, move)])  # the two at the same moments
    apart = np.array([np.abs(a - f).mean() for a, f in zip(music, move)])
    apart_c = np.array([np.abs((a - a.mean()) - (f - f.mean())).mean() for a, f in zip(music, move)])
    slope = np.array([np.polyfit(a, f, 1)[0] for a, f in zip(music, move)])  # hers on the music's, over the routine
    rule = np.array([abs(np.log(f.std() / a.std())) for a, f in zip(music, move)])
    travel = np.array([z["flow"][:, 6].std() for z, _, _ in rows])  # flow: her travel (unscored)
    highlights = np.array([z["audio"][:, 16].sum() for z, _, _ in rows])  # audio: the music's highlights
    print(f"dynamics: the proportion term is {np.var(term) / np.var(total):.0%} of the total's variance; a reader blind "
          f"to it ranks the total at {spearmanr(total, total - term)[0]:.2f}; the disproportion |log(her SD / the "
          f"music's SD)| {m.mean():.2f} (SD {m.std():.2f}; 5th, 50th, 95th percentiles {_pct(m)}), {term.mean():.2f} "
          f"points (SD {term.std():.2f}); correlation with proportion {_corr(term, proportion):.2f}, skill "
          f"{_corr(term, skill):.2f}; one stream alone: the music's range (audio, SD of its loudness) "
          f"{_corr(term, sd_a):.2f}, how far it is from the usual (|log SD - median|) {_corr(term, far_a):.2f}, her range "
          f"(flow) {_corr(term, sd_f):.2f}, how far from the usual {_corr(term, far_f):.2f}, the music's level "
          f"{_corr(term, level_a):.2f}, hers {_corr(term, level_f):.2f}; the two at the same moments: their correlation "
          f"{together.mean():.3f} for all (SD {together.std():.1e}), their mean |difference| {_corr(term, apart):.2f}, "
          f"with each level taken out {_corr(term, apart_c):.2f}; read against each other over the routine: "
          f"|log slope| of hers on the music's {_corr(term, np.abs(np.log(slope))):.2f}, the rule (|log| of the ratio of "
          f"the two SDs, from the latents) {_corr(term, -rule):.2f}; the other streams (unscored): her travel in flow "
          f"with the total {_corr(total, travel):.2f}, the music's highlights in audio {_corr(total, highlights):.2f}")

    rows = routines("power", 19)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    share = np.array([tr["share"] for *_, tr in rows])
    term = 2.5 * (share - 0.5)  # PCS's power term
    power = np.array([tr["power"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    speed = [z["flow"][:, 8] / 1.5 for z, _, _ in rows]  # flow: her speed
    mean_s = np.array([x.mean() for x in speed])  # read without order
    sd_s = np.array([x.std() for x in speed])
    top = np.array([x.max() for x in speed])
    skew_s = np.array([skew(x) for x in speed])
    change = np.array([np.mean(np.diff(x) ** 2) / 2 for x in speed])  # read in order, alike both ways in time
    ac = [np.array([_autocorr(x, k) for x in speed]) for k in (1, 2, 3)]
    rises = np.array([np.mean(np.diff(x) > 0) for x in speed])  # read in order, with time's direction
    skew_d = np.array([skew(np.diff(x)) for x in speed])
    rule = np.array([np.mean([x[a] - tr["level"] < 1e-9 for a, _ in tr["surges"]])  # a surge starting from its level
                     for x, (*_, tr) in zip(speed, rows)])
    backwards = max(abs(f(x) - f(x[::-1])) for x in speed for f in (np.std, lambda y: np.mean(np.diff(y) ** 2),
                                                                       lambda y: _autocorr(y, 1)))
    n_surges = np.array([len(tr["surges"]) for *_, tr in rows])
    highlights = np.array([z["audio"][:, 16].sum() for z, _, _ in rows])
    level = np.array([tr["level"] for *_, tr in rows])
    print(f"power: the power term is {np.var(term) / np.var(pcs):.0%} of PCS's variance; a reader blind to it ranks "
          f"PCS at {spearmanr(pcs, pcs - term)[0]:.2f}; the share of push-and-glide surges {share.mean():.2f} (SD "
          f"{share.std():.2f}; 5th, 50th, 95th percentiles {_pct(share)}; {n_surges.mean():.1f} surges a programme), "
          f"correlation with power {_corr(share, power):.2f}, skill {_corr(share, skill):.2f}, TES {_corr(share, tes):.2f}; "
          f"her speed (flow) read without order: its mean {_corr(share, mean_s):.2f}, SD {_corr(share, sd_s):.2f}, top "
          f"{_corr(share, top):.2f}, skewness {_corr(share, skew_s):.2f}; read in order but alike both ways in time "
          f"(the same on the course played backwards, to {backwards:.0e}): its change from one segment to the next "
          f"{_corr(share, change):.2f}, autocorrelation at 1, 2, 3 segments "
          f"{', '.join(f'{_corr(share, a):.2f}' for a in ac)}; the same against |share - 0.5| "
          f"{_corr(np.abs(share - 0.5), change):.2f}, {', '.join(f'{_corr(np.abs(share - 0.5), a):.2f}' for a in ac)}; "
          f"read with time's direction: the share of segments where the speed rises {_corr(share, rises):.2f}, the "
          f"skewness of its changes {_corr(share, skew_d):.2f}, each surge's start (the rule, from the latents) "
          f"{_corr(share, rule):.2f}; unscored: the music's highlights (audio) with PCS {_corr(pcs, highlights):.2f}, "
          f"her cruising level (flow) {_corr(pcs, level):.2f}")


if __name__ == "__main__":
    main()
