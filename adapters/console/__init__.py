"""The console: server-rendered pages for approvers, designers and account managers."""
