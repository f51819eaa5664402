#!/usr/bin/env python3
"""Fleet benchmark: berth on the workload of ../shared/fleet at several scales.

    tests/bench/fleet.py [--scales 1,4,16] [--runs 5] [--berth target/release/berth]
                         [--peer kcl|python-libyaml|none] [--verify]

For each scale S it generates fleet-S.json with ../shared/fleet/gen.py, then runs, alternating
so that a noisy machine affects all alike:
  * `berth check examples/fleet --var-file fleet-S.json`
  * `berth build examples/fleet --var-file fleet-S.json --terraform-format json -o OUT`
  * the peer (KCL by default, via ../shared/fleet/peers/<peer>/run.sh) when its venv exists
and prints, per command, the median wall time and the peak RSS (getrusage of the child).
With --verify, each build's output is checked with ../shared/fleet/verify.py.
Prints one JSON object per line; timings are medians over --runs runs.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("BERTH_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))


def measure(cmd):
    """Wall time and peak RSS (MB) of one run of cmd, measured by a fresh Python wrapper."""
    wrapper = (
        "import resource,subprocess,sys,time,json;t=time.perf_counter();"
        "p=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE);"
        "w=time.perf_counter()-t;"
        "print(json.dumps({'rc':p.returncode,'wall':w,'rss':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024,'err':p.stderr.decode()[-1500:]}))"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, timeout=900)
    r = json.loads(out.stdout)
    if r["rc"] != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r['rc']}): {r['err']}")
    return r["wall"], r["rss"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1,4,16")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--berth", default=os.path.join(ROOT, "target", "release", "berth"))
    ap.add_argument("--peer", default="kcl")
    ap.add_argument("--verify", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(a.berth):
        sys.exit(f"{a.berth} is missing: cargo build --release -p berth")
    venv = os.environ.get("PEERS_VENV", "/tmp/peers-venv")
    peer = None
    if a.peer != "none" and os.path.exists(os.path.join(venv, "bin", "python")):
        peer = os.path.join(SHARED, "fleet", "peers", a.peer, "run.sh")
    # Under target/, not /tmp: on this machine's ext4, a new directory straight under /tmp
    # landed where creating files was 20 times slower (cp -r of the S=16 output: 0.9-1.3 s
    # against 0.05 s), which measured the file system, not the tools.
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-fleet-", dir=os.path.join(ROOT, "target"))
    try:
        for s in [int(x) for x in a.scales.split(",")]:
            fleet = os.path.join(work, f"fleet-{s}.json")
            subprocess.run([sys.executable, os.path.join(SHARED, "fleet", "gen.py"), str(s), fleet], check=True, stdout=subprocess.DEVNULL)
            names = ["berth check", "berth build"] + ([f"peer {a.peer}"] if peer else [])
            results = {k: [] for k in names}
            for run in range(a.runs):
                # Every tool writes into a directory that does not exist yet, as on a first
                # build, and starts with nothing of an earlier run left to write back.
                out = os.path.join(work, f"out-{s}-{run}")
                cmds = {
                    "berth check": [a.berth, "check", os.path.join(ROOT, "examples", "fleet"), "--var-file", fleet],
                    "berth build": [a.berth, "build", os.path.join(ROOT, "examples", "fleet"), "--var-file", fleet, "--terraform-format", "json", "-o", out],
                }
                if peer:
                    cmds[f"peer {a.peer}"] = [peer, fleet, os.path.join(work, f"peer-{s}-{run}")]
                for name, cmd in cmds.items():
                    os.sync()
                    results[name].append(measure(cmd))
            row = {"scale": s}
            for name, rs in results.items():
                row[name] = {"median_s": round(statistics.median(w for w, _ in rs), 4), "peak_rss_mb": round(max(r for _, r in rs), 1)}
            if peer:
                row["ratio peer/berth build"] = round(row[f"peer {a.peer}"]["median_s"] / row["berth build"]["median_s"], 2)
            if a.verify:
                v = subprocess.run([sys.executable, os.path.join(SHARED, "fleet", "verify.py"), fleet, out], capture_output=True, text=True)
                row["verify"] = json.loads(v.stdout)["ok"] if v.stdout else False
            print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
