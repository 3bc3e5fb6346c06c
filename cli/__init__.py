"""The ``eco-claims`` command line: the entry point above the web layer and the engine."""
