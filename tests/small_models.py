"""Narrow widths for tests that train or build many models: the same code paths as the default
widths (which test_models.py also covers), at a fraction of the cost (a default-width LMAC-Net
alone takes 0.1 s to build)."""

LMAC = {"d_model": 32, "d_ffn": 64, "num_heads": 4}
NARROW = {"lmac": LMAC, "concat": {"hidden": 32}, "gdlt": {"hidden": 32}, "pamfn": {"hidden": 16, "embed_hidden": 32, "K": 3}}


def narrow(model: str) -> dict:
    """The narrow options of a registered model name (lmac_* share LMAC-Net's; concat_rgb is concat;
    lmac_ensemble gives each member its own)."""
    if model == "lmac_ensemble":
        from lmac.models.ensemble import EnsembleConfig

        return {"member_args": {m: narrow(m) for m in EnsembleConfig().names() if narrow(m)}}
    if model == "pamfn_branch":
        return {k: v for k, v in NARROW["pamfn"].items() if k != "K"}
    if model == "pooled_ridge":  # no widths: a closed-form fit
        return {}
    return dict(NARROW["lmac" if model.startswith("lmac") else model.split("_")[0]])


def model_dims(name: str, dims: dict) -> dict:
    """The dims a model is built with from data offering `dims`: a single-modality model (pamfn_branch,
    trained per modality) takes the first."""
    from lmac.models import MODELS

    return {k: dims[k] for k in list(dims)[:1]} if MODELS.info(name).get("single_modality") else dict(dims)


def without_dropout(name: str) -> dict:
    """Options that switch a model's configurable dropout off (models differ in what they call it)."""
    from dataclasses import fields

    from lmac.models import MODELS

    if name == "lmac_ensemble":
        from lmac.models.ensemble import EnsembleConfig

        return {"dropout": 0.0, "member_args": {m: without_dropout(m) for m in EnsembleConfig().names()
                                                if without_dropout(m)}}
    names = {f.name for f in fields(MODELS.info(name)["config"])}
    return {k: 0.0 for k in ("dropout", "feature_dropout", "fc_dropout", "branch_dropout", "modality_dropout")
            if k in names}


def merge_options(*opts: dict) -> dict:
    """Model options merged left to right; `member_args` (lmac_ensemble) merged per member."""
    out: dict = {}
    for o in opts:
        for k, v in o.items():
            if k == "member_args":
                members = dict(out.get(k, {}))
                for m, a in v.items():
                    members[m] = {**members.get(m, {}), **a}
                out[k] = members
            else:
                out[k] = v
    return out
