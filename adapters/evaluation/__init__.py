"""What happened: ticket results, KPIs, history, reports, snapshots, the churn model, and the
simulation that runs the whole loop on synthetic customers."""
