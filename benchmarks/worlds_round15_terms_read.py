"""After round 15 ran (a diagnostic; nothing is chosen on it): does any model read the round's new terms, beyond what
the rest of the score shows? For each model's last-epoch test predictions, the partial correlation with the new term
given the rest (as `worlds_round14_terms_read.py` for round 14): in `seams`, with minus the elements across a seam
given what RGB shows (the elements' values less their technical deductions); in `placement` PCS, with the rank
correlation of the jumps' values and the music under them given the skill term 6 sigmoid(1.2 skill). The row `truth`
is the judges' own score in place of a prediction: what a model that read everything would reach (the judges' noise
keeps it below 1).

    python benchmarks/worlds_round15_terms_read.py HELDOUT15 [--models truth,lmac_ensemble,gdlt,concat,lmac]
"""
from __future__ import annotations

import numpy as np

import worlds_round14_terms_read as round14

READERS = {
    "seams": ("world_seams", lambda tr: -np.array([t["seams"] for t in tr], float), round14.rgb_elements),
    "placement": ("world_placement_pcs", lambda tr: np.array([t["match"] for t in tr]), round14.skill_term),
}

if __name__ == "__main__":
    raise SystemExit(round14.main(readers=READERS, models="truth,lmac_ensemble,gdlt,concat,lmac", doc=__doc__))
