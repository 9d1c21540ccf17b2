"""After round 18 ran (a diagnostic; nothing is chosen on it): does any model read the round's new terms, beyond what
the rest of the score shows? For each model's last-epoch test predictions, the partial correlation with the new term
given the rest (as `worlds_round14_terms_read.py` for round 14): in `fluency`, with minus the jerkiness of RGB's line
given what RGB's elements show (their values less their technical deductions); in `rubato` PCS, with the phrases' mean
steadiness of the two pulses' relative phase given the skill term 6 sigmoid(1.2 skill). The row `truth` is the judges'
own score in place of a prediction: what a model that read everything would reach. Written before round 18 ran.

    python benchmarks/worlds_round18_terms_read.py HELDOUT18 [--models truth,lmac_ensemble,gdlt,concat,lmac]
"""
from __future__ import annotations

import numpy as np

import worlds_round14_terms_read as round14

READERS = {
    "fluency": ("world_fluency", lambda tr: -np.array([t["jerkiness"] for t in tr]), round14.rgb_elements),
    "rubato": ("world_rubato_pcs", lambda tr: np.array([t["steady"] for t in tr]), round14.skill_term),
}

if __name__ == "__main__":
    raise SystemExit(round14.main(readers=READERS, models="truth,lmac_ensemble,gdlt,concat,lmac", doc=__doc__))
