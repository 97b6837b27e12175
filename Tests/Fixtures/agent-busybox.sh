# The end-to-end test agent for busybox images (wget instead of curl): registers with its token, heartbeats every
# 200 ms, error rate from $CONFIGS_DIR/error_rate. Passed to the container as `sh -c "<this file>"`.
token=$(cat "$MOLECULE_WORKSPACE_TOKEN_FILE")
echo "agent $WORKSPACE_ID starting against $PLATFORM_URL"
wget -q -O - --header "Authorization: Bearer $token" --header "Content-Type: application/json" \
  --post-data "{\"id\":\"$WORKSPACE_ID\",\"url\":\"\",\"agent_card\":{\"name\":\"busybox-agent\"}}" "$PLATFORM_URL/registry/register" \
  && echo " register ok"
i=0
while [ $i -lt 3000 ]; do
  rate=$(cat "$CONFIGS_DIR/error_rate" 2>/dev/null || echo 0)
  wget -q -O /dev/null --header "Authorization: Bearer $token" --header "Content-Type: application/json" \
    --post-data "{\"workspace_id\":\"$WORKSPACE_ID\",\"error_rate\":$rate,\"active_tasks\":0,\"uptime_seconds\":$i}" \
    "$PLATFORM_URL/registry/heartbeat"
  sleep 0.2
  i=$((i + 1))
done
