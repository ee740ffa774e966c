#!/usr/bin/env bash
# `make run`: demo data on the embedded SQLite, then the scheduler and the HTTP service.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
tend=.venv/bin/tend
host=127.0.0.1
port=${TEND_PORT:-8000}

$tend db upgrade
$tend demo-data --customers 5000 --out var/demo --history 5
for past in var/demo/history/customers-*.csv; do  # the churn model learns from these months
    day=${past##*/customers-}
    $tend import customers "$past" >/dev/null
    $tend snapshot --at "${day%.csv}"
done
$tend import customers var/demo/customers.csv
$tend score churn || true  # a demo extra: its message is enough if it cannot train
$tend import events var/demo/events.jsonl --no-trigger
$tend preview --all
echo

token_for() {  # a new token for a demo user, creating the user on the first run
    local name=$1; shift
    local roles=()
    for role in "$@"; do roles+=(--role "$role"); done
    $tend users add "$name" "${roles[@]}" >/dev/null 2>&1 || true
    $tend users token "$name" | tail -n 1
}
approver=$(token_for demo-lead campaign_lead)
director=$(token_for demo-director director)
designer=$(token_for demo-designer designer)
adapter=$(token_for demo-adapter adapter)
manager=$(token_for demo-manager manager:m001)   # the account manager of customers with manager m001

$tend scheduler --every 5 &
scheduler=$!
trap 'kill $scheduler 2>/dev/null || true' EXIT

cat <<TXT
Tend is starting on http://$host:$port
  web console: http://$host:$port/console/   (sign in with one of these tokens)
  interactive API docs: http://$host:$port/docs   (OpenAPI: /openapi.json)
  approver token (campaign_lead): $approver
  director token:                 $director
  designer token:                 $designer
  manager token (manager:m001):   $manager
  adapter token (POST /events):   $adapter
  try: curl -H "Authorization: Bearer $approver" http://$host:$port/tickets?state=planned
The scheduler plans tickets on the playbooks' cron schedules; \`tend sweep\` plans them now.
TXT
$tend serve --host "$host" --port "$port"
