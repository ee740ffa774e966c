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
store=$(token_for demo-store agent:store)        # a store clerk: opening a view is a contact
hotline=$(token_for demo-hotline agent:hotline)  # a hotline agent
# A declining customer on the 96-yuan plan: the store agent's view enters them into the
# contact-triggered retention_inbound (once its standing ticket is approved) with prepay_168.
caller=$($tend preview retention_inbound --json | .venv/bin/python -c '
import csv, json, sys
treated = set(json.load(sys.stdin)["treatment"])
rows = csv.DictReader(open("var/demo/customers.csv", encoding="utf-8"))
print(next((r["id"] for r in rows if r["id"] in treated and r["plan_fee"] == "96"), ""))') || caller=""

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
  store agent token (agent:store): $store
  hotline agent token:             $hotline
  try: curl -H "Authorization: Bearer $approver" http://$host:$port/tickets?state=planned
The scheduler plans tickets on the playbooks' cron schedules; \`tend sweep\` plans them now.
Contact-triggered retention (rules/retention_inbound.yaml): approve its standing ticket
(planned by the scheduler's first tick) as the approver, then open a declining customer's view
as the store agent, e.g. http://$host:$port/console/customers/$caller?channel=store
  or: curl -H "Authorization: Bearer $store" "http://$host:$port/customers/$caller/view?channel=store"
TXT
$tend serve --host "$host" --port "$port"
