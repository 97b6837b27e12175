#!/usr/bin/env python3
"""Times POST /workspaces → container running (engine's view) against `docker run -d`, same image, same run."""
import concurrent.futures, json, statistics, subprocess, sys, time, urllib.request

import engine_api

host_url, admin, docker_socket, image, runs, burst = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])

def engine(method, path):
    return engine_api.request(docker_socket, method, path)

def host(method, path, body=None):
    request = urllib.request.Request(host_url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)

def wait_running(name, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        status, body = engine("GET", f"/containers/{name}/json")
        if status == 200 and body["State"]["Running"]:
            return
        time.sleep(0.002)
    raise SystemExit(f"{name} never ran")

def create_workspace(i):
    start = time.monotonic()
    created = host("POST", "/workspaces", {"name": f"bench-{i}", "config": {"command": ["sleep", "3600"]}})
    wait_running("ws-" + created["id"].replace("-", "")[:12])
    return time.monotonic() - start, created["id"]

def docker_run():
    start = time.monotonic()
    out = subprocess.run(["docker", "-H", "unix://" + docker_socket, "run", "-d", "--network", "host", image, "sleep", "3600"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return time.monotonic() - start, out

def cleanup_host(ids):
    for workspace in ids:
        host("DELETE", f"/workspaces/{workspace}?purge=true")

def cleanup_docker(containers):
    subprocess.run(["docker", "-H", "unix://" + docker_socket, "rm", "-f", *containers], check=True, capture_output=True)

# Warm both paths once.
_, warm = create_workspace("warm"); cleanup_host([warm])
_, warm = docker_run(); cleanup_docker([warm])

host_times, docker_times = [], []
for i in range(runs):  # interleaved so drift hits both equally
    elapsed, workspace = create_workspace(i); host_times.append(elapsed); cleanup_host([workspace])
    elapsed, container = docker_run(); docker_times.append(elapsed); cleanup_docker([container])
h, d = statistics.median(host_times), statistics.median(docker_times)
print(f"single create → running   Host median {h*1000:7.1f} ms   docker run -d median {d*1000:7.1f} ms   ratio {h/d:.2f}x (target <= 1.0x)")

start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(max_workers=burst) as pool:
    results = list(pool.map(create_workspace, range(burst)))
concurrent_total = time.monotonic() - start
cleanup_host([workspace for _, workspace in results])
start = time.monotonic()
containers = [docker_run()[1] for _ in range(burst)]
sequential_total = time.monotonic() - start
cleanup_docker(containers)
print(f"{burst} creates → all running   Host concurrent {concurrent_total:6.2f} s   {burst} sequential docker run -d {sequential_total:6.2f} s   "
      f"ratio {concurrent_total/sequential_total:.2f}x (target <= 0.3x)")
