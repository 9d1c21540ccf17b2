"""Models, built by name from one registry: `create_model("lmac", dims={"rgb": 1024, ...})`.

Importing this package imports every model module, which fills the registry.
"""
from lmac.models._builder import MODELS, create_model, list_models, count_parameters
from lmac.models import baselines  # noqa: F401  (registers baselines)
from lmac.models import lmac_net  # noqa: F401  (registers lmac and its variants)
from lmac.models import ridge  # noqa: F401  (registers pooled_ridge, an ensemble member)
from lmac.models import ensemble  # noqa: F401  (registers lmac_ensemble; after the models it is made of)

__all__ = ["MODELS", "create_model", "list_models", "count_parameters"]
