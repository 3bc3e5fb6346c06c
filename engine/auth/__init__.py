"""Who may act: users and departments, API tokens and login throttling, and case visibility (access)."""
