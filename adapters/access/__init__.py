"""Who may act: users, their roles and hashed bearer tokens and passwords. The web app and the
CLI bind callers through it; nothing of the ticket flow imports it."""
