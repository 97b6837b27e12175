#!/bin/sh
# A tiny workspace agent for the end-to-end tests: registers with its token, then heartbeats every 200 ms.
# Its error rate is read from $CONFIGS_DIR/error_rate, so a test can change it through the files API.
token=$(cat "$MOLECULE_WORKSPACE_TOKEN_FILE")
echo "agent $WORKSPACE_ID starting against $PLATFORM_URL"
curl -sS -o /dev/null -w "register %{http_code}\n" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
  -d "{\"id\":\"$WORKSPACE_ID\",\"url\":\"\",\"agent_card\":{\"name\":\"test-agent\",\"skills\":[]}}" "$PLATFORM_URL/registry/register"
start=$(date +%s)
i=0
while [ $i -lt 3000 ]; do
  rate=$(cat "$CONFIGS_DIR/error_rate" 2>/dev/null || echo 0)
  up=$(( $(date +%s) - start ))
  curl -sS -o /dev/null -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d "{\"workspace_id\":\"$WORKSPACE_ID\",\"error_rate\":$rate,\"active_tasks\":0,\"uptime_seconds\":$up}" \
    "$PLATFORM_URL/registry/heartbeat"
  sleep 0.2
  i=$((i + 1))
done
