"""`caseharvest serve`: browse an archive through pywb, run from its own environment.

``tools_venv`` finds or sets up pywb, ``pywb_collection`` prepares the collection over the
archive's WARC files, ``wayback_server`` runs ``wayback`` until interrupted.
"""
