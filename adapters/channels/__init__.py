"""Push channel adapters behind one base (`Outcome`, `Pusher`): log, webhook, smtp."""
