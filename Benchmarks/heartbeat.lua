-- wrk script: POST /registry/heartbeat for workspaces listed in $TOKENS ("<id> <token>" per line), round-robin.
local entries = {}
local index = 0

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do
    local id, token = line:match("^(%S+)%s+(%S+)$")
    if id then entries[#entries + 1] = { id = id, token = token } end
  end
  index = math.random(#entries)
end

function request()
  index = index % #entries + 1
  local e = entries[index]
  return wrk.format("POST", "/registry/heartbeat",
    { ["Authorization"] = "Bearer " .. e.token, ["Content-Type"] = "application/json" },
    '{"workspace_id":"' .. e.id .. '","error_rate":0.01,"active_tasks":1,"uptime_seconds":' .. index .. '}')
end

function done(summary, latency, requests)
  io.write(string.format("WRK requests=%d errors=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99), summary.errors.status))
end
