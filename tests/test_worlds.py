"""The independent synthetic worlds (lmac.data.worlds) and `lmac benchmark --suite worlds`."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from benchmark_scripts import load
from lmac.data.labels import read_labels
from lmac.data.tasks import SUITES, get_task
from lmac.data.worlds import DEV_WORLDS, HELD_OUT_WORLDS, WORLDS, ensure_world, generate_world, world_config, world_tasks

TINY = dict(n_train=6, n_test=4)


def _tiny(name, seed=0, **kw):
    return world_config(name, seed=seed, **{**TINY, **kw})


@pytest.mark.parametrize("name", list(WORLDS))
def test_world_writes_a_readable_package_in_its_law(tmp_path, name):
    cfg = _tiny(name)
    generate_world(tmp_path / "w", cfg)
    manifest = json.loads((tmp_path / "w/features/features.json").read_text())
    assert manifest["modalities"] == cfg.dims
    train, test = read_labels(tmp_path / "w/train.txt"), read_labels(tmp_path / "w/test.txt")
    assert len(train) == 6 and len(test) == 4
    assert not {r.video_id for r in train} & {r.video_id for r in test}
    truth = json.loads((tmp_path / "w/truth.json").read_text())
    for task in world_tasks(name):
        spec = get_task(task)
        assert all(r.cls == spec.cls for r in train + test)
        assert spec.window >= cfg.t_range[1]  # a training window holds the longest routine
        scores = [r.scores[spec.score_key] for r in train + test]
        assert 0 <= min(scores) and max(scores) <= spec.score_range
    for r in test:
        x = load_file(tmp_path / f"w/features/{r.video_id}.safetensors")
        T = truth[r.video_id]["T"]
        assert cfg.t_range[0] <= T <= cfg.t_range[1]
        assert {m: a.shape for m, a in x.items()} == {m: (T, d) for m, d in cfg.dims.items()}
        if WORLDS[name].LAW == "rg":  # the RG law: Total = D + E - P
            assert r.scores["total"] == pytest.approx(r.scores["difficulty"] + r.scores["execution"] - r.scores["penalty"], abs=0.011)


def test_a_draw_is_deterministic_and_draws_differ(tmp_path):
    a, b, c = (generate_world(tmp_path / n, _tiny("energy", seed=s)) for n, s in (("a", 3), ("b", 3), ("c", 4)))
    assert (tmp_path / "a/train.txt").read_text() == (tmp_path / "b/train.txt").read_text()
    assert (tmp_path / "a/train.txt").read_text() != (tmp_path / "c/train.txt").read_text()
    va = load_file(tmp_path / "a/features/Clubs_0001.safetensors")["flow"]
    vb = load_file(tmp_path / "b/features/Clubs_0001.safetensors")["flow"]
    np.testing.assert_array_equal(va, vb)


def test_the_judging_rules_hold_on_the_ground_truth(tmp_path):
    """Each world's documented rule, recomputed from its latent ground truth."""
    generate_world(tmp_path / "amp", _tiny("amplitude", n_train=20, n_test=0))
    truth = json.loads((tmp_path / "amp/truth.json").read_text())
    for r in read_labels(tmp_path / "amp/train.txt"):
        els = truth[r.video_id]["elements"]
        want = sum(e["value"] * (0.3 if e["fell"] else 0.3 + 1.4 * e["q"] * e["a"]) for e in els)
        assert r.scores["tes"] == pytest.approx(min(want, 45), abs=0.006)  # execution x amplitude
        assert r.scores["falls"] == sum(e["fell"] for e in els)
    generate_world(tmp_path / "ex", _tiny("execution", n_train=20, n_test=0))
    truth = json.loads((tmp_path / "ex/truth.json").read_text())
    for r in read_labels(tmp_path / "ex/train.txt"):
        want = 10 - 7 * np.mean([1 - e["q"] for e in truth[r.video_id]["elements"]])
        assert r.scores["total"] == pytest.approx(round(max(want, 0) * 20) / 20, abs=1e-6)  # execution only


def test_the_second_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`phrasing` and `spins` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    generate_world(tmp_path / "ph", _tiny("phrasing", n_train=30, n_test=0))
    truth = json.loads((tmp_path / "ph/truth.json").read_text())
    late = 0
    for r in read_labels(tmp_path / "ph/train.txt"):
        tr = truth[r.video_id]
        unmarked = sum(1 for b in tr["boundaries"] if not any(abs(c - b) <= 1 for c in tr["changes"]))
        assert unmarked == tr["unmarked"] and tr["late_end"] == (abs(tr["music_end"] - tr["move_end"]) > 1)
        els = tr["elements"]
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.4 * unmarked - 0.3 * tr["late_end"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        assert all(e["end"] <= tr["T"] - tr["move_end"] for e in els)  # elements before the final pose
        late += tr["late_end"]
    assert 0 < late < 30  # both endings occur
    generate_world(tmp_path / "sp", _tiny("spins", n_train=30, n_test=0))
    truth = json.loads((tmp_path / "sp/truth.json").read_text())
    halves = set()
    for r in read_labels(tmp_path / "sp/train.txt"):
        tr = truth[r.video_id]
        want = 0.0
        for e in tr["elements"]:
            if e["kind"] == "spin":
                want += e["value"] * (0.3 + 2.0 * e["h"] * e["c"])
                assert 4 <= e["end"] - e["start"] <= 6
            else:
                assert e["second_half"] == (e["start"] >= tr["T"] / 2)
                want += e["value"] * (0.5 + e["q"]) * (1.1 if e["second_half"] else 1.0)
                halves.add(e["second_half"])
        assert r.scores["tes"] == pytest.approx(min(want, 45), abs=0.006)
        assert sum(e["kind"] == "spin" for e in tr["elements"]) == 3
        marked = np.mean([any(abs(s - a) <= 1 for s in tr["spikes"]) for a in tr["accents"]])
        assert tr["marked"] == pytest.approx(marked)
        assert 20 - 4.5 < r.scores["pcs"] < 20 + 7 + 10 + 4.5  # trait + share marked + judges' noise
    assert halves == {True, False}


def test_the_third_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`combos` and `pauses` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    generate_world(tmp_path / "co", _tiny("combos", n_train=30, n_test=0))
    truth = json.loads((tmp_path / "co/truth.json").read_text())
    seen = set()
    for r in read_labels(tmp_path / "co/train.txt"):
        tr = truth[r.video_id]
        assert len(tr["passes"]) == 7 and sum(p["combo"] for p in tr["passes"]) == 3  # the free skate's layout
        want, solos = 0.0, set()
        for p in tr["passes"]:
            pts = [j["value"] * (0.8 + 0.4 * j["q"]) for j in p["jumps"]]
            if p["combo"]:
                assert len(pts) == 2 and p["jumps"][1]["start"] == p["jumps"][0]["start"] + 2 + p["gap"]
                want += sum(pts) * (1.0 if p["gap"] == 0 else 0.8)  # a sequence when steps come between
                seen.add(("sequence", p["gap"] > 0))
            else:
                typ = p["jumps"][0]["type"]
                assert p["repeated"] == (typ in solos)
                want += pts[0] * (0.7 if p["repeated"] else 1.0)  # a repeated solo jump
                solos.add(typ)
                seen.add(("repeat", p["repeated"]))
            assert p["points"] == pytest.approx(sum(pts) * (1.0 if p["combo"] and p["gap"] == 0 else 0.8)
                                                if p["combo"] else pts[0] * (0.7 if p["repeated"] else 1.0))
        assert r.scores["tes"] == pytest.approx(min(want, 45), abs=0.006)
        assert 20 - 4.5 < r.scores["pcs"] < 20 + 7 + 8 + 4.5
    assert seen == {("sequence", True), ("sequence", False), ("repeat", True), ("repeat", False)}
    generate_world(tmp_path / "pa", _tiny("pauses", n_train=30, n_test=0))
    truth = json.loads((tmp_path / "pa/truth.json").read_text())
    kinds = set()
    for r in read_labels(tmp_path / "pa/train.txt"):
        tr = truth[r.video_id]
        for a, b, purpose in tr["stops"]:
            on_rest = any(a < rb + 1 and b > ra - 1 for ra, rb in tr["rests"])
            assert purpose == on_rest and 2 <= b - a <= 3  # a stop is purposeful exactly when it is on a rest
            kinds.add(purpose)
        assert tr["faults"] == sum(not purpose for _, _, purpose in tr["stops"])
        els = tr["elements"]
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.3 * tr["faults"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
    assert kinds == {True, False}


def test_the_fourth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`drops` and `character` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    generate_world(tmp_path / "dr", _tiny("drops", n_train=30, n_test=0))
    truth = json.loads((tmp_path / "dr/truth.json").read_text())
    kinds = set()
    for r in read_labels(tmp_path / "dr/train.txt"):
        tr = truth[r.video_id]
        kinds |= {kind for _, kind in tr["events"]}
        assert tr["drops"] == sum(kind == "drop" for _, kind in tr["events"])
        busy = {t for e in tr["elements"] for t in range(e["start"], e["end"])}
        assert not busy & {t for t, _ in tr["events"]}  # a drop, bounce or balance is never inside an element
        els = tr["elements"]
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.7 * tr["drops"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
    assert kinds == {"drop", "bounce", "balance"}
    generate_world(tmp_path / "ch", _tiny("character", n_train=30, n_test=0))
    truth = json.loads((tmp_path / "ch/truth.json").read_text())
    fits = []
    for r in read_labels(tmp_path / "ch/train.txt"):
        tr = truth[r.video_id]
        secs = tr["sections"]
        assert secs[0][0] == 0 and secs[-1][1] == tr["T"] and 3 <= len(secs) <= 5
        fit = sum(b - a for a, b, char, style in secs if char == style) / tr["T"]
        assert tr["fit"] == pytest.approx(fit)
        fits.append(fit)
        assert 20 - 4.5 < r.scores["pcs"] < 20 + 6 + 6 + 4.5  # skating + the fit + judges' noise
        want = sum(j["value"] * (0.3 if j["fell"] else 0.5 + j["q"]) for j in tr["jumps"])
        assert len(tr["jumps"]) == 7 and r.scores["tes"] == pytest.approx(min(want, 45), abs=0.006)
        assert r.scores["falls"] == sum(j["fell"] for j in tr["jumps"])
    assert min(fits) < 0.5 < max(fits)


def test_the_fifth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`articulation` and `consistency` (seed 0, no model): each documented rule, recomputed from the latent
    ground truth."""
    generate_world(tmp_path / "ar", _tiny("articulation", n_train=30, n_test=0))
    truth = json.loads((tmp_path / "ar/truth.json").read_text())
    groups, misfit_counts = set(), []
    for r in read_labels(tmp_path / "ar/train.txt"):
        tr = truth[r.video_id]
        els = tr["elements"]
        for e in els:
            stacc = np.mean(tr["staccato"][e["start"]:e["end"]]) >= 0.5
            assert e["staccato"] == stacc
            assert e["misfit"] == ((e["group"] == "jump" and not stacc) or (e["group"] == "balance" and stacc))
            groups.add(e["group"])
        misfits = sum(e["misfit"] for e in els)
        assert tr["misfits"] == misfits
        misfit_counts.append(misfits)
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.4 * misfits
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        assert r.scores["penalty"] == 0
    assert groups == {"jump", "balance", "rotation"} and min(misfit_counts) < max(misfit_counts)
    generate_world(tmp_path / "co", _tiny("consistency", n_train=30, n_test=0))
    truth = json.loads((tmp_path / "co/truth.json").read_text())
    for r in read_labels(tmp_path / "co/train.txt"):
        tr = truth[r.video_id]
        els = tr["elements"]
        assert 8 <= len(els) <= 10
        assert tr["unevenness"] == pytest.approx(np.std([e["q"] for e in els]))
        want = sum(e["value"] * (0.3 if e["fell"] else 0.5 + e["q"]) for e in els)
        assert r.scores["tes"] == pytest.approx(min(want, 45), abs=0.006)
        assert r.scores["falls"] == sum(e["fell"] for e in els)
        presence = 20 + 7 / (1 + np.exp(-tr["presence"])) - 12 * tr["unevenness"]  # + judges' noise N(0, 1)
        assert abs(r.scores["pcs"] - presence) < 4.5


def _assert_tiles(spans, T):
    """Spans [a, b) that cover the programme's T segments in order, each starting where the last ended."""
    assert spans[0][0] == 0 and spans[-1][1] == T and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


def _routines(tmp_path, name, n=30):
    """(label row, latent truth) of n training routines of a world's seed-0 draw."""
    generate_world(tmp_path / name, _tiny(name, n_train=n, n_test=0))
    truth = json.loads((tmp_path / name / "truth.json").read_text())
    return [(r, truth[r.video_id]) for r in read_labels(tmp_path / name / "train.txt")]

def test_the_sixth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`tempo` and `counting` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    offs = []
    for r, tr in _routines(tmp_path, "tempo"):
        els = tr["elements"]
        for e in els:
            assert e["tempo"] == int(np.round(np.mean(tr["tempo"][e["start"]:e["end"]])))
            assert e["pace"] in (0, 1, 2)
        off = sum(abs(e["pace"] - e["tempo"]) for e in els)
        assert tr["off"] == off
        offs.append(off)
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.2 * off
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
    assert min(offs) < max(offs)
    capped = unrecognised = 0
    for r, tr in _routines(tmp_path, "counting"):
        els = tr["elements"]
        assert 9 <= len(els) <= 12
        ok = sorted((e["value"] for e in els if e["q"] >= 0.3), reverse=True)
        assert all(e["recognised"] == (e["q"] >= 0.3) for e in els)
        capped += len(ok) > 8
        unrecognised += len(ok) < len(els)
        assert r.scores["difficulty"] == pytest.approx(round(sum(ok[:8]) * 20) / 20, abs=1e-6)
        E = 10 - sum(0.3 * (1 - e["q"]) for e in els)
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["penalty"] == 0
    assert capped and unrecognised  # both rules bite in some routines

def test_the_seventh_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`climax` and `balances` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import ClimaxWorld

    matches = []
    for r, tr in _routines(tmp_path, "climax"):
        T, els = tr["T"], tr["elements"]
        assert 0.2 * T - 1 <= tr["t_music"] <= 0.8 * T + 1 and 0 <= tr["t_move"] < T
        assert tr["match"] == pytest.approx(np.exp(-abs(tr["t_move"] - tr["t_music"]) / ClimaxWorld.WIDTH))
        matches.append(tr["match"])
        assert len(els) == 7
        assert r.scores["tes"] == pytest.approx(sum(e["value"] * (0.5 + e["q"]) for e in els), abs=0.006)
        presence = 20 + 7 / (1 + np.exp(-tr["skill"])) + 3 * tr["match"]  # + judges' noise N(0, 1)
        assert abs(r.scores["pcs"] - presence) < 4.5
    assert min(matches) < 0.3 and max(matches) > 0.9  # some meet the music's climax, some miss it
    kinds, sways = set(), []
    for r, tr in _routines(tmp_path, "balances"):
        els = tr["elements"]
        assert 8 <= len(els) <= 10
        kinds |= {e["kind"] for e in els}
        bal = [e["sway"] for e in els if e["kind"] == "balance"]
        assert all("sway" not in e for e in els if e["kind"] != "balance")
        assert tr["swaying"] == pytest.approx(sum(bal))
        sways += bal
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.8 * sum(bal)
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        assert r.scores["penalty"] == 0
    assert kinds == {"balance", "jump", "rotation"} and min(sways) < 0.2 and max(sways) > 0.7


def test_the_eighth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`motifs` and `glide` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import GlideWorld, MotifsWorld

    counts = set()
    for r, tr in _routines(tmp_path, "motifs"):
        els, starts, placed = tr["elements"], tr["theme_starts"], tr["motif_starts"]
        assert len(starts) == 3 == len(placed) and 5 <= len(els) <= 7
        assert all(b - a >= MotifsWorld.THEME for a, b in zip(starts, starts[1:]))  # three separate statements
        unanswered = sum(not any(abs(m - s) <= 1 for m in placed) for s in starts)
        assert tr["unanswered"] == unanswered
        counts.add(unanswered)
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - MotifsWorld.UNANSWERED * unanswered
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        assert r.scores["penalty"] == 0
    assert {0, 3} <= counts  # some gymnasts answer every statement, some none
    stumbles = []
    for r, tr in _routines(tmp_path, "glide"):
        assert len(tr["elements"]) == 7 and len(tr["stumble_at"]) == tr["stumbles"] <= 4
        stumbles.append(tr["stumbles"])
        assert r.scores["tes"] == pytest.approx(sum(e["value"] * (0.5 + e["q"]) for e in tr["elements"]), abs=0.006)
        skills = 20 + 8 / (1 + np.exp(-tr["glide"])) - GlideWorld.STUMBLE * tr["stumbles"]  # + judges' noise N(0, 1)
        assert abs(r.scores["pcs"] - skills) < 4.5
    assert min(stumbles) == 0 and max(stumbles) >= 2

def test_the_ninth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`edges` and `cuts` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import CutsWorld

    together = []
    for r, tr in _routines(tmp_path, "edges"):
        assert len(tr["elements"]) == 8 and -1 <= tr["together"] <= 1
        together.append(tr["together"])
        assert r.scores["tes"] == pytest.approx(sum(e["value"] * (0.5 + e["q"]) for e in tr["elements"]), abs=0.006)
        assert abs(r.scores["pcs"] - (20 + 8 * tr["together"])) < 4.5  # + the judges' noise N(0, 1)
    assert min(together) < 0 < 0.8 < max(together)
    counts = set()
    for r, tr in _routines(tmp_path, "cuts"):
        els = tr["elements"]
        assert 6 <= len(els) <= 9 and len(tr["cut_at"]) == tr["cuts"] <= 4
        counts.add(tr["cuts"])
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - CutsWorld.CUT * tr["cuts"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        assert r.scores["penalty"] == 0
    assert 0 in counts and max(counts) >= 3


def test_the_tenth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`entries` and `space` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import EntriesWorld, SpaceWorld

    entered = set()
    for r, tr in _routines(tmp_path, "entries"):
        els = tr["elements"]
        assert len(els) == 7 and tr["entered"] == sum(e["entry"] for e in els)
        entered.add(tr["entered"])
        assert 7 <= tr["entered"] + len(tr["footwork_elsewhere"]) <= 9  # how much footwork says nothing
        for t0 in tr["footwork_elsewhere"]:  # never right before (or inside) a jump
            assert all(not (e["start"] - 3 <= t0 + 1 and t0 <= e["end"]) for e in els)
        tes = sum(e["value"] * (0.5 + e["q"]) + EntriesWorld.BONUS * e["value"] * e["entry"] for e in els)
        assert r.scores["tes"] == pytest.approx(tes, abs=0.006)
        assert abs(r.scores["pcs"] - (20 + 8 * tr["entered"] / 7)) < 4  # + the judges' noise N(0, 0.8)
    assert min(entered) <= 1 and max(entered) >= 5
    missing = set()
    for r, tr in _routines(tmp_path, "space"):
        els = tr["elements"]
        assert 6 <= len(els) <= 9
        assert tr["missing_levels"] == 3 - len({e["level"] for e in els})
        assert tr["missing_directions"] == 4 - len({e["direction"] for e in els})
        missing.add((tr["missing_levels"], tr["missing_directions"]))
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - SpaceWorld.LEVEL * tr["missing_levels"] \
            - SpaceWorld.DIRECTION * tr["missing_directions"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        assert r.scores["penalty"] == 0
    assert (0, 0) in missing and max(m for m, _ in missing) == 2 and max(d for _, d in missing) >= 2


def test_the_eleventh_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`stamina` and `rotations` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import RotationsWorld, StaminaWorld

    fades, residuals = [], []
    for r, tr in _routines(tmp_path, "stamina"):
        assert 0 < tr["fade"] < 0.6 and tr["level"] == pytest.approx(0.5 + 0.2 * tr["skating"])
        els = tr["elements"]
        assert len(els) == 7
        assert r.scores["tes"] == pytest.approx(sum(e["value"] * (0.5 + e["q"]) for e in els), abs=0.006)
        want = 20 + 6 / (1 + np.exp(-1.5 * tr["skating"])) - StaminaWorld.FADE * tr["fade"]
        assert abs(r.scores["pcs"] - want) < 4  # + the judges' noise N(0, 0.8)
        fades.append(tr["fade"])
        residuals.append(r.scores["pcs"] - want)
    assert min(fades) < 0.1 and max(fades) > 0.4
    assert abs(np.mean(residuals)) < 0.6  # only the noise is left (the fade costs 8 x 0.28 on average)
    unders = []
    for r, tr in _routines(tmp_path, "rotations"):
        els, risks = tr["elements"], tr["risks"]
        assert 5 <= len(els) <= 7 and 2 <= len(risks) <= 4
        spans = [(k["start"], k["end"]) for k in risks] + [(e["start"], e["end"]) for e in els]
        for k in risks:
            assert 2 <= k["end"] - k["start"] <= 4 and all(k["start"] <= t < k["end"] for t in k["rotations"])
        for t in tr["pivots"]:  # pivots: where nothing is in the air and no element is
            assert not any(a <= t < b for a, b in spans)
        under = sum(len(k["rotations"]) for k in risks)
        assert tr["under_flight"] == under
        assert under + len(tr["pivots"]) >= 9 and (len(tr["pivots"]) == 0 or under + len(tr["pivots"]) <= 12)
        D = sum(e["value"] for e in els) + RotationsWorld.ROTATION * under
        assert r.scores["difficulty"] == pytest.approx(round(D * 20) / 20, abs=1e-6)
        assert r.scores["execution"] == pytest.approx(round((10 - sum(0.4 * (1 - e["q"]) for e in els)) * 20) / 20,
                                                      abs=1e-6)
        unders.append(under)
    assert min(unders) <= 2 and max(unders) >= 8


def test_the_twelfth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`lag` and `falls` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import FallsWorld, LagWorld

    lags = set()
    for r, tr in _routines(tmp_path, "lag"):
        els, accents, marks = tr["elements"], tr["accents"], tr["marks"]
        assert 5 <= len(els) <= 7 and 6 <= len(accents) <= 10 and len(marks) == len(accents)
        assert all(tr["lag"] - 1 <= m - a <= tr["lag"] + 1 and m >= a for a, m in zip(accents, marks))  # never early
        assert tr["lateness"] == sum(m - a for a, m in zip(accents, marks))
        assert 2 <= len(tr["unscored_marks"]) <= 4
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - LagWorld.LATE * tr["lateness"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        assert r.scores["penalty"] == 0
        lags.add(tr["lag"])
    assert lags == {0, 1, 2, 3}
    falls = []
    for r, tr in _routines(tmp_path, "falls"):
        els = tr["elements"]
        assert len(els) == 7 and tr["falls"] == sum(e["fell"] for e in els) == r.scores["falls"]
        for e in els:
            want = e["value"] * 0.5 - FallsWorld.FALL if e["fell"] else e["value"] * (0.5 + e["q"])
            assert e["points"] == pytest.approx(want)
        for t in tr["low_poses"] + tr["stops"]:  # the look-alikes: away from every jump and the segment after it
            assert not any(e["start"] - 1 <= t <= e["end"] + 1 for e in els)
        assert 2 <= len(tr["low_poses"]) <= 4 and 2 <= len(tr["stops"]) <= 4
        assert r.scores["tes"] == pytest.approx(max(sum(e["points"] for e in els), 0), abs=0.006)
        want = 20 + 7 / (1 + np.exp(-1.2 * tr["skill"])) - FallsWorld.FALL_PCS * tr["falls"]
        assert abs(r.scores["pcs"] - want) < 4  # + the judges' noise N(0, 0.8)
        falls.append(tr["falls"])
    assert min(falls) == 0 and max(falls) >= 2



def test_the_thirteenth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`contour` and `coverage` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import ContourWorld, CoverageWorld

    againsts = []
    for r, tr in _routines(tmp_path, "contour"):
        els, pitch = tr["elements"], np.array(tr["pitch"])
        assert 5 <= len(els) <= 8 and len(pitch) == tr["T"]
        for e in els:  # the melody rises or falls steadily under the element; the movement goes with it or against
            steps = np.diff(pitch)[e["start"] - 1:e["end"] - 1]
            assert np.allclose(steps, ContourWorld.SLOPE * e["melody"], atol=2e-4)
            assert e["move"] == (e["melody"] if e["with_melody"] else -e["melody"])
        assert tr["against"] == sum(not e["with_melody"] for e in els)
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - ContourWorld.AGAINST * tr["against"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        againsts.append(tr["against"])
    assert min(againsts) == 0 and max(againsts) >= 3
    covs, comps = [], []
    for r, tr in _routines(tmp_path, "coverage"):
        track = np.array(tr["track"])
        assert track.shape == (tr["T"] + 1, 2) and np.all(np.abs(track) <= np.array(CoverageWorld.RINK) + 1e-9)
        steps = np.linalg.norm(np.diff(track, axis=0), axis=1)
        assert np.all(steps <= CoverageWorld.SPEED + 1e-4) and np.median(steps) == pytest.approx(CoverageWorld.SPEED, abs=1e-4)
        fine = np.concatenate([track[:-1] + f * np.diff(track, axis=0) for f in np.linspace(0, 1, 5)])
        cells = {(min(int((x + 1) * 4), 7), min(int((y + 0.5) * 4), 3)) for x, y in fine}  # 8 x 4 cells of 60 m x 30 m
        assert tr["coverage"] == pytest.approx(len(cells) / 32)
        els = tr["elements"]
        assert len(els) == 7 and r.scores["tes"] == pytest.approx(sum(e["points"] for e in els), abs=0.006)
        want = 18 + 6 / (1 + np.exp(-1.2 * tr["skill"])) + CoverageWorld.COVER * (tr["coverage"] - 0.5)
        assert abs(r.scores["pcs"] - want) < 4  # + the judges' noise N(0, 0.8)
        covs.append(tr["coverage"])
        comps.append(tr["composition"])
    assert np.corrcoef(covs, comps)[0, 1] > 0.4 and min(covs) < 0.4 and max(covs) > 0.7

def test_the_fourteenth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`static` and `unison` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import StaticWorld, UnisonWorld, build_world

    holds_all = []
    for r, tr in _routines(tmp_path, "static"):
        els, stills = tr["elements"], tr["stills"]
        assert 13 <= sum(n for _, n in stills) <= 18
        busy = np.zeros(tr["T"] + 2, bool)
        for e in els:
            busy[e["start"] + 1:e["end"] + 1] = True
        for t, n in stills:  # apart from every other still and from the elements by a moving segment at least
            assert not busy[t:t + n + 2].any()
            busy[t + 1:t + n + 1] = True
        holds = sum(n >= StaticWorld.LONG for _, n in stills)
        assert tr["holds"] == holds and holds <= 3
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.6 * holds
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        holds_all.append(holds)
    assert min(holds_all) == 0 and max(holds_all) >= 2
    us = []
    for r, tr in _routines(tmp_path, "unison"):
        els = tr["elements"]
        assert len(els) == 7 and r.scores["tes"] == pytest.approx(sum(e["points"] for e in els), abs=0.006)
        assert 0.2 <= tr["unison"] <= 0.95
        want = 18 + 6 / (1 + np.exp(-1.2 * tr["skill"])) + UnisonWorld.UNISON * (tr["unison"] - 0.575)
        assert abs(r.scores["pcs"] - want) < 4  # + the judges' noise N(0, 0.8)
        us.append(tr["unison"])
    assert min(us) < 0.4 and max(us) > 0.8
    # the partners' movement: the second follows the first by u at the same moment, each of unit spread
    world = build_world(world_config("unison", seed=0))
    z, _, tr = world.make(np.random.default_rng(7))
    a, b = z["rgb"][:, 26:30] / UnisonWorld.SCALE, z["rgb"][:, 30:34] / UnisonWorld.SCALE
    assert np.mean(a * b) == pytest.approx(tr["unison"], abs=0.2) and np.std(b) == pytest.approx(1.0, abs=0.2)


def test_the_fifteenth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`seams` and `placement` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from scipy.stats import spearmanr

    from lmac.data.worlds import PlacementWorld, SeamsWorld, build_world

    seams_all = []
    for r, tr in _routines(tmp_path, "seams"):
        els, bounds = tr["elements"], tr["boundaries"]
        assert 6 <= len(els) <= 8
        assert all(6 <= n <= 10 for n in np.diff([0] + bounds + [tr["T"]])[:-1]) and tr["T"] - bounds[-1] <= 10
        end = 1
        for e in els:  # in temporal order, each as long as the others
            assert e["end"] - e["start"] == SeamsWorld.LENGTH and e["start"] >= end and e["end"] <= tr["T"] - 1
            end = e["end"]
            assert e["across"] == any(e["start"] < b < e["end"] for b in bounds)  # a phrase begins inside it
            assert not (e["fitted"] and e["across"])
        seams = sum(e["across"] for e in els)
        assert tr["seams"] == seams
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.5 * seams
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        seams_all.append(seams)
    assert min(seams_all) == 0 and max(seams_all) >= 2
    # the music: each phrase one timbre, changing exactly at the boundaries
    world = build_world(world_config("seams", seed=0))
    z, _, tr = world.make(np.random.default_rng(7))
    timbre = z["audio"][:, 10:18]
    assert [t for t in range(1, tr["T"]) if not np.allclose(timbre[t], timbre[t - 1])] == tr["boundaries"]
    matches, residuals = [], []
    for r, tr in _routines(tmp_path, "placement"):
        els = tr["elements"]
        assert len(els) == 8 and r.scores["tes"] == pytest.approx(sum(e["points"] for e in els), abs=0.006)
        for e in els:
            assert e["intensity"] == pytest.approx(np.mean(tr["intensity"][e["start"]:e["end"]]), abs=1e-4)
        for a in els:  # the higher key where the music is stronger
            for b in els:
                if a["intensity"] > b["intensity"] + 1e-9:
                    assert a["key"] > b["key"]
        rho = spearmanr([e["value"] for e in els], [e["intensity"] for e in els])[0]
        assert tr["match"] == pytest.approx(0.0 if np.isnan(rho) else rho, abs=1e-9)
        residuals.append(r.scores["pcs"] - 18 - 6 / (1 + np.exp(-1.2 * tr["skill"])) - PlacementWorld.PLACE * tr["match"])
        matches.append(tr["match"])
    assert abs(np.mean(residuals)) < 0.5 and np.std(residuals) < 1.2  # the judges' noise N(0, 0.8)
    assert min(matches) < 0.2 and max(matches) > 0.8
    # what the streams show: the music's intensity in audio, each jump's base value in RGB where it is
    world = build_world(world_config("placement", seed=0))
    z, _, tr = world.make(np.random.default_rng(7))
    assert z["audio"][:, 17] == pytest.approx(3.0 * (np.array(tr["intensity"]) - 0.5), abs=1e-4)
    for e in tr["elements"]:
        assert z["rgb"][e["start"]:e["end"], 25] == pytest.approx(0.8 * (e["value"] - 2.75), abs=1e-9)


def test_the_sixteenth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`flights` and `bonus` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import BonusWorld, FlightsWorld, build_world

    values, unders, outside = [], [], 0
    for r, tr in _routines(tmp_path, "flights"):
        els, risks, T = tr["elements"], tr["risks"], tr["T"]
        assert 5 <= len(els) <= 7 and 3 <= len(risks) <= 4
        assert 11 <= sum(len(k["rotations"]) for k in risks) <= 12  # as many rotations for every gymnast
        spans = [(e["start"], e["end"]) for e in els]
        D = sum(e["value"] for e in els)
        for k in risks:
            rot, start, end = k["rotations"], k["start"], k["end"]
            assert 3 <= end - start <= 4 and 2 <= len(rot) <= 5 and rot == list(range(rot[0], rot[0] + len(rot)))
            assert rot[0] <= end and rot[-1] >= start - 1  # the series meets the flight or touches its edge
            under = sum(start <= t < end for t in rot)  # only the rotations inside the flight
            assert k["under"] == under
            value = 0.2 * under if under >= 2 else 0.0  # an R needs two rotations under its flight
            assert k["value"] == pytest.approx(value, abs=1e-9)
            D += value
            spans.append((min(start, rot[0]), max(end, rot[-1] + 1)))
            values.append(value)
            unders.append(under)
            outside += len(rot) - under
        spans.sort()
        assert spans[0][0] >= 1 and spans[-1][1] <= T - 1
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))  # elements and throws apart
        assert tr["under_flight"] == sum(k["under"] for k in risks)
        assert r.scores["difficulty"] == pytest.approx(round(D * 20) / 20, abs=1e-6)
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els)
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
    assert 1 in unders and 0 in unders and max(unders) >= 4 and outside >= 30
    assert FlightsWorld.ROTATION == 0.2 and FlightsWorld.MIN_ROTATIONS == 2
    # the streams: the flights in flow, the rotations in RGB, each exactly where the truth says
    world = build_world(world_config("flights", seed=0))
    z, _, tr = world.make(np.random.default_rng(7))
    flying = sorted(t for k in tr["risks"] for t in range(k["start"], k["end"]))
    assert np.flatnonzero(z["flow"][:, 7] > 2).tolist() == flying
    assert np.flatnonzero(z["rgb"][:, 26] == 3.0).tolist() == sorted(t for k in tr["risks"] for t in k["rotations"])
    bonuses, late_big, near = [], [], 0
    for r, tr in _routines(tmp_path, "bonus"):
        els, T = tr["elements"], tr["T"]
        assert len(els) == 7 and sum(e["big"] for e in els) == BonusWorld.BIG
        assert all((e["value"] >= 4.5) == e["big"] and 1.5 <= e["value"] <= 6.5 for e in els)
        assert els[0]["start"] >= 1 and els[-1]["end"] <= T - 1
        assert all(a["end"] <= b["start"] for a, b in zip(els, els[1:]))  # in temporal order, apart
        tes, bonus = 0.0, 0.0
        for e in els:
            late = e["start"] >= T / 2  # started in the second half
            assert e["second_half"] == late
            tes += e["value"] * (1.1 if late else 1.0) + 0.6 * (e["q"] - 0.5) * e["value"]
            bonus += 0.1 * e["value"] * late
            near += abs(e["start"] - T / 2) <= 3
        assert r.scores["tes"] == pytest.approx(tes, abs=0.006)
        assert tr["bonus"] == pytest.approx(bonus, abs=1e-9)
        want = 18 + 8 / (1 + np.exp(-1.2 * tr["carriage"]))
        assert abs(r.scores["pcs"] - want) < 4  # + the judges' noise N(0, 0.8); nothing of the layout
        bonuses.append(bonus)
        late_big.append(sum(e["big"] and e["second_half"] for e in els))
    assert min(late_big) == 0 and max(late_big) == 3 and max(bonuses) - min(bonuses) > 1.5 and near >= 5
    # what RGB shows: each jump's base value where it is, and nothing elsewhere
    world = build_world(world_config("bonus", seed=0))
    z, _, tr = world.make(np.random.default_rng(7))
    jumping = np.zeros(tr["T"], bool)
    for e in tr["elements"]:
        assert z["rgb"][e["start"]:e["end"], 25] == pytest.approx(0.8 * (e["value"] - 4.0), abs=1e-9)
        jumping[e["start"]:e["end"]] = True
    assert not z["rgb"][~jumping, 25].any()


def test_the_seventeenth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`expression` and `reprise` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import ExpressionWorld, RepriseWorld, build_world

    moving = []
    for r, tr in _routines(tmp_path, "expression"):
        els, shares = tr["elements"], np.array(tr["shares"])
        assert 6 <= len(els) <= 8 and len(shares) == 4 and shares.sum() == pytest.approx(1, abs=1e-5)
        n_eff = 1 / np.sum(shares ** 2)  # the body segments taking part, in effect
        assert tr["segments_moving"] == pytest.approx(n_eff, abs=1e-4)
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 0.6 * (4 - n_eff)
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        moving.append(n_eff)
    assert min(moving) < 1.8 and max(moving) > 3.2  # from one segment's movement to the whole body's
    assert ExpressionWorld.EXPRESS == 0.6 and ExpressionWorld.PARTS == 4
    # the stream: each segment's movement in RGB, its amount its share of the same whole for every gymnast
    world = build_world(world_config("expression", seed=0))
    for seed in (7, 8):
        z, _, tr = world.make(np.random.default_rng(seed))
        parts = z["rgb"][:, 26:34].reshape(tr["T"], 4, 2)
        energy = (parts ** 2).mean(0).sum(1)
        assert energy.sum() == pytest.approx(2 * 1.5 ** 2, rel=1e-9)  # two values at 1.5 in all, shared
        assert energy / energy.sum() == pytest.approx(tr["shares"], abs=1e-5)
        assert np.abs(parts.mean(0)).max() < 1e-9
    shares, rest, changes = [], [], 0
    for r, tr in _routines(tmp_path, "reprise"):
        music, move, spans, T = tr["music"], tr["movement"], tr["sections"], tr["T"]
        _assert_tiles(spans, T)
        assert all(11 <= b - a <= 17 for a, b in spans[:-1]) and spans[-1][1] - spans[-1][0] >= 5
        assert len(music) == len(move) == len(spans) and music[0] == 0 and len(set(music)) <= 5
        assert all(m <= max(music[:i], default=-1) + 1 for i, m in enumerate(music))  # materials in order of entry
        assert all(a != b for a, b in zip(music, music[1:])) and all(a != b for a, b in zip(move, move[1:]))
        assert sorted(set(move)) == sorted(set(music))  # as many movement materials as the music's, for everyone
        followed = [all((music[i] == music[j]) == (move[i] == move[j]) for j in range(i)) for i in range(1, len(music))]
        assert tr["followed"] == followed and tr["share"] == pytest.approx(np.mean(followed), abs=1e-12)
        changes += move != music
        els = tr["elements"]
        assert sorted(e["kind"] for e in els) == ["jump"] * 3 + ["spin"] * 3 + ["steps"]
        assert all(a["end"] <= b["start"] for a, b in zip(els, els[1:]))
        tes = sum(e["value"] * (0.5 + e["q"]) for e in els)
        assert r.scores["tes"] == pytest.approx(min(tes, 45), abs=0.006)
        want = 18 + 6 / (1 + np.exp(-1.2 * tr["skill"])) + 3 * (np.mean(followed) - 0.5)
        assert abs(r.scores["pcs"] - want) < 4  # + the judges' noise N(0, 0.8)
        shares.append(np.mean(followed))
        rest.append(r.scores["pcs"] - 18 - 6 / (1 + np.exp(-1.2 * tr["skill"])))
    assert min(shares) < 0.3 and max(shares) == 1 and changes >= 5
    slope, level = np.polyfit(np.array(shares) - 0.5, rest, 1)  # PCS gains 3 a unit of the share, beyond the noise
    assert 1.5 < slope < 4.5 and abs(level) < 0.6
    assert RepriseWorld.FORM == 3.0
    # the streams: the music's material in audio, the movement's in flow, section by section, drawn for the routine
    world = build_world(world_config("reprise", seed=0))
    z, _, tr = world.make(np.random.default_rng(7))
    for stream, dims, labels in (("audio", slice(17, 25), tr["music"]), ("flow", slice(8, 14), tr["movement"])):
        x = z[stream][:, dims]
        means = np.array([x[a] for a, _ in tr["sections"]])
        for (a, b), mean in zip(tr["sections"], means):
            assert (x[a:b] == mean).all()  # one texture through the section
        gap = np.linalg.norm(means[:, None] - means[None], axis=2)
        same = np.equal.outer(labels, labels)
        assert gap[same].max() < gap[~same].min()  # a material's statements alike, other materials apart
    assert len(set(tr["music"])) >= 3 and tr["music"] != tr["movement"]


def test_the_eighteenth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`fluency` and `rubato` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from scipy.stats import norm

    from lmac.data.worlds import FluencyWorld, RubatoWorld, build_world

    jerks = []
    for r, tr in _routines(tmp_path, "fluency"):
        els = tr["elements"]
        assert 6 <= len(els) <= 8 and 0.3 < tr["smoothness"] < 0.95
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 3.0 * tr["jerkiness"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        jerks.append(tr["jerkiness"])
    assert min(jerks) < 0.3 and max(jerks) > 0.5  # from a flowing line to a jerky one
    assert FluencyWorld.JERK == 3.0 and FluencyWorld.LINE == 6
    # the stream: the body's line in RGB, the same values for every routine of a length, only their order hers
    world = build_world(world_config("fluency", seed=0))
    for seed in (7, 8):
        z, _, tr = world.make(np.random.default_rng(seed))
        line = z["rgb"][:, 26:32] / 1.5
        quantiles = norm.ppf((np.arange(tr["T"]) + 0.5) / tr["T"])
        np.testing.assert_allclose(np.sort(line, axis=0), np.repeat(quantiles[:, None], 6, 1), atol=1e-12)
        assert tr["jerkiness"] == pytest.approx(np.mean(np.diff(line, axis=0) ** 2) / 2, abs=1e-12)
    steadies, rest = [], []
    for r, tr in _routines(tmp_path, "rubato"):
        spans, T = tr["phrases"], tr["T"]
        _assert_tiles(spans, T)
        assert all(8 <= b - a <= 12 for a, b in spans[:-1]) and 4 <= spans[-1][1] - spans[-1][0] <= 15
        assert len(tr["steadiness"]) == len(spans) and all(0 <= s <= 1 for s in tr["steadiness"])
        assert tr["steady"] == pytest.approx(np.mean(tr["steadiness"]), abs=1e-12) and 0 < tr["follow"] < 1
        assert 4 <= tr["period"] <= 6
        els = tr["elements"]
        assert len(els) == 7 and all(a["end"] <= b["start"] for a, b in zip(els, els[1:]))
        assert r.scores["tes"] == pytest.approx(min(sum(e["value"] * (0.5 + e["q"]) for e in els), 45), abs=0.006)
        base = 18 + 6 / (1 + np.exp(-1.2 * tr["skill"]))
        assert abs(r.scores["pcs"] - base - 6 * (tr["steady"] - 0.75)) < 4  # + the judges' noise N(0, 0.8)
        steadies.append(tr["steady"])
        rest.append(r.scores["pcs"] - base)
    assert min(steadies) < 0.65 and max(steadies) > 0.9
    slope, level = np.polyfit(np.array(steadies) - 0.75, rest, 1)  # PCS gains 6 a unit of steadiness, beyond the noise
    assert 2.5 < slope < 9.5 and abs(level) < 0.6
    assert RubatoWorld.TIMING == 6.0
    # her wander is the music's to the degree she follows, and alone looks the same whatever she follows
    for follow in (0.1, 0.5, 0.95):
        music, hers = RubatoWorld.wanders(np.random.default_rng(3), 120, follow)
        for w in (music, hers):
            assert abs(w.mean()) < 1e-12 and w.std() == pytest.approx(0.35, abs=1e-12)
        assert np.corrcoef(music, hers)[0, 1] == pytest.approx(follow, abs=1e-9)
    # the streams: each pulse's phase in audio and flow, the phrases' timbre, and the steadiness read from them
    world = build_world(world_config("rubato", seed=0))
    z, _, tr = world.make(np.random.default_rng(7))
    music = np.arctan2(z["audio"][:, 18], z["audio"][:, 17])
    movement = np.arctan2(z["flow"][:, 9], z["flow"][:, 8])
    for (a, b), steady in zip(tr["phrases"], tr["steadiness"]):
        assert RubatoWorld.steadiness(movement[a:b], music[a:b]) == pytest.approx(steady, abs=1e-9)
        assert (z["audio"][a:b, 19:25] == z["audio"][a, 19:25]).all()  # one timbre through the phrase
    tempo = np.diff(np.unwrap(music))
    assert 0 < tempo.min() and tempo.max() < np.pi and tempo.mean() == pytest.approx(2 * np.pi / tr["period"], abs=0.05)
    assert RubatoWorld.steadiness([0.3, 1.3, 2.3], [0.0, 1.0, 2.0]) == pytest.approx(1.0)  # any steady offset is in time


def test_the_nineteenth_round_of_held_out_worlds_follows_its_rules(tmp_path):
    """`dynamics` and `power` (seed 0, no model): each documented rule, recomputed from the latent ground truth."""
    from lmac.data.worlds import DynamicsWorld, PowerWorld, build_world

    ms = []
    for r, tr in _routines(tmp_path, "dynamics"):
        els = tr["elements"]
        assert 5 <= len(els) <= 7 and 0 <= tr["disproportion"] <= 0.5 and abs(tr["gain"]) == tr["disproportion"]
        assert tr["movement_range"] / tr["music_range"] == pytest.approx(np.exp(tr["gain"]), rel=1e-9)
        E = 10 - sum(0.4 * (1 - e["q"]) for e in els) - 3.5 * tr["disproportion"]
        assert r.scores["execution"] == pytest.approx(round(max(E, 0) * 20) / 20, abs=1e-6)
        assert r.scores["difficulty"] == pytest.approx(round(sum(e["value"] for e in els) * 20) / 20, abs=1e-6)
        ms.append(tr["disproportion"])
    assert min(ms) < 0.15 and max(ms) > 0.3  # from contrasts in proportion to ones far over or under the music's
    assert DynamicsWorld.DISPROPORTION == 3.5
    # the streams: the music's loudness in audio and her intensity in flow, one shape at the same moments for all, at
    # levels of their own; the disproportion read as the log ratio of their SDs; neither range alone says it
    world = build_world(world_config("dynamics", seed=0))
    far_music, far_movement, m = [], [], []
    for seed in range(300):
        z, _, tr = world.make(np.random.default_rng([0, 19, seed]))
        music, movement = z["audio"][:, 17], z["flow"][:, 10]
        if seed < 3:
            assert np.corrcoef(music, movement)[0, 1] == pytest.approx(1.0, abs=1e-12)
            assert music.std() == pytest.approx(tr["music_range"], rel=1e-9)
            assert DynamicsWorld.disproportion(movement, music) == pytest.approx(tr["disproportion"], abs=1e-9)
            assert DynamicsWorld.disproportion(2 + 3 * music, music) == pytest.approx(np.log(3))  # the level is free
        far_music.append(np.log(music.std()))
        far_movement.append(np.log(movement.std()))
        m.append(tr["disproportion"])
    for x in (far_music, far_movement):
        assert abs(np.corrcoef(m, np.abs(np.array(x) - np.median(x)))[0, 1]) < 0.15
    assert np.corrcoef(m, np.abs(np.array(far_movement) - far_music))[0, 1] == pytest.approx(1.0, abs=1e-9)

    shares, rest = [], []
    for r, tr in _routines(tmp_path, "power"):
        spans, T = tr["surges"], tr["T"]
        _assert_tiles(spans, T)
        lengths = [b - a for a, b in spans]
        assert all(2 <= n <= 10 for n in lengths) and sum(not 5 <= n <= 9 for n in lengths) <= 1
        assert tr["share"] == pytest.approx(np.mean(tr["glides"]), abs=1e-12) and 0 < tr["p"] < 1
        assert 0.6 <= tr["decay"] <= 0.8 and all(0.8 <= h <= 1.6 for h in tr["heights"])
        els = tr["elements"]
        assert len(els) == 7 and all(a["end"] <= b["start"] for a, b in zip(els, els[1:]))
        assert r.scores["tes"] == pytest.approx(min(sum(e["value"] * (0.5 + e["q"]) for e in els), 45), abs=0.006)
        base = 18 + 6 / (1 + np.exp(-1.2 * tr["skill"]))
        assert abs(r.scores["pcs"] - base - 2.5 * (tr["share"] - 0.5)) < 4  # + the judges' noise N(0, 0.8)
        shares.append(tr["share"])
        rest.append(r.scores["pcs"] - base)
    assert min(shares) < 0.3 and max(shares) > 0.7
    slope, level = np.polyfit(np.array(shares) - 0.5, rest, 1)  # PCS gains 2.5 a unit of the share, beyond the noise
    assert 1.0 < slope < 4.5 and abs(level) < 0.6
    assert PowerWorld.POWER == 2.5
    np.testing.assert_allclose(PowerWorld.surge(5, 2.0, 0.5, True), [0, 2, 1, 0.5, 0.25])
    np.testing.assert_allclose(PowerWorld.surge(5, 2.0, 0.5, False), [0.25, 0.5, 1, 2, 0])
    # the stream: her speed in flow, surge by surge; played backwards it is the programme of the other surges, so what
    # a reversal of time leaves as it was is flat in the share, and only time's direction shows it
    world = build_world(world_config("power", seed=0))
    share, change, lag1, rises, cut = [], [], [], [], []
    for seed in range(300):
        z, _, tr = world.make(np.random.default_rng([0, 19, seed]))
        speed = z["flow"][:, 8] / 1.5 - tr["level"]
        odd = [i for i, (a, b) in enumerate(tr["surges"]) if not 5 <= b - a <= 9]
        cut += [odd[0] == 0] if odd else []  # the surge cut to fit: first or last, alike
        if seed < 3:
            starts = [abs(speed[a]) < 1e-12 for a, _ in tr["surges"]]  # a push and glide starts from the level
            assert starts == tr["glides"]
            back = np.concatenate([PowerWorld.surge(b - a, h, tr["decay"], not g) for (a, b), h, g
                                   in zip(tr["surges"][::-1], tr["heights"][::-1], tr["glides"][::-1])])
            np.testing.assert_allclose(speed[::-1], back, atol=1e-12)
        s = speed - speed.mean()
        share.append(tr["share"])
        change.append(np.mean(np.diff(speed) ** 2))
        lag1.append(np.mean(s[1:] * s[:-1]) / s.var())
        rises.append(np.mean(np.diff(speed) > 0))
    assert len(cut) > 100 and 0.4 < np.mean(cut) < 0.6
    for x in (change, lag1):
        assert abs(np.corrcoef(share, x)[0, 1]) < 0.15
    assert np.corrcoef(share, rises)[0, 1] < -0.9


def test_held_out_worlds_stay_out_of_the_suite():
    assert HELD_OUT_WORLDS and set(HELD_OUT_WORLDS).isdisjoint(DEV_WORLDS)
    assert len(DEV_WORLDS) >= 4
    assert not any(t.startswith(f"world_{w}") for w in HELD_OUT_WORLDS for t in SUITES["worlds"])


def test_ensure_world_reuses_a_finished_draw_and_refuses_another(tmp_path):
    ensure_world(tmp_path / "w", _tiny("rg"))
    stamp = (tmp_path / "w/world.json").stat().st_mtime_ns
    ensure_world(tmp_path / "w", _tiny("rg"))
    assert (tmp_path / "w/world.json").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="seed"):
        ensure_world(tmp_path / "w", _tiny("rg", seed=1))
    (tmp_path / "w/world.json").unlink()  # a generation cut short is started again
    ensure_world(tmp_path / "w", _tiny("rg"))
    assert (tmp_path / "w/world.json").is_file()


def test_benchmark_worlds_suite_writes_the_paired_table(tmp_path, capsys):
    from lmac.cli.main import main

    out = tmp_path / "b"
    args = ["benchmark", "--suite", "worlds", "--worlds", "execution", "--models", "concat,concat_rgb",
            "--seeds", "1", "--epochs", "1", "--world-train", "8", "--world-test", "6", "--resamples", "20",
            "--batch-size", "4", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    md = (out / "results.md").read_text()
    assert "`concat` against each model" in md and "| concat_rgb |" in md and "all worlds" in md
    row = next(line for line in md.splitlines() if line.startswith("| concat_rgb |"))
    assert row.count("±") == 2 and "[" in row  # execution and all worlds: difference ± SE [draws ahead]
    assert (out / "data/execution/seed1/world.json").is_file()
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == ["world_execution-concat-s1", "world_execution-concat_rgb-s1"]
    capsys.readouterr()
    assert main(args[:4] + ["landing"] + args[5:]) != 0
    assert "landing is a held-out world" in capsys.readouterr().err


def test_one_two_headed_model_trains_on_fisv_tes_and_pcs(tmp_path):
    """A Fis-V-law world is a Fis-V package (`id TES PCS falls` labels): `fisv_tes_pcs` trains one model for
    both scores on it, and each score gets its own rho."""
    from lmac.config import TrainConfig
    from lmac.training.trainer import train
    from small_models import narrow

    generate_world(tmp_path / "w", _tiny("amplitude", n_train=24, n_test=12))
    cfg = TrainConfig(task="fisv_tes_pcs", model="lmac_aligned_md", model_args=narrow("lmac"),
                      features=str(tmp_path / "w/features"), labels=str(tmp_path / "w"), epochs=2, batch_size=8,
                      window=16, progress=False, device="cpu")
    s = train(cfg, tmp_path / "run", log=lambda m: None)
    assert set(s["per_score"]) == {"tes", "pcs"} and s["test_videos"] == 12
    assert s["per_score"]["tes"]["test_srcc_last"] != s["per_score"]["pcs"]["test_srcc_last"]


def test_a_model_trained_on_rg_parts_scores_their_signed_sum(tmp_path):
    """`world_energy_parts` (like `rg_ball_parts`): the model predicts D, E and P, each over the total's range, and
    is scored (predictions.csv, rho, lmac predict) on D + E - P, against the judges' total."""
    import torch

    import lmac
    from lmac.config import TrainConfig
    from lmac.data.dataset import FeatureSequenceDataset
    from lmac.data.features import open_feature_store
    from lmac.training.trainer import load_run_model, train
    from small_models import narrow

    task = get_task("world_energy_parts")
    assert (task.n_outputs, task.n_scores, task.score_key) == (3, 1, "total")
    assert "world_energy_parts" not in SUITES["worlds"] and "rg_ball_parts" not in SUITES["rg"]
    assert world_tasks("energy", multi=True) == ["world_energy", "world_energy_parts"]  # asked for by --tasks
    assert float(task.compose(torch.tensor([0.4, 0.3, 0.01]))) == pytest.approx(0.69)
    assert task.compose(np.array([[0.4, 0.3, 0.01]])).tolist() == pytest.approx([0.69])
    assert get_task("world_energy").compose(torch.tensor([0.5])).tolist() == [0.5]  # no parts: unchanged

    generate_world(tmp_path / "w", _tiny("energy", n_train=24, n_test=12))
    rows = read_labels(tmp_path / "w" / "test.txt", "rg")
    store = open_feature_store(tmp_path / "w" / "features")
    ds = FeatureSequenceDataset(store, rows, task, False, 80)
    r = next((r for r in rows if r.scores["penalty"] > 0), rows[-1])  # a routine with a drop, where there is one
    item = ds[[x.video_id for x in ds.samples].index(r.video_id)]
    assert item["score"] == pytest.approx(r.scores["total"])
    assert item["target"] == pytest.approx([r.scores[c] / 25.0 for c in ("difficulty", "execution", "penalty")])

    cfg = TrainConfig(task="world_energy_parts", model="gdlt", model_args=narrow("gdlt"),
                      features=str(tmp_path / "w/features"), labels=str(tmp_path / "w"), epochs=2, batch_size=8,
                      window=16, progress=False, device="cpu")
    train(cfg, tmp_path / "run", log=lambda m: None)
    model, _ = load_run_model(tmp_path / "run", "last")
    assert model.config.num_scores == 3
    x = {"rgb": torch.from_numpy(np.ascontiguousarray(store.load(r.video_id)["rgb"]))[None]}
    with torch.no_grad():
        d, e, p = (25.0 * model(x, torch.ones(1, x["rgb"].shape[1], dtype=torch.bool))["score"][0]).tolist()
    csv = (tmp_path / "run" / "predictions.csv").read_text().splitlines()
    head, row = csv[0].split(","), next(line.split(",") for line in csv if line.startswith(r.video_id + ","))
    assert float(row[head.index("pred_last")]) == pytest.approx(d + e - p, abs=1e-4)
    assert float(row[head.index("true_score")]) == pytest.approx(r.scores["total"])
    got = {c: (float(row[head.index(f"true_{c}")]), float(row[head.index(f"pred_last_{c}")])) for c in ("difficulty", "execution", "penalty")}
    assert got == {c: (pytest.approx(r.scores[c], abs=1e-4), pytest.approx(v, abs=1e-4))
                   for c, v in zip(("difficulty", "execution", "penalty"), (d, e, p))}
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert set(summary["per_part"]) == {"difficulty", "execution", "penalty"} and "per_score" not in summary
    pred = lmac.load(tmp_path / "run").predict_features(tmp_path / "w" / "features", video_id=r.video_id)
    assert pred.parts == pytest.approx({"difficulty": d, "execution": e, "penalty": p}, abs=1e-4)
    assert pred.score == pytest.approx(d + e - p, abs=1e-4) and "parts: difficulty" in pred.summary()


def test_the_landing_oracle_rebuilds_the_worlds_jump_values(tmp_path):
    """benchmarks/worlds_landing_oracle.py: its full rule is the generator's TES (rho 1), so the RGB oracle it
    reports beside it reads the same jump values the world used."""
    mod = load("worlds_landing_oracle")  # it shares the command line of worlds_energy_oracle.py
    generate_world(tmp_path / "seed1", _tiny("landing", seed=1, n_train=4, n_test=12))
    r = mod.oracles(tmp_path / "seed1")
    assert r["test_videos"] == 12
    assert r["tes_full_oracle"] == pytest.approx(1.0, abs=0.05)
    assert -1 <= r["tes_rgb_oracle"] <= 1 and r["tes_rgb_oracle"] < r["tes_full_oracle"] + 1e-9
    assert mod.main([str(tmp_path), "--seeds", "1", "--out", str(tmp_path / "o.json")]) == 0
    assert json.loads((tmp_path / "o.json").read_text())["seed1"] == pytest.approx(r)


def test_the_rg_missing_stream_oracle_restates_the_law_and_sees_what_happened(tmp_path):
    """benchmarks/worlds_rg_missing_oracle.py: its all-streams reader is the generator's total (rho 1), and each
    partial reader's observation model gives what the generator did a non-zero likelihood: every element's
    climax or span is possible under its true skill, musicality and timing (a wrong rounding, sign or slot fails)."""
    mod = load("worlds_rg_missing_oracle")
    generate_world(tmp_path / "seed1", _tiny("rg", seed=1, n_train=4, n_test=16))
    truth = json.loads((tmp_path / "seed1" / "truth.json").read_text())
    for tr in truth.values():
        u = 0.6 * tr["skill"] + tr["musicality"]
        for e, el in enumerate(tr["elements"]):
            for sees in ("no_audio", "no_flow"):
                z, t, c = mod._element_posterior(el, tr["T"], len(tr["elements"]), e, sees, 2.5)
                assert np.interp(u, mod.U, z) > 0, (sees, el)
                assert ((0 <= t) & (t <= 1) & (0 <= c) & (c <= 1)).all()
    # the no-audio likelihood of each segment the climax can land in, against the generator's process simulated
    tr = next(iter(truth.values()))
    el, T, n_el = tr["elements"][1], tr["T"], len(tr["elements"])
    rng = np.random.default_rng(0)
    L, edges = el["end"] - el["start"], np.linspace(1, T - 1, n_el + 1)
    lo, hi = edges[1] + 2.5 + L / 2, max(edges[1] + 2.5 + L / 2, edges[2] - 2.5 - L / 2)
    timing = 1 / (1 + np.exp(-(0.5 + rng.normal(0, 0.6, 20000))))
    highlight = np.round(rng.uniform(lo, hi, 20000))
    climax = np.clip(highlight + rng.choice([-1.0, 1.0], 20000) * 2.5 * (1 - timing), edges[1] + L / 2, edges[2] - L / 2)
    for c in np.unique(np.round(climax)):
        z = mod._element_posterior({**el, "climax": float(c)}, T, n_el, 1, "no_audio", 2.5)[0]
        assert np.interp(0.5, mod.U, z) == pytest.approx(np.mean(np.round(climax) == c), abs=0.015), c
    r = mod.oracles(tmp_path / "seed1")
    assert r["test_videos"] == 16
    assert r["all"] == pytest.approx(1.0, abs=0.02)
    assert all(-1 <= r[k] <= r["all"] + 1e-9 for k in ("no_audio", "no_flow", "skill_only"))
    assert mod.main([str(tmp_path), "--seeds", "1", "--out", str(tmp_path / "o.json")]) == 0
    assert json.loads((tmp_path / "o.json").read_text())["seed1"] == pytest.approx(r)


def test_the_fallback_cv_probe_reads_the_subset_it_is_given(tmp_path):
    """benchmarks/worlds_fallback_cv_probe.py: the fallback's reads are the subset's (RGB alone, RGB and audio; never
    flow), the main read is the best over every stream's, and the shared-moment read is its own fit's."""
    mod = load("worlds_fallback_cv_probe")
    generate_world(tmp_path / "seed1", _tiny("rg", seed=1, n_train=30, n_test=4))
    assert mod.main([str(tmp_path), "world_rg", "--subset", "audio,rgb", "--seeds", "1", "--out", str(tmp_path / "o.json")]) == 0
    r = json.loads((tmp_path / "o.json").read_text())["seed1"]
    assert set(r["pooled"]) == {"rgb", "rgb+audio"} and set(r["shared"]) <= {"rgb", "rgb+audio"}
    assert r["pooled_best"] == max(r["pooled"].values()) and r["with_shared_moments"] == r["shared"]["rgb+audio"]
    every = mod.cv_reads(tmp_path / "seed1", "world_rg", ["rgb", "flow", "audio"], 1, None)
    assert "rgb+flow+audio" in every and r["main"] == pytest.approx(max(every.values()))


def test_the_ridge_probe_reads_a_score_that_is_linear_in_the_pooled_features(tmp_path):
    """benchmarks/worlds_ridge_probe.py uses lmac train's validation split and no test video; where the score is
    a linear function of each video's mean RGB feature, its validation rho is near 1, and lower on the world's
    own score."""
    mod = load("worlds_ridge_probe")
    folder = tmp_path / "energy" / "seed1"
    generate_world(folder, _tiny("energy", seed=1, n_train=60, n_test=2, dims={"rgb": 8, "flow": 8, "audio": 8}))
    own = mod.probe(tmp_path / "energy", "world_energy", 1)
    assert own["train_videos"] == 48 and own["val_videos"] == 12 and own["penalty"] in mod.PENALTIES
    assert mod.main([str(tmp_path / "energy"), "--seeds", "1", "--out", str(tmp_path / "o.json")]) == 0
    assert json.loads((tmp_path / "o.json").read_text())["tasks"]["world_energy"]["1"]["val_rho"] == pytest.approx(
        own["val_rho"])
    lines = (folder / "train.txt").read_text().splitlines()
    head, rows = lines[0], [line.split("\t") for line in lines[1:]]
    cols = head.split("\t")
    d, e, p, t = (cols.index(c) for c in ("Difficulty_Score", "Execution_Score", "Penalty", "Total_Score"))
    for r in rows:
        x = load_file(folder / "features" / f"{r[0]}.safetensors")["rgb"]
        r[d], r[e], r[p] = f"{8 + 5 * float(x[:, 3].mean()):.4f}", "5.0", "0.0"
        r[t] = f"{float(r[d]) + 5.0:.4f}"
    (folder / "train.txt").write_text("\n".join([head] + ["\t".join(r) for r in rows]) + "\n")
    linear = mod.probe(tmp_path / "energy", "world_energy", 1, ["rgb"])
    assert linear["val_rho"] > 0.9 > own["val_rho"]


def test_the_ridge_probes_two_forms_give_the_same_fit():
    """Primal (features <= videos) and dual (more features than videos) ridge are the same estimator."""
    mod = load("worlds_ridge_probe")
    rng = np.random.default_rng(0)
    wide, y = rng.normal(size=(30, 42)), rng.normal(size=30)  # 42 features > 30 videos: the dual form
    Xn = rng.normal(size=(5, 42))
    dual = mod.ridge_fit(wide, y, 10.0)(Xn)
    mu, sd = wide.mean(0), wide.std(0) + 1e-9
    Z = (wide - mu) / sd
    w = np.linalg.solve(Z.T @ Z + 10.0 * np.eye(42), Z.T @ (y - y.mean()))
    assert dual == pytest.approx(((Xn - mu) / sd) @ w + y.mean(), abs=1e-8)


def test_the_ridge_blend_screen_scores_each_run_on_its_own_validation_split(tmp_path):
    """benchmarks/worlds_val_ridge_blend.py: the run's own validation rho is the one its metrics.csv recorded at the
    last epoch (the same videos, the same checkpoint), the ridge member is fitted on that run's training videos, and
    the blend is (2 x run + ridge) / 3."""
    import csv

    from lmac.config import TrainConfig
    from lmac.evaluation.benchmark import job_dir
    from lmac.training.trainer import train

    mod = load("worlds_val_ridge_blend")
    folder = tmp_path / "B" / "data" / "energy" / "seed1"
    generate_world(folder, _tiny("energy", seed=1, n_train=40, n_test=4, dims={"rgb": 8, "flow": 8, "audio": 8}))
    run = job_dir(tmp_path / "B", "world_energy", "gdlt", 1)
    train(TrainConfig(task="world_energy", model="gdlt", features=str(folder / "features"), labels=str(folder),
                      seed=1, epochs=2, progress=False, device="cpu"), run, log=lambda m: None)
    assert mod.main([str(tmp_path / "B"), "--model", "gdlt", "--seeds", "1", "--out", str(tmp_path / "o.json")]) == 0
    out = json.loads((tmp_path / "o.json").read_text())
    (row,) = out["rows"]
    last = list(csv.DictReader(open(run / "metrics.csv")))[-1]
    assert row["run"] == pytest.approx(float(last["val_srcc"]), abs=1e-6)
    assert row["ridge_inputs"] in (["rgb"], ["rgb", "flow", "audio"]) and -1 <= row["ridge"] <= 1
    assert out["table"]["energy"]["blend"] == pytest.approx(row["blend"])
    # the out-of-step control moves only what is read together: pooled means and sums do not see it
    assert mod.main([str(tmp_path / "B"), "--model", "gdlt", "--seeds", "1", "--desync", "--out",
                     str(tmp_path / "d.json")]) == 0
    (moved,) = json.loads((tmp_path / "d.json").read_text())["rows"]
    assert moved["ridge"] == pytest.approx(row["ridge"], abs=1e-9) and moved["run"] == row["run"]
    # the ridge's weight (the sixteenth candidate): 0 leaves the run alone, a huge one the ridge alone
    for weight, want in (("0", row["run"]), ("1e9", row["ridge"])):
        assert mod.main([str(tmp_path / "B"), "--model", "gdlt", "--seeds", "1", "--ridge-weight", weight, "--out",
                         str(tmp_path / "w.json")]) == 0
        (weighted,) = json.loads((tmp_path / "w.json").read_text())["rows"]
        assert weighted["blend"] == pytest.approx(want, abs=1e-9)


def test_member_scores_of_a_default_run_include_the_ensembles_own_test_rho(tmp_path):
    """benchmarks/worlds_member_scores.py: the ensemble's rho it computes is the run's own last-epoch test rho."""
    from lmac.config import TrainConfig
    from lmac.evaluation.benchmark import job_dir
    from lmac.training.trainer import train
    from small_models import narrow

    mod = load("worlds_member_scores")
    folder = tmp_path / "B" / "data" / "energy" / "seed1"
    generate_world(folder, _tiny("energy", seed=1, n_train=30, n_test=12, dims={"rgb": 8, "flow": 8, "audio": 8}))
    run = job_dir(tmp_path / "B", "world_energy", "lmac_ensemble", 1)
    s = train(TrainConfig(task="world_energy", model_args=narrow("lmac_ensemble"), features=str(folder / "features"),
                          labels=str(folder), seed=1, epochs=1, progress=False, device="cpu"), run, log=lambda m: None)
    out = mod.main([str(tmp_path / "B")])
    (row,) = out["runs"].values()
    assert set(row) == {"lmac_aligned_md", "gdlt", "pooled_ridge", "ensemble"}
    assert row["ensemble"] == pytest.approx(s["test_srcc_last"], abs=1e-6)
    assert out["worlds"]["energy"]["pooled_ridge"] == pytest.approx(row["pooled_ridge"])
    # re-weighted members: the default weights (1, 1, 4) are the ensemble, the ridge's weight alone is the ridge
    for weights, want in (("1,1,4", row["ensemble"]), ("0,0,1", row["pooled_ridge"]), ("2,0,0", row["lmac_aligned_md"])):
        (again,) = mod.main([str(tmp_path / "B"), "--weights", weights])["runs"].values()
        assert again["reweighted"] == pytest.approx(want, abs=1e-6)
    with pytest.raises(SystemExit, match="weights must be 3"):
        mod.main([str(tmp_path / "B"), "--weights", "1,2"])


def test_the_gate_screen_rebuilds_the_default_around_a_runs_members(tmp_path):
    """benchmarks/worlds_val_gate.py on a run of today's default: its gated figure is the run's own last-epoch
    validation rho (the same members, the ridge refitted on the same videos), `--weights` sets the weights before the
    gate (the twenty-sixth candidate's screen): the default's own (1,1,4 since) are the default, the ridge's alone the
    ridge; each row says which modalities the run pretrained and which the refitted ridge would have it pretrain, and
    `--ridge-args` gives the ridge options (the twenty-seventh's screen), `--withhold` withholds modalities as the
    trainer's missing-modality figures do (the twenty-eighth's)."""
    import csv

    from lmac.config import TrainConfig
    from lmac.evaluation.benchmark import job_dir
    from lmac.training.trainer import train
    from small_models import narrow

    mod = load("worlds_val_gate")
    folder = tmp_path / "B" / "data" / "energy" / "seed1"
    generate_world(folder, _tiny("energy", seed=1, n_train=40, n_test=4, dims={"rgb": 8, "flow": 8, "audio": 8}))
    run = job_dir(tmp_path / "B", "world_energy", "lmac_ensemble", 1)
    train(TrainConfig(task="world_energy", model_args=narrow("lmac_ensemble"), features=str(folder / "features"),
                      labels=str(folder), seed=1, epochs=1, progress=False, device="cpu"), run, log=lambda m: None)
    last = float(list(csv.DictReader(open(run / "metrics.csv")))[-1]["val_srcc"])
    rows = {}
    for weights in ("", "1,1,2", "0,0,1", "1,1,4"):
        assert mod.main([str(tmp_path / "B"), "--seeds", "1", "--weights", weights, "--out", str(tmp_path / "o.json")]) == 0
        (rows[weights],) = json.loads((tmp_path / "o.json").read_text())["runs"]
    assert rows[""]["gated"] == pytest.approx(last, abs=1e-6)
    assert rows["1,1,4"]["gated"] == rows[""]["gated"] and rows["1,1,4"]["fixed"] == rows[""]["fixed"]
    assert rows["0,0,1"]["fixed_weights"] == {"lmac_aligned_md": 0.0, "gdlt": 0.0, "pooled_ridge": 1.0}
    assert rows["0,0,1"]["gated"] == rows["0,0,1"]["fixed"]  # the gate leaves the ridge's weight alone
    assert rows["1,1,2"]["fixed_weights"]["pooled_ridge"] == pytest.approx(2 / 4)
    g = rows[""]["gated_weights"]  # the gate's factors are the same under other weights
    g2 = rows["1,1,2"]["gated_weights"]
    assert g2["lmac_aligned_md"] / g2["pooled_ridge"] == pytest.approx(g["lmac_aligned_md"] / g["pooled_ridge"] * 2)
    # the modalities the run pretrained (its stage1 folders) are those of the ridge's best read, refitted here
    assert rows[""]["pretrained"] == rows[""]["pretrain_read"] and rows[""]["pretrained"]
    assert mod.main([str(tmp_path / "B"), "--seeds", "1", "--ridge-args", "key_pool=true,key_rank=2",
                     "--out", str(tmp_path / "k.json")]) == 0
    (keyed,) = json.loads((tmp_path / "k.json").read_text())["runs"]
    assert keyed["gated"] != rows[""]["gated"]  # the ridge read its key moments too
    assert mod.parse_ridge_args("key_pool=true, key_rank=16,inputs=rgb") == {"key_pool": True, "key_rank": 16,
                                                                           "inputs": "rgb"}
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        mod.parse_ridge_args("key_pool")
    # `--withhold` (the twenty-eighth's screen): each modality withheld as the trainer's missing-modality figures do
    summary = json.loads((run / "summary.json").read_text())
    for ridge_args in ("", "fallback=true"):
        assert mod.main([str(tmp_path / "B"), "--seeds", "1", "--split", "test", "--withhold", "audio,flow",
                         "--ridge-args", ridge_args, "--out", str(tmp_path / "w.json")]) == 0
        (held,) = json.loads((tmp_path / "w.json").read_text())["runs"]
        assert held["gated"] == pytest.approx(summary["test_srcc_last"], abs=1e-6)  # a fallback changes no full video
        if not ridge_args:
            for m in ("audio", "flow"):
                assert held[f"gated_without_{m}"] == pytest.approx(summary["missing_modality"][m], abs=1e-6)


def test_the_per_score_table_judges_tes_and_pcs_each_alone(tmp_path):
    """benchmarks/worlds_tables.py --per-score: one column per task, each cell that task's own rho, so a Fis-V
    world's average cannot hide a score on which the reference is behind."""
    from lmac.config import TrainConfig
    from lmac.evaluation.benchmark import job_dir
    from lmac.training.trainer import train
    from small_models import narrow

    folder = tmp_path / "B" / "data" / "amplitude" / "seed1"
    generate_world(folder, _tiny("amplitude", seed=1, n_train=24, n_test=12, dims={"rgb": 8, "flow": 8, "audio": 8}))
    rho = {}
    for task in ("world_amplitude_tes", "world_amplitude_pcs"):
        for model in ("concat", "concat_rgb"):
            cfg = TrainConfig(task=task, model=model, model_args=narrow(model), features=str(folder / "features"),
                              labels=str(folder), seed=1, epochs=1, progress=False, device="cpu")
            rho[task, model] = train(cfg, job_dir(tmp_path / "B", task, model, 1), log=lambda m: None)["test_srcc_last"]
    dest = tmp_path / "table"
    assert load("worlds_tables").main([str(tmp_path / "B"), "concat,concat_rgb", str(dest), "--per-score",
                                       "--resamples", "20"]) == 0
    md = dest.with_suffix(".md").read_text()
    per_score = md[md.index("## Scores: `concat`"):]
    last = per_score[per_score.index("### last epoch"):]
    header = next(line for line in last.splitlines() if line.startswith("| model |"))
    assert header == "| model | world_amplitude_pcs | world_amplitude_tes | all worlds |"
    ref = next(line for line in last.splitlines() if line.startswith("| concat |")).split("|")[2:4]
    assert [c.strip() for c in ref] == [f"**{rho[t, 'concat']:.3f}**" for t in ("world_amplitude_pcs", "world_amplitude_tes")]
    other = next(line for line in last.splitlines() if line.startswith("| concat_rgb |")).split("|")[2:4]
    for cell, t in zip(other, ("world_amplitude_pcs", "world_amplitude_tes")):
        got, diff = cell.split(";")
        assert float(got) == pytest.approx(rho[t, "concat_rgb"], abs=1e-3)
        assert float(diff.split("±")[0]) == pytest.approx(rho[t, "concat"] - rho[t, "concat_rgb"], abs=2e-3)
    assert "| model | amplitude | all worlds |" in md[:md.index("## Scores")]  # the per-world table stays first
    # --worlds keeps only the named worlds' runs: amplitude's table is the same, a world with no runs is refused
    only = tmp_path / "only"
    assert load("worlds_tables").main([str(tmp_path / "B"), "concat,concat_rgb", str(only), "--per-score",
                                       "--resamples", "20", "--worlds", "amplitude"]) == 0
    assert only.with_suffix(".md").read_text() == md
    with pytest.raises(SystemExit):
        load("worlds_tables").main([str(tmp_path / "B"), "concat,concat_rgb", str(only), "--worlds", "amp"])
    assert load("worlds_tables").main([str(tmp_path / "B"), "concat,concat_rgb", str(only), "--per-score",
                                       "--resamples", "20", "--worlds", "amplitude_pcs"]) == 0  # one score
    assert "| model | world_amplitude_pcs | all worlds |" in only.with_suffix(".md").read_text()
    # --add: a model's runs from another folder of the same draws, under a new name (here concat_rgb's own runs, so
    # its row must repeat concat_rgb's); a folder tested on other labels is refused
    import shutil

    for t in ("world_amplitude_tes", "world_amplitude_pcs"):
        shutil.copytree(job_dir(tmp_path / "B", t, "concat_rgb", 1), job_dir(tmp_path / "C", t, "concat_rgb", 1))
    added = tmp_path / "added"
    assert load("worlds_tables").main([str(tmp_path / "B"), "concat,concat_rgb", str(added), "--resamples", "20",
                                       "--add", f"{tmp_path / 'C'}:concat_rgb=again"]) == 0
    rows = {line.split("|")[1].strip(): line.split("|")[2:] for line in added.with_suffix(".md").read_text().splitlines()
            if line.startswith("| concat_rgb |") or line.startswith("| again |")}
    assert rows["again"] == rows["concat_rgb"]
    with pytest.raises(SystemExit):  # a name the folder already has is refused
        load("worlds_tables").main([str(tmp_path / "B"), "concat,concat_rgb", str(added), "--add",
                                    f"{tmp_path / 'C'}:concat_rgb=concat"])
    pred = job_dir(tmp_path / "C", "world_amplitude_pcs", "concat_rgb", 1) / "predictions.csv"
    lines = pred.read_text().splitlines()
    head = lines[0].split(",")
    first = lines[1].split(",")
    first[head.index("true_score")] = str(float(first[head.index("true_score")]) + 1.0)
    pred.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    with pytest.raises(SystemExit):
        load("worlds_tables").main([str(tmp_path / "B"), "concat,concat_rgb", str(added), "--add",
                                    f"{tmp_path / 'C'}:concat_rgb=again"])


def test_merged_screens_take_each_task_draw_from_the_latest_file_and_average_again(tmp_path):
    """benchmarks/worlds_val_merge.py: a later screen's task-draws replace an earlier one's; the worlds' figures are
    the Fisher-z averages over the merged runs, and each run says which file it came from."""
    from benchmark_scripts import load

    from lmac.evaluation.metrics import fisher_z_mean

    def run(task, seed, rho):
        return {"task": task, "seed": seed, "fixed": rho, "gated": rho + 0.01}

    base = {"runs": [run("world_execution", 1, 0.5), run("world_execution", 2, 0.6), run("world_rg", 1, 0.8)]}
    own = {"runs": [run("world_execution", 2, 0.3)]}
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "own.json").write_text(json.dumps(own))
    merged = load("worlds_val_merge").merge([tmp_path / "base.json", tmp_path / "own.json"])
    assert [(r["task"], r["seed"], r["fixed"], r["from"]) for r in merged["runs"]] == [
        ("world_execution", 1, 0.5, "base.json"), ("world_execution", 2, 0.3, "own.json"), ("world_rg", 1, 0.8, "base.json")]
    assert merged["worlds"]["execution"]["fixed"] == pytest.approx(fisher_z_mean([0.5, 0.3]))
    assert merged["worlds"]["all worlds"]["gated"] == pytest.approx(fisher_z_mean([0.51, 0.31, 0.81]))


@pytest.mark.parametrize("name", ["energy", "glide"])  # one world of each law
def test_draw_hash_is_the_hash_of_what_generate_world_writes(tmp_path, name):
    """benchmarks/worlds_draw_hash.py makes a draw afresh to tell a rerun's data from a round's: its features hash
    must be the hash of the very arrays generate_world wrote, and another seed must change its labels hash."""
    import hashlib

    draw_hashes = load("worlds_draw_hash").draw_hashes
    generate_world(tmp_path / "w", _tiny(name, seed=5))
    generate_world(tmp_path / "o", _tiny(name, seed=6))
    law_rg = WORLDS[name].LAW == "rg"
    h = hashlib.md5()
    for i in range(3):
        vid = f"{WORLDS[name].CLASS}_{i + 1:04d}" if law_rg else f"{i + 1}"
        x = load_file(tmp_path / f"w/features/{vid}.safetensors")
        for k in sorted(x):
            h.update(np.ascontiguousarray(x[k]).tobytes())
    got = draw_hashes(tmp_path / "w/world.json", n_features=3)
    assert got["features_first_3"] == h.hexdigest()
    assert got == draw_hashes(tmp_path / "w/world.json", n_features=3)
    assert got["labels"] != draw_hashes(tmp_path / "o/world.json", n_features=3)["labels"]
