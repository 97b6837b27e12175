# The end-to-end test agent for busybox images (wget instead of curl): registers with its token, heartbeats every
# 200 ms, error rate from $CONFIGS_DIR/error_rate. Passed to the container as `sh -c "<this file>"`.
echo "agent $WORKSPACE_ID starting against $PLATFORM_URL"
tries=0
# The token is re-read on every attempt (it may be rewritten while the agent starts).
until wget -q -O - --header "Authorization: Bearer $(cat "$MOLECULE_WORKSPACE_TOKEN_FILE")" --header "Content-Type: application/json" \
  --post-data "{\"id\":\"$WORKSPACE_ID\",\"url\":\"\",\"agent_card\":{\"name\":\"busybox-agent\"}}" "$PLATFORM_URL/registry/register"; do
  tries=$((tries + 1)); [ $tries -ge 50 ] && { echo "register failed"; exit 1; }
  sleep 0.2
done
echo " register ok"
token=$(cat "$MOLECULE_WORKSPACE_TOKEN_FILE")
i=0
while [ $i -lt 3000 ]; do
  rate=$(cat "$CONFIGS_DIR/error_rate" 2>/dev/null || echo 0)
  wget -q -O /dev/null --header "Authorization: Bearer $token" --header "Content-Type: application/json" \
    --post-data "{\"workspace_id\":\"$WORKSPACE_ID\",\"error_rate\":$rate,\"active_tasks\":0,\"uptime_seconds\":$i}" \
    "$PLATFORM_URL/registry/heartbeat"
  sleep 0.2
  i=$((i + 1))
done
