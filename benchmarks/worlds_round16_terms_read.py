"""After round 16 ran (a diagnostic; nothing is chosen on it): does any model read the round's new terms, beyond what
the rest of the score shows? For each model's last-epoch test predictions, the partial correlation with the new term
given the rest (as `worlds_round14_terms_read.py` for round 14): in `flights`, with the risks' value (the rotations
made inside the flights flow marks) given what RGB's body elements show (their values less their technical
deductions); in `bonus` TES, with the second half's bonus given the jumps' points without it (base values and GOE, what
RGB shows without reading when). The row `truth` is the judges' own score in place of a prediction: what a model that
read everything would reach (in `bonus` TES the judges add no noise, so it is 1 but for the labels' rounding).

    python benchmarks/worlds_round16_terms_read.py HELDOUT16 [--models truth,lmac_ensemble,gdlt,concat,lmac]
"""
from __future__ import annotations

import numpy as np

import worlds_round14_terms_read as round14


def jump_points(tr: list) -> np.ndarray:
    """What RGB shows of a `bonus` programme's jumps without reading when: the base values and their GOE."""
    return np.array([sum(e["value"] + e["goe"] for e in t["elements"]) for t in tr])


READERS = {
    "flights": ("world_flights", lambda tr: np.array([t["risk_value"] for t in tr]), round14.rgb_elements),
    "bonus": ("world_bonus_tes", lambda tr: np.array([t["bonus"] for t in tr]), jump_points),
}

if __name__ == "__main__":
    raise SystemExit(round14.main(readers=READERS, models="truth,lmac_ensemble,gdlt,concat,lmac", doc=__doc__))
