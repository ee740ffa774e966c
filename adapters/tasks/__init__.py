"""Tasks once a ticket executes: adapter pulls and results, step timing (retries, goals), the
contact policy as applied, and the push worker."""
