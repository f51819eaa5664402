"""Judge berth's Helm charts with the real Helm v4 library and the Kubernetes schemas.

usage: check_charts.py TOOLS_DIR KUBE_VERSION CHART_DIR...

Per chart:
 1. helm lint through helm-python-sdk (Helm's Go SDK): errors fail, and so do warnings, except
    "missing dependencies" (berth vendors no chart: `helm dependency build` fetches them);
 2. helm lint through helm-sdkpy (another build of Helm v4's library) in a process of its own
    (sdkpy_lint.py): any error fails;
 3. render without a cluster (helm-python-sdk Chart.render, as `helm template`), then validate
    every rendered object with kubernetes-validate in strict mode for KUBE_VERSION. Only the
    CRDs berth uses (external-secrets.io ExternalSecret, cert-manager.io Certificate) may lack
    a schema. A kubernetes.io/tls Secret must hold a PEM certificate and key, as berth's
    certificate files were copied into the chart.

Prints one line per failure, then `N passed, M failed` (one item per chart); exit 1 on failure.
"""
import base64
import json
import os
import subprocess
import sys

import kubernetes_validate.utils as kv
import yaml
from helm_python import chart as hc

CRDS = {("external-secrets.io/v1beta1", "ExternalSecret"), ("cert-manager.io/v1", "Certificate")}
WARNING, ERROR = 2, 3


def lint(chart, kube):
    problems = []
    report = hc.lint(chart, None, kube_version=f"v{kube}.0", namespace="berth")
    for m in report.get("messages") or []:
        text = f"{m.get('path', '')}: {str(m.get('error', '')).strip()}"
        if m.get("severity", 0) >= ERROR:
            problems.append(f"helm lint error: {text}")
        elif m.get("severity", 0) == WARNING and "missing these dependencies" not in text:
            problems.append(f"helm lint warning: {text}")
    return problems


def render(chart, kube):
    problems, objects = [], 0
    rendered = hc.Chart.load(chart).render(None, name="berth", namespace="berth", is_install=True)
    for template, text in sorted(rendered.items()):
        if not template.endswith(".yaml"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            objects += 1
            where = f"{template} {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
            try:
                kv.validate(doc, kube, strict=True)
            except kv.SchemaNotFoundError:
                if (doc.get("apiVersion"), doc.get("kind")) not in CRDS:
                    problems.append(f"{where}: no schema in Kubernetes {kube}")
            except kv.ValidationError as e:
                problems.append(f"{where}: {'.'.join(str(p) for p in e.path)}: {e.message}")
            if doc.get("kind") == "Secret" and doc.get("type") == "kubernetes.io/tls":
                data = doc.get("data") or {}
                crt = base64.b64decode(data.get("tls.crt") or "").decode(errors="replace")
                key = base64.b64decode(data.get("tls.key") or "").decode(errors="replace")
                if not crt.startswith("-----BEGIN CERTIFICATE-----") or "PRIVATE KEY-----" not in key:
                    problems.append(f"{where}: the TLS Secret holds no PEM certificate and key")
    if objects == 0:
        problems.append("no objects rendered")
    return problems


def main():
    tools, kube, charts = sys.argv[1], sys.argv[2], sys.argv[3:]
    problems = {c: [] for c in charts}
    for c in charts:
        try:
            problems[c] += lint(c, kube)
            problems[c] += render(c, kube)
        except Exception as e:  # the SDK raises on charts it cannot load or render
            problems[c].append(f"{type(e).__name__}: {e}")
    sdkpy = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdkpy_lint.py"),
                            os.path.join(tools, "helm_sdkpy"), *charts], capture_output=True, text=True, timeout=600)
    seen = set()
    for line in sdkpy.stdout.splitlines():
        r = json.loads(line)
        seen.add(r["chart"])
        if "error" in r:
            problems[r["chart"]].append(f"helm-sdkpy: {r['error']}")
        elif r["errors"]:
            problems[r["chart"]].append(f"helm-sdkpy ({r['version']}): {r['errors']} lint error(s) at {r['paths']}")
    for c in charts:
        if c not in seen:
            problems[c].append(f"helm-sdkpy gave no result (exit {sdkpy.returncode}): {sdkpy.stderr.strip()[-300:]}")
    failed = 0
    for c in charts:
        for p in problems[c]:
            print(f"FAIL {c}: {p}")
        failed += bool(problems[c])
    print(f"{len(charts) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
