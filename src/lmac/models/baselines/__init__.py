"""Baselines that share the data, training and evaluation code of LMAC-Net."""
from lmac.models.baselines import concat  # noqa: F401
from lmac.models.baselines import gdlt  # noqa: F401
from lmac.models.baselines import pamfn  # noqa: F401
