#!/bin/sh
# A tiny workspace agent for the end-to-end tests: registers with its token, then heartbeats every 200 ms.
# Its error rate is read from $CONFIGS_DIR/error_rate, so a test can change it through the files API.
# Like Molecule's runtime, it re-reads its token file when the Host answers 401.
echo "agent $WORKSPACE_ID starting against $PLATFORM_URL"
post() {  # post PATH JSON → HTTP status
  curl -sS -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $(cat "$MOLECULE_WORKSPACE_TOKEN_FILE")" \
    -H "Content-Type: application/json" -d "$2" "$PLATFORM_URL$1"
}
card="{\"id\":\"$WORKSPACE_ID\",\"url\":\"\",\"agent_card\":{\"name\":\"test-agent\",\"skills\":[]}}"
tries=0
until [ "$(post /registry/register "$card")" = 200 ]; do
  tries=$((tries + 1)); [ $tries -ge 50 ] && { echo "register failed"; exit 1; }
  sleep 0.2
done
echo "register 200"
start=$(date +%s)
i=0
while [ $i -lt 3000 ]; do
  rate=$(cat "$CONFIGS_DIR/error_rate" 2>/dev/null || echo 0)
  up=$(( $(date +%s) - start ))
  post /registry/heartbeat "{\"workspace_id\":\"$WORKSPACE_ID\",\"error_rate\":$rate,\"active_tasks\":0,\"uptime_seconds\":$up}" >/dev/null
  sleep 0.2
  i=$((i + 1))
done
