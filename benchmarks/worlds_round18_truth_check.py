"""The ground-truth checks the eighteenth round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score, and what simple summaries of
one stream, or of the two at the same moments, say of it.

    python benchmarks/worlds_round18_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from worlds_round7_truth_check import routines


def _corr(a, b) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _phase(x) -> np.ndarray:
    """A pulse's phase from its latent cosine and sine (T, 2), unwrapped along time."""
    return np.unwrap(np.arctan2(x[:, 1], x[:, 0]))


def main() -> None:
    rows = routines("fluency", 18)
    total = np.array([lab["total"] for _, lab, _ in rows])
    jerk = np.array([tr["jerkiness"] for *_, tr in rows])
    term = -3.0 * jerk  # E's fluency term
    fluency = np.array([tr["fluency"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    T = np.array([tr["T"] for *_, tr in rows])
    lines = [z["rgb"][:, 26:32] / 1.5 for z, _, _ in rows]
    # RGB read without order: the sorted values are the same for every routine of a length
    same = max(np.abs(np.sort(x, 0) - np.sort(y, 0)).max() for x, y in zip(lines, lines[1:]) if len(x) == len(y))
    spread = np.array([x.std() for x in lines])
    mean_abs = np.array([np.abs(x).mean() for x in lines])
    reach = np.array([np.ptp(x, 0).mean() for x in lines])
    # RGB read in order: how the line changes from one segment to the next, or over a few
    crossings = np.array([np.mean(np.diff(np.sign(x), axis=0) != 0) for x in lines])  # a count, in time order
    lag3 = np.array([np.mean((x[3:] - x[:-3]) ** 2) / 2 for x in lines])
    travel = np.array([z["flow"][:, 6].std() for z, _, _ in rows])  # flow: her travel (unscored)
    highlights = np.array([z["audio"][:, 16].sum() for z, _, _ in rows])  # audio: the music's highlights
    print(f"fluency: the fluency term is {np.var(term) / np.var(total):.0%} of the total's variance; a reader blind to "
          f"it ranks the total at {spearmanr(total, total - term)[0]:.2f}; jerkiness {jerk.mean():.2f} (SD "
          f"{jerk.std():.2f}; 5th, 50th, 95th percentiles {', '.join(f'{v:.2f}' for v in np.percentile(jerk, [5, 50, 95]))}), "
          f"{term.mean():.2f} points (SD {term.std():.2f}); correlation with fluency {_corr(term, fluency):.2f}, skill "
          f"{_corr(term, skill):.2f}; RGB read without order: the line's sorted values differ between two routines of a "
          f"length by at most {same:.1e}, so its spread ({spread.mean():.3f}, SD {spread.std():.1e}), mean |value| "
          f"{_corr(term, mean_abs):.2f}, reach (max - min) {_corr(term, reach):.2f} show only the length "
          f"(the length itself {_corr(term, T):.2f}); RGB read in order: the line's sign changes {_corr(term, crossings):.2f}, "
          f"its change over three segments {_corr(term, lag3):.2f}; the other streams (unscored): her travel in flow "
          f"with the total {_corr(total, travel):.2f}, the music's highlights in audio {_corr(total, highlights):.2f}")

    rows = routines("rubato", 18)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    steady = np.array([tr["steady"] for *_, tr in rows])
    term = 6.0 * steady  # PCS's timing term
    timing = np.array([tr["timing"] for *_, tr in rows])
    follow = np.array([tr["follow"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    music = [_phase(z["audio"][:, 17:19]) for z, _, _ in rows]
    move = [_phase(z["flow"][:, 8:10]) for z, _, _ in rows]
    tempo_a = [np.diff(m) for m in music]  # radians a segment: each pulse's tempo, segment by segment
    tempo_f = [np.diff(v) for v in move]
    mean_f = np.array([t.mean() for t in tempo_f])  # flow alone: her mean tempo
    sd_f = np.array([t.std() for t in tempo_f])  # flow alone: how much her tempo wanders
    ac_f = np.array([_corr(t[1:], t[:-1]) for t in tempo_f])  # flow alone: how smoothly
    sd_a = np.array([t.std() for t in tempo_a])  # audio alone: how much the music's tempo wanders
    n_phr = np.array([len(tr["phrases"]) for *_, tr in rows])
    gap = np.array([abs(f.mean() - a.mean()) for f, a in zip(tempo_f, tempo_a)])  # the mean tempi, apart
    agree = np.array([np.mean(np.cos(v - m)) for v, m in zip(move, music)])  # the two pulses at the same moments
    together = np.array([_corr(f, a) for f, a in zip(tempo_f, tempo_a)])  # the tempi's wander, together
    whole = np.array([np.abs(np.mean(np.exp(1j * (v - m)))) for v, m in zip(move, music)])  # one offset, all along
    phrased = np.array([np.mean([np.abs(np.mean(np.exp(1j * (v[a:b] - m[a:b])))) for a, b in tr["phrases"]])
                        for v, m, (*_, tr) in zip(move, music, rows)])  # the rule, from the latents
    print(f"rubato: the timing term is {np.var(term) / np.var(pcs):.0%} of PCS's variance; a reader blind to it ranks "
          f"PCS at {spearmanr(pcs, pcs - term)[0]:.2f}; the phrases' steadiness {steady.mean():.2f} on average (SD "
          f"{steady.std():.2f}; 5th, 50th, 95th percentiles {', '.join(f'{v:.2f}' for v in np.percentile(steady, [5, 50, 95]))}); "
          f"correlation with timing {_corr(steady, timing):.2f}, how far she follows {_corr(steady, follow):.2f}, skill "
          f"{_corr(steady, skill):.2f}, TES {_corr(steady, tes):.2f}; what one stream alone shows of it: her mean tempo "
          f"(flow) {_corr(steady, mean_f):.2f}, how much it wanders {_corr(steady, sd_f):.2f}, how smoothly "
          f"{_corr(steady, ac_f):.2f}, how much the music's wanders (audio) {_corr(steady, sd_a):.2f}, the phrases "
          f"{_corr(steady, n_phr):.2f}; the two mean tempi apart {_corr(steady, gap):.2f}; both streams at the same "
          f"moments: the pulses' agreement (mean cos of the phase difference) {_corr(steady, agree):.2f}, their tempi's "
          f"wander together {_corr(steady, together):.2f}, one steady offset over the whole programme "
          f"{_corr(steady, whole):.2f}, phrase by phrase (the rule, from the latents) {_corr(steady, phrased):.2f}")


if __name__ == "__main__":
    main()
