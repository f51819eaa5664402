"""Judge berth's Helm charts with the real Helm v4 library and the Kubernetes schemas.

usage: check_charts.py TOOLS_DIR KUBE_VERSION CHART_DIR [-f VALUES_FILE]... ...

Each chart directory may be followed by values files, as Helm's `-f`: berth's secrets values
(SECRETS/helm/<cluster>/secrets.yaml), merged in order over the chart's values.yaml.

Per chart:
 1. helm lint through helm-python-sdk (Helm's Go SDK): errors fail, and so do warnings, except
    "missing dependencies" (berth vendors no chart: `helm dependency build` fetches them);
 2. helm lint through helm-sdkpy (another build of Helm v4's library) in a process of its own
    (sdkpy_lint.py): any error fails. Its lint takes no values files: Helm's lint mode lets a
    `required` value be missing;
 3. render without a cluster (helm-python-sdk Chart.render, as `helm template`), then validate
    every rendered object with kubernetes-validate in strict mode for KUBE_VERSION. Only the
    CRDs berth uses (external-secrets.io ExternalSecret, cert-manager.io Certificate) may lack
    a schema. A kubernetes.io/tls Secret must hold a PEM certificate and key, read from the
    values files;
 4. a chart given values files must fail to render without them, naming the secrets file.

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


def lint(chart, values, kube):
    problems = []
    report = hc.lint(chart, values, kube_version=f"v{kube}.0", namespace="berth")
    for m in report.get("messages") or []:
        text = f"{m.get('path', '')}: {str(m.get('error', '')).strip()}"
        if m.get("severity", 0) >= ERROR:
            problems.append(f"helm lint error: {text}")
        elif m.get("severity", 0) == WARNING and "missing these dependencies" not in text:
            problems.append(f"helm lint warning: {text}")
    return problems


def render(chart, values, kube):
    problems, objects = [], 0
    rendered = hc.Chart.load(chart).render(values, name="berth", namespace="berth", is_install=True)
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


def merge(into, values):
    """Helm's merge of a values file over earlier values: maps merge, anything else replaces."""
    for k, v in values.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v
    return into


def parse_args(args):
    """CHART_DIR [-f VALUES_FILE]... ... -> {chart: [values files]}, in order."""
    charts, i = {}, 0
    while i < len(args):
        if args[i] == "-f":
            if not charts or i + 1 >= len(args):
                sys.exit(f"usage: -f VALUES_FILE must follow a chart directory: {args}")
            charts[list(charts)[-1]].append(args[i + 1])
            i += 2
        else:
            charts.setdefault(args[i], [])
            i += 1
    return charts


def missing_values(chart):
    """A chart whose TLS Secrets read berth's secrets values must not render without them."""
    try:
        hc.Chart.load(chart).render(None, name="berth", namespace="berth", is_install=True)
    except Exception as e:
        if "secrets.yaml" in str(e):
            return []
        return [f"without its values files: {type(e).__name__} that does not name secrets.yaml: {e}"]
    return ["renders without its values files: the TLS Secrets would be empty"]


def main():
    tools, kube, given = sys.argv[1], sys.argv[2], parse_args(sys.argv[3:])
    charts = list(given)
    problems = {c: [] for c in charts}
    for c in charts:
        try:
            values = None
            for path in given[c]:
                with open(path) as f:
                    values = merge(values or {}, yaml.safe_load(f) or {})
            problems[c] += lint(c, values, kube)
            problems[c] += render(c, values, kube)
            if given[c]:
                problems[c] += missing_values(c)
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
