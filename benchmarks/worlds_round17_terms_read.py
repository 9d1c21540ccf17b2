"""After round 17 ran (a diagnostic; nothing is chosen on it): does any model read the round's new terms, beyond what
the rest of the score shows? For each model's last-epoch test predictions, the partial correlation with the new term
given the rest (as `worlds_round14_terms_read.py` for round 14): in `expression`, with the effective number of body
segments moving (how evenly RGB's movement is shared among the four parts) given what RGB's elements show (their
values less their technical deductions); in `reprise` PCS, with the share of sections whose movement follows the
music's form (audio's and flow's partitions read against each other) given the skill term 6 sigmoid(1.2 skill). The
row `truth` is the judges' own score in place of a prediction: what a model that read everything would reach.

    python benchmarks/worlds_round17_terms_read.py HELDOUT17 [--models truth,lmac_ensemble,gdlt,concat,lmac]
"""
from __future__ import annotations

import numpy as np

import worlds_round14_terms_read as round14

READERS = {
    "expression": ("world_expression", lambda tr: np.array([t["segments_moving"] for t in tr]), round14.rgb_elements),
    "reprise": ("world_reprise_pcs", lambda tr: np.array([t["share"] for t in tr]), round14.skill_term),
}

if __name__ == "__main__":
    raise SystemExit(round14.main(readers=READERS, models="truth,lmac_ensemble,gdlt,concat,lmac", doc=__doc__))
