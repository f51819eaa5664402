#!/usr/bin/env python3
"""Plan benchmark: `berth plan` of an unchanged fleet, without refresh, at scale S.

    tests/bench/plan.py [--scales 16,64] [--runs 5] [--berth target/release/berth]

For each S it generates fleet-S.json (../shared/fleet/gen.py), makes the plan of a first apply
(`berth plan --json`), turns every creation into a recorded object (ids made up, references
resolved to them) to get the state an apply would leave, and then times `berth plan
--detailed-exitcode` against that state, which must exit 0 (nothing to do). No API is called:
this measures compile, resources and diff. It times the whole fleet and, as the direct-apply
issue counts it, the cloud and Kubernetes objects only (`--only aws --only kubernetes`: the same
compile, against a state of those objects alone, as a fleet whose containers are deployed by
other means would have). Prints one JSON object per scale with the medians.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("BERTH_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apply import measure  # noqa: E402


def fake_id(address):
    return "id-" + address


def fake_output(address, attr):
    return f"{attr}-{address}"


def resolve(value, after, outputs):
    """`value` with references replaced: ids and outputs the API would report (a cluster's VPC,
    an ARN) made up and recorded in `outputs`, other attributes from their object."""
    if isinstance(value, dict):
        if set(value) == {"$ref", "attr"}:
            target, attr = value["$ref"], value["attr"]
            if attr == "id":
                return fake_id(target)
            if attr in after[target]:
                return resolve(after[target][attr], after, outputs)
            outputs.setdefault(target, {})[attr] = fake_output(target, attr)
            return fake_output(target, attr)
        return {k: resolve(v, after, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, after, outputs) for v in value]
    return value


def state_of(plan):
    """The state a successful apply of `plan` would leave."""
    after = {c["address"]: c["after"] for c in plan["resource_changes"]}
    resources, outputs = {}, {}
    for c in plan["resource_changes"]:
        resources[c["address"]] = {
            "engine": c["engine"], "kind": c["kind"], "id": fake_id(c["address"]),
            "attrs": resolve(c["after"], after, outputs), "deps": c.get("deps", []),
        }
    for address, made_up in outputs.items():
        resources[address]["outputs"] = made_up
    return {"format_version": 1, "lineage": "bench", "serial": 1, "resources": resources}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="16,64")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--berth", default=os.path.join(ROOT, "target", "release", "berth"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="berth-plan-bench-")
    for s in [int(x) for x in a.scales.split(",")]:
        vars_file = os.path.join(work, f"fleet-{s}.json")
        subprocess.run([sys.executable, os.path.join(SHARED, "fleet", "gen.py"), str(s), vars_file], check=True,
                       stdout=subprocess.DEVNULL)
        state = os.path.join(work, f"state-{s}.json")
        spec = ["examples/fleet", "--var-file", vars_file, "--state", state, "--now", "2026-11-25T00:00:00Z"]
        first = subprocess.run([a.berth, "plan", *spec, "--json"], capture_output=True, cwd=ROOT, check=True)
        plan = json.loads(first.stdout)
        doc = state_of(plan)
        with open(state, "w") as f:
            json.dump(doc, f)
        kinds = {}
        for r in doc["resources"].values():
            kinds[r["engine"]] = kinds.get(r["engine"], 0) + 1
        cloud_state = os.path.join(work, f"state-{s}-cloud.json")
        with open(cloud_state, "w") as f:
            kept = {k: r for k, r in doc["resources"].items() if r["engine"] != "docker"}
            json.dump({**doc, "resources": kept}, f)
        cloud = [*spec[:-4], "--state", cloud_state, *spec[-2:], "--only", "aws", "--only", "kubernetes"]
        runs, cloud_runs = [], []
        for _ in range(a.runs):
            runs.append(measure([a.berth, "plan", *spec, "--detailed-exitcode"]))
            cloud_runs.append(measure([a.berth, "plan", *cloud, "--detailed-exitcode"]))
        print(json.dumps({
            "scale": s, "objects": kinds,
            "plan_wall": round(statistics.median(r["wall"] for r in runs), 3),
            "plan_rss_mb": round(statistics.median(r["rss"] for r in runs), 1),
            "cloud_and_kubernetes_plan_wall": round(statistics.median(r["wall"] for r in cloud_runs), 3),
            "cloud_and_kubernetes_plan_rss_mb": round(statistics.median(r["rss"] for r in cloud_runs), 1),
        }), flush=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
