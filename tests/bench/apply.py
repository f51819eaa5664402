#!/usr/bin/env python3
"""Apply benchmark: `berth apply` on the EC2 workload of ../shared/apply, beside its peers.

    tests/bench/apply.py [--hosts 16,128] [--runs 3] [--berth target/release/berth]
                         [--terraform-hosts 16]

Starts one moto server on 127.0.0.1 (reset before every run) and, per host count N, alternates:
  * the raw boto3 client of ../shared/apply with 64 workers, with and without --waits;
  * `berth apply tests/bench/apply --var hosts=N --auto-approve` (berth waits until every
    instance runs, every volume is available and every attachment attached), then
    `berth plan --refresh --detailed-exitcode` of the state it made (must exit 0: clean), and
    `berth plan` without refresh;
  * Terraform at parallelism 10 (its default) when N is in --terraform-hosts and the
    conformance kit's terraform with the aws 3.39 provider is installed, apply then plan.
After each berth apply the objects are counted through the EC2 API (boto3), not berth's state.
Prints one JSON object per line with median wall times (s), peak RSS (MB) and berth's API calls.
"""
import argparse
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("BERTH_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
           AWS_EC2_METADATA_DISABLED="true", NO_COLOR="1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(cmd, env=ENV, ok=(0,)):
    """Wall time, peak RSS (MB), exit code and output of one run, via a fresh wrapper process."""
    wrapper = (
        "import resource,subprocess,sys,time,json;t=time.perf_counter();"
        "p=subprocess.run(sys.argv[1:],capture_output=True);w=time.perf_counter()-t;"
        "print(json.dumps({'rc':p.returncode,'wall':w,'rss':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024,"
        "'out':p.stdout.decode(errors='replace')[-4000:],'err':p.stderr.decode(errors='replace')[-6000:]}))"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env, timeout=1800)
    r = json.loads(out.stdout)
    if r["rc"] not in ok:
        sys.exit(f"{' '.join(cmd)} exited {r['rc']}:\n{r['out']}\n{r['err']}")
    return r


class Moto:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=self.log)
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        sys.exit("moto_server did not start")

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10)

    def ec2(self):
        import boto3
        return boto3.client("ec2", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def ami(self):
        return next(i["ImageId"] for i in self.ec2().describe_images()["Images"]
                    if i.get("Name", "").startswith("ubuntu/images/hvm-ssd/ubuntu-"))

    def counts(self):
        ec2 = self.ec2()
        # berth's objects carry its lineage tag; root volumes do not.
        tagged = [{"Name": "tag-key", "Values": ["berth:lineage"]}]
        pages = ec2.get_paginator("describe_instances").paginate(Filters=tagged)  # moto pages at 100
        running = sum(1 for p in pages for r in p["Reservations"] for i in r["Instances"]
                      if i["State"]["Name"] == "running")
        volumes = [v for p in ec2.get_paginator("describe_volumes").paginate(Filters=tagged) for v in p["Volumes"]]
        attached = sum(1 for v in volumes for a in v.get("Attachments", []) if a["State"] == "attached")
        return {"running": running, "volumes": len(volumes), "attached": attached}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def calls(summary):
    """The `API calls (aws): Name n, ...` line of berth's summary as a dict."""
    m = re.search(r"API calls \(aws\): (.*)", summary)
    return {k: int(v) for k, v in (p.rsplit(" ", 1) for p in m.group(1).split(", ") if p)} if m else {}


def raw_row(run):
    """A raw client run: its process wall time and RSS, its own API wall time and call count."""
    line = json.loads(run["out"].strip().splitlines()[-1])
    if not line["ok"]:
        sys.exit(f"the raw client failed: {line}")
    return {"wall": run["wall"], "rss": run["rss"], "api_wall": line["api_wall_s"], "calls": line["calls"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", default="16,128")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--berth", default=os.path.join(ROOT, "target", "release", "berth"))
    ap.add_argument("--terraform-hosts", default="16")
    a = ap.parse_args()
    if not os.path.exists(a.berth):
        sys.exit(f"{a.berth} is missing: cargo build --release -p berth")
    moto = Moto()
    env = dict(ENV, AWS_ENDPOINT_URL=moto.url)
    terraform = os.path.join(SHARED, "apply", "terraform.sh")
    tf_ready = os.path.exists(os.path.expanduser("~/.cache/conformance/tf-mirror"))
    try:
        for n in [int(h) for h in a.hosts.split(",")]:
            rows = {}
            work = tempfile.mkdtemp(prefix="berth-apply-bench-")
            for _ in range(a.runs):
                moto.reset()
                ami = moto.ami()
                raw = measure([sys.executable, os.path.join(SHARED, "apply", "raw_client.py"), "--endpoint", moto.url,
                               "--hosts", str(n), "--workers", "64", "--ami", ami])
                rows.setdefault("raw", []).append(raw_row(raw))
                moto.reset()
                raw = measure([sys.executable, os.path.join(SHARED, "apply", "raw_client.py"), "--endpoint", moto.url,
                               "--hosts", str(n), "--workers", "64", "--ami", ami, "--waits"])
                rows.setdefault("raw_waits", []).append(raw_row(raw))

                moto.reset()
                ami = moto.ami()
                state = os.path.join(work, "state.json")
                for f in (state, state + ".backup"):
                    if os.path.exists(f):
                        os.remove(f)
                spec = [os.path.join(ROOT, "tests", "bench", "apply"), "--var", f"hosts={n}", "--var", f"ami={ami}",
                        "--state", state]
                r = measure([a.berth, "apply", *spec, "--auto-approve"], env)
                counts = moto.counts()
                if counts != {"running": n, "volumes": n, "attached": n}:
                    sys.exit(f"berth apply left {counts} for {n} hosts")
                rows.setdefault("berth_apply", []).append({"wall": r["wall"], "rss": r["rss"], "calls": calls(r["err"])})
                r = measure([a.berth, "plan", *spec, "--refresh", "--detailed-exitcode"], env)
                rows.setdefault("berth_plan_refresh", []).append({"wall": r["wall"], "rss": r["rss"]})
                r = measure([a.berth, "plan", *spec, "--detailed-exitcode"], env)
                rows.setdefault("berth_plan", []).append({"wall": r["wall"], "rss": r["rss"]})

                if tf_ready and str(n) in a.terraform_hosts.split(","):
                    moto.reset()
                    tf_work = tempfile.mkdtemp(prefix="berth-apply-bench-tf-")
                    tf_env = dict(env, TF_WORK=tf_work)
                    r = measure(["bash", terraform, moto.url, str(n), "10", "apply"], tf_env)
                    rows.setdefault("terraform_apply", []).append({"wall": r["wall"], "rss": r["rss"]})
                    r = measure(["bash", terraform, moto.url, str(n), "10", "plan"], tf_env, ok=(0, 2))
                    rows.setdefault("terraform_plan", []).append({"wall": r["wall"], "rss": r["rss"]})

            def med(name, key):
                vals = [r[key] for r in rows.get(name, []) if key in r]
                return round(statistics.median(vals), 3) if vals else None

            out = {"hosts": n, "runs": a.runs}
            for name in rows:
                out[name] = {"wall": med(name, "wall"), "rss_mb": med(name, "rss")}
                if name.startswith("raw"):
                    out[name]["api_wall"] = med(name, "api_wall")
                    out[name]["calls"] = rows[name][-1]["calls"]
            out["berth_apply"]["calls"] = rows["berth_apply"][-1]["calls"]
            if out.get("raw_waits", {}).get("wall"):
                out["berth_apply_over_raw_waits"] = round(out["berth_apply"]["wall"] / out["raw_waits"]["wall"], 2)
            if out.get("raw", {}).get("wall"):
                out["berth_apply_over_raw"] = round(out["berth_apply"]["wall"] / out["raw"]["wall"], 2)
            if "terraform_apply" in out:
                out["terraform_apply_over_berth"] = round(out["terraform_apply"]["wall"] / out["berth_apply"]["wall"], 1)
                out["terraform_plan_over_berth_refresh"] = round(
                    out["terraform_plan"]["wall"] / out["berth_plan_refresh"]["wall"], 1)
            print(json.dumps(out), flush=True)
    finally:
        moto.stop()


if __name__ == "__main__":
    main()
