"""One file per extractor; importing a module registers it in `lmac.features.EXTRACTORS`."""
