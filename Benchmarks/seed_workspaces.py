#!/usr/bin/env python3
"""Creates N external workspaces on a Host and registers each; writes "<id> <token>" lines (for heartbeat.lua)."""
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor

url, admin, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def call(path, body, token):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)

def seed(i):
    created = call("/workspaces", {"name": f"bench-{i}", "runtime": "external"}, admin)
    token = created["connection"]["auth_token"]
    call("/registry/register", {"id": created["id"], "agent_card": {"name": f"bench-{i}"}, "delivery_mode": "poll"}, token)
    return f'{created["id"]} {token}'

with ThreadPoolExecutor(max_workers=16) as pool:
    lines = list(pool.map(seed, range(count)))
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"seeded {len(lines)} workspaces")
