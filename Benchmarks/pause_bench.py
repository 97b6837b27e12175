#!/usr/bin/env python3
"""p50/p95 of pause and resume: the Host's API on the Process provider (cgroup, session) vs Docker's Engine API."""
import json, statistics, sys, time, urllib.request

import engine_api

admin, docker_socket, image, cycles = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
hosts = [argument.split("=", 1) for argument in sys.argv[5:]]  # "label=http://127.0.0.1:PORT"
FORKING = "while :; do /bin/sh -c true; done"

def engine(method, path, body=None):
    status, answer = engine_api.request(docker_socket, method, path, body)
    if status >= 300:
        raise SystemExit(f"engine {method} {path}: {status} {answer}")
    return answer

def host(method, path, body=None):
    request = urllib.request.Request(host_url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)

def percentiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]

def cycle(pause, resume):
    paused, resumed = [], []
    for _ in range(cycles):
        start = time.perf_counter(); pause(); paused.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter(); resume(); resumed.append((time.perf_counter() - start) * 1000)
    return percentiles(paused), percentiles(resumed)

results = {}
for provider, host_url in hosts:
    created = host("POST", "/workspaces", {"name": "pause-bench", "agent": False, "config": {"command": ["/bin/sh", "-c", FORKING]}})
    wid = created["id"]
    for _ in range(600):
        row = host("GET", f"/workspaces/{wid}")
        if row["status"] == "running":
            break
        time.sleep(0.05)
    else:
        raise SystemExit(f"{provider}: the workspace never ran: {row.get('status')} {row.get('last_sample_error')}")
    results[provider] = cycle(lambda: host("POST", f"/workspaces/{wid}/pause"), lambda: host("POST", f"/workspaces/{wid}/resume"))
    host("DELETE", f"/workspaces/{wid}")

name = "molecule-pause-bench"
engine("POST", f"/containers/create?name={name}", {"Image": image, "Cmd": ["/bin/sh", "-c", FORKING], "HostConfig": {"NetworkMode": "none"}})
engine("POST", f"/containers/{name}/start")
try:
    def settle(paused):  # the engine's answer can come before its state says so: wait for the state, as the Host does
        for _ in range(1000):
            if engine("GET", f"/containers/{name}/json")["State"]["Paused"] == paused:
                return
        raise SystemExit("the engine never reported the container " + ("paused" if paused else "running"))
    results["docker (Engine API)"] = cycle(lambda: (engine("POST", f"/containers/{name}/pause"), settle(True)),
                                           lambda: (engine("POST", f"/containers/{name}/unpause"), settle(False)))
finally:
    engine("DELETE", f"/containers/{name}?force=true")

baseline = results["docker (Engine API)"]
print(f"pause/resume of a workload forking in a tight loop, {cycles} cycles each (ms)")
print(f"{'backend':<24}{'pause p50':>10}{'pause p95':>10}{'resume p50':>11}{'resume p95':>11}{'pause p50 vs docker':>21}")
for label, ((pause50, pause95), (resume50, resume95)) in results.items():
    ratio = pause50 / baseline[0][0] if baseline[0][0] else float("nan")
    print(f"{label:<24}{pause50:>10.2f}{pause95:>10.2f}{resume50:>11.2f}{resume95:>11.2f}{ratio:>20.2f}x")
