"""The ticket service: plan (sweeps, standing and daily tickets, rehearsals, designer
previews), approve, execute, notices to approvers, and the scheduler that drives them."""
