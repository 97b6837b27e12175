#!/usr/bin/env python3
"""Times the EC2 provider through the Host against direct baselines (boto3 on moto, the ssh CLI), same run."""
import concurrent.futures, json, statistics, subprocess, sys, time, urllib.request
import boto3

host_url, admin, endpoint, ssh_target, ssh_key, files_root, runs, burst = sys.argv[1:7] + [sys.argv[7], int(sys.argv[8])]
runs = int(runs)
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
ssh_host, ssh_port = ssh_target.rsplit(":", 1)

def host(method, path, body=None):
    request = urllib.request.Request(host_url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)

def instance_of(workspace):
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:molecule:workspace-id", "Values": [workspace]},
                                                   {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    return [i for r in reservations for i in r["Instances"]]

def create_workspace(i):
    start = time.monotonic()
    created = host("POST", "/workspaces", {"name": f"bench-{i}"})
    end = start + 60
    while time.monotonic() < end:  # running in moto, with its configs volume attached
        if host("GET", f"/workspaces/{created['id']}").get("instance_ref"):
            return time.monotonic() - start, created["id"]
        time.sleep(0.02)  # the same poll period for both paths; faster polling only loads the servers measured
    raise SystemExit(f"workspace {created['id']} never got an instance")

def boto_run():
    start = time.monotonic()
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.medium")["Instances"][0]["InstanceId"]
    end = start + 60
    while time.monotonic() < end:
        state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"]
        if state == "running":
            return time.monotonic() - start, instance
        time.sleep(0.02)  # the same poll period for both paths; faster polling only loads the servers measured
    raise SystemExit(f"{instance} never ran")

def ssh(command, data=b""):
    start = time.monotonic()
    subprocess.run(["ssh", "-q", "-i", ssh_key, "-p", ssh_port, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", f"root@{ssh_host}", command], input=data, check=True, capture_output=True)
    return time.monotonic() - start

def timed(call):
    start = time.monotonic()
    call()
    return time.monotonic() - start

_, warm = create_workspace("warm"); host("DELETE", f"/workspaces/{warm}?purge=true")
_, warm = boto_run(); ec2.terminate_instances(InstanceIds=[warm])

host_times, boto_times, ids = [], [], []
for i in range(runs):  # interleaved so drift hits both equally
    elapsed, workspace = create_workspace(i); host_times.append(elapsed); ids.append(workspace)
    elapsed, instance = boto_run(); boto_times.append(elapsed); ec2.terminate_instances(InstanceIds=[instance])
h, b = statistics.median(host_times), statistics.median(boto_times)
print(f"single create → running   Host median {h*1000:7.1f} ms   boto3 RunInstances median {b*1000:7.1f} ms   ratio {h/b:.2f}x "
      f"(the Host also creates and attaches the configs volume and writes the token over SSH: one new connection to this sshd costs about the ssh CLI figure below)")

workspace = ids[0]
payload = "x" * 4096
put_times, get_times, ssh_put, ssh_get = [], [], [], []
for i in range(runs):
    put_times.append(timed(lambda: host("PUT", f"/workspaces/{workspace}/files/bench/f.txt", {"content": payload})))
    get_times.append(timed(lambda: host("GET", f"/workspaces/{workspace}/files/bench/f.txt")))
    ssh_put.append(ssh(f"mkdir -p {files_root}/baseline && cat > {files_root}/baseline/f.txt", payload.encode()))
    ssh_get.append(ssh(f"cat {files_root}/baseline/f.txt"))
for name, ours, base in [("PUT file (4 KiB)", put_times, ssh_put), ("GET file (4 KiB)", get_times, ssh_get)]:
    o, s = statistics.median(ours), statistics.median(base)
    print(f"{name:17s}        Host median {o*1000:7.1f} ms   ssh CLI median {s*1000:7.1f} ms   ratio {o/s:.2f}x (target <= 1.0x)")

for workspace in ids:
    host("DELETE", f"/workspaces/{workspace}?purge=true")

start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(max_workers=burst) as pool:
    results = list(pool.map(create_workspace, range(burst)))
concurrent_total = time.monotonic() - start
start = time.monotonic()
instances = [boto_run()[1] for _ in range(burst)]
sequential_total = time.monotonic() - start
ec2.terminate_instances(InstanceIds=instances)
for _, workspace in results:
    host("DELETE", f"/workspaces/{workspace}?purge=true")
print(f"{burst} creates → all running   Host concurrent {concurrent_total:6.2f} s   {burst} sequential boto3 {sequential_total:6.2f} s   "
      f"ratio {concurrent_total/sequential_total:.2f}x")
