"""What happened: ticket results, KPIs, history, snapshots and the churn model."""
