"""Narrow widths for tests that train or build many models: the same code paths as the default
widths (which test_models.py also covers), at a fraction of the cost (a default-width LMAC-Net
alone takes 0.1 s to build)."""

LMAC = {"d_model": 32, "d_ffn": 64, "num_heads": 4}
NARROW = {"lmac": LMAC, "concat": {"hidden": 32}, "gdlt": {"hidden": 32}}


def narrow(model: str) -> dict:
    """The narrow options of a registered model name (lmac_* share LMAC-Net's; concat_rgb is concat)."""
    return dict(NARROW["lmac" if model.startswith("lmac") else model.split("_")[0]])
