"""The ground-truth checks the seventeenth round of held-out worlds was written with (docs/worlds.md): no features are
read and no model runs. 300 routines of each world from a draw that is never run (seed 100, `world.make` called
directly), and how large each world's judged term is against the rest of its score, and what simple summaries of
one stream, or of the wrong moments, say of it.

    python benchmarks/worlds_round17_truth_check.py
"""
import numpy as np
from scipy.stats import spearmanr

from worlds_round7_truth_check import routines


def _adjusted_rand(a, b) -> float:
    """The adjusted Rand index of two labellings of the same sections (1: the same partition; about 0: chance)."""
    a, b = np.asarray(a), np.asarray(b)
    comb = lambda n: n * (n - 1) / 2  # noqa: E731
    table = np.array([[np.sum((a == i) & (b == j)) for j in np.unique(b)] for i in np.unique(a)])
    index = comb(table).sum()
    rows, cols, total = comb(table.sum(1)).sum(), comb(table.sum(0)).sum(), comb(len(a))
    expected = rows * cols / total
    top = (rows + cols) / 2
    return float((index - expected) / (top - expected)) if top != expected else 1.0


def main() -> None:
    rows = routines("expression", 17)
    total = np.array([lab["total"] for _, lab, _ in rows])
    n_eff = np.array([tr["segments_moving"] for *_, tr in rows])
    term = -0.6 * (4 - n_eff)  # E's body-expression term
    expression = np.array([tr["expression"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    parts = [z["rgb"][:, 26:34].reshape(len(z["rgb"]), 4, 2) for z, _, _ in rows]
    energy = np.array([(p ** 2).sum((0, 2)) / len(p) for p in parts])  # each segment's movement, RGB
    moving = np.array([(p ** 2).sum() / len(p) for p in parts])  # RGB alone: how much she moves in all
    arms = energy[:, 2] / energy.sum(1)  # one segment's share
    top = energy.max(1) / energy.sum(1)  # the largest segment's share
    above = (energy / energy.sum(1, keepdims=True) > 0.1).sum(1)  # a count: segments with a tenth or more
    rgb = np.array([np.abs(z["rgb"][:, 26:34]).mean() for z, _, _ in rows])  # the segments' mean |movement|
    flow = np.array([z["flow"][:, 6].std() for z, _, _ in rows])  # flow: her travel
    audio = np.array([z["audio"][:, 16].sum() for z, _, _ in rows])  # audio: the music's highlights
    print(f"expression: the body-expression term is {np.var(term) / np.var(total):.0%} of the total's variance; a reader "
          f"blind to it ranks the total at {spearmanr(total, total - term)[0]:.2f}; {n_eff.mean():.2f} segments moving "
          f"in effect (SD {n_eff.std():.2f}; 5th, 50th, 95th percentiles "
          f"{', '.join(f'{v:.2f}' for v in np.percentile(n_eff, [5, 50, 95]))}), {term.mean():.2f} points (SD "
          f"{term.std():.2f}); correlation with expression {np.corrcoef(term, expression)[0, 1]:.2f}, skill "
          f"{np.corrcoef(term, skill)[0, 1]:.2f}; what RGB shows of it: how much she moves in all nothing (the same "
          f"for every gymnast, {moving.mean():.2f}, SD {moving.std():.1e}), one segment's share (the arms) "
          f"{np.corrcoef(term, arms)[0, 1]:.2f}; each segment's amount, read apart: the segments' mean |movement| "
          f"{np.corrcoef(term, rgb)[0, 1]:.2f} (at a fixed energy, magnitudes summed are themselves a measure of the "
          f"sharing), the largest segment's share {np.corrcoef(term, top)[0, 1]:.2f}, how many carry a tenth or more "
          f"{np.corrcoef(term, above)[0, 1]:.2f}; the other streams (unscored): her travel in flow with the total "
          f"{np.corrcoef(total, flow)[0, 1]:.2f}, the music's highlights in audio {np.corrcoef(total, audio)[0, 1]:.2f}")
    rows = routines("reprise", 17)
    pcs = np.array([lab["pcs"] for _, lab, _ in rows])
    tes = np.array([lab["tes"] for _, lab, _ in rows])
    share = np.array([tr["share"] for *_, tr in rows])
    term = 3.0 * share  # PCS's form term
    form = np.array([tr["form"] for *_, tr in rows])
    skill = np.array([tr["skill"] for *_, tr in rows])
    music = [np.array(tr["music"]) for *_, tr in rows]
    move = [np.array(tr["movement"]) for *_, tr in rows]
    n_sec = np.array([len(m) for m in music])
    k_music = np.array([len(set(m)) for m in music])  # audio alone: how many materials
    returns = n_sec - k_music  # audio alone: how many reprises
    k_move = np.array([len(set(v)) for v in move])  # flow alone: how many movement materials
    changes = np.array([int(np.sum(v[1:] != v[:-1])) for v in move])  # flow alone: how often the movement changes
    assert (k_move == k_music).all() and (changes == n_sec - 1).all()  # as many of each, a change at every section
    newness = np.array([np.mean([(m[i] not in m[:i]) == (v[i] not in v[:i]) for i in range(1, len(m))])
                        for m, v in zip(music, move)])  # each section new or a return in both, not which
    ari = np.array([_adjusted_rand(m, v) for m, v in zip(music, move)])  # the two partitions, another measure
    same = []  # the two streams' textures at the same segments, over the programme (no partition read)
    for z, _, _ in rows:
        a, f = z["audio"][:, 17:25], z["flow"][:, 8:14]
        same.append(np.corrcoef(np.linalg.norm(a - a.mean(0), axis=1), np.linalg.norm(f - f.mean(0), axis=1))[0, 1])
    same = np.array(same)
    print(f"reprise: the form term is {np.var(term) / np.var(pcs):.0%} of PCS's variance; a reader blind to it ranks PCS "
          f"at {spearmanr(pcs, pcs - term)[0]:.2f}; {share.mean():.2f} of sections follow the form on average (SD "
          f"{share.std():.2f}; all in {np.mean(share == 1):.0%} of programmes, half or fewer in {np.mean(share <= 0.5):.0%}); "
          f"{n_sec.mean():.1f} sections, {k_music.mean():.1f} materials of the music and {k_move.mean():.1f} of the "
          f"movement a programme; correlation with form {np.corrcoef(share, form)[0, 1]:.2f}, skill "
          f"{np.corrcoef(share, skill)[0, 1]:.2f}, TES {np.corrcoef(share, tes)[0, 1]:.2f}; what one stream alone shows "
          f"of it: the sections {np.corrcoef(share, n_sec)[0, 1]:.2f}, the music's materials (audio) "
          f"{np.corrcoef(share, k_music)[0, 1]:.2f}, its reprises {np.corrcoef(share, returns)[0, 1]:.2f}, the movement's "
          f"materials (flow) {np.corrcoef(share, k_move)[0, 1]:.2f}; both streams' counts say nothing: the movement "
          f"has as many materials as the music and changes at every section in every programme; both streams at the "
          f"same moments: the textures' swings together {np.corrcoef(share, same)[0, 1]:.2f}, each section new or a "
          f"return in both {np.corrcoef(share, newness)[0, 1]:.2f}, the two partitions (adjusted Rand index) "
          f"{np.corrcoef(share, ari)[0, 1]:.2f}")


if __name__ == "__main__":
    main()
