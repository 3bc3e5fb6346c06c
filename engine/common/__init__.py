"""Primitives every layer may use: domain errors, the clock, dates, who acts, and the diagram contract ids."""
