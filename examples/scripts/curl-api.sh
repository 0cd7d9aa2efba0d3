#!/usr/bin/env bash
# The dashboard's REST API with curl (OpenAPI: GET /api/openapi.json). Starts a run, then polls it
# until it ends. DASHBOARD_URL defaults to the local dashboard; DASHBOARD_TOKEN is sent when set
# (required off loopback).
#
#   DASHBOARD_URL=http://127.0.0.1:8080 DASHBOARD_TOKEN=… examples/scripts/curl-api.sh "Fix the failing sum test" [workspace]
set -euo pipefail
url="${DASHBOARD_URL:-http://127.0.0.1:8080}"
task="${1:?usage: curl-api.sh \"<task>\" [workspace]}"
workspace="${2:-}"
auth=()
if [ -n "${DASHBOARD_TOKEN:-}" ]; then auth=(-H "Authorization: Bearer $DASHBOARD_TOKEN"); fi

body=$(node -e 'const [task, workspace] = process.argv.slice(1); process.stdout.write(JSON.stringify(workspace ? { task, workspace } : { task }))' "$task" "$workspace")
created=$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -d "$body" "$url/api/runs")
run_id=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).runId)' "$created")
echo "started $run_id"

for _ in $(seq 1 240); do
  status=$(curl -fsS "${auth[@]}" "$url/api/runs/$run_id" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{process.stdout.write(JSON.parse(s).run.status)}catch{process.stdout.write("pending")}})') || status=pending
  case "$status" in
    finished) echo "$run_id: finished"; exit 0 ;;
    failed | aborted | waiting-human) echo "$run_id: $status"; exit 1 ;;
  esac
  sleep 1
done
echo "$run_id: still $status after 240 s" >&2
exit 1
