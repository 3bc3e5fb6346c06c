"""The legal calendar: working days and holidays, statutory deadlines with their basis (pause, resume, lapse)."""
