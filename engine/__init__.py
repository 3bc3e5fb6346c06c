"""The case engine: everything that is not a web page (never imports Flask)."""
