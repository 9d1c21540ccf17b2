"""`lmac.predict`: the inference package's public names, where they have always been (see lmac.inference)."""
from lmac.inference import *  # noqa: F401,F403
from lmac.inference import __all__  # noqa: F401
