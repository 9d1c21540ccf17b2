"""lmac: long-term multimodal action quality assessment (LMAC-Net)."""

__version__ = "0.1.0"

MODALITIES = ("rgb", "flow", "audio")
