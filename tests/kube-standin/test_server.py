"""Tests of the Kubernetes API stand-in (tests/kube-standin/server.py).

Run with ``python3 -m unittest discover -s tests/kube-standin``. Each test class
starts the stand-in as a subprocess on a free port and talks HTTP to it with
http.client, as a client library would; every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
SERVER = HERE / "server.py"
REPO = HERE.parent.parent
START_TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


class Standin:
    """A running stand-in subprocess and a tiny HTTP client for it."""

    def __init__(self, *extra: str) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="kube-standin-test-")
        self.port_file = os.path.join(self.dir.name, "port")
        self.kubeconfig = os.path.join(self.dir.name, "kubeconfig")
        self.dump = os.path.join(self.dir.name, "dump.json")
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", "0", "--port-file", self.port_file,
             "--kubeconfig", self.kubeconfig, "--dump", self.dump, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.port = self._wait_for_port()
        self.token: Optional[str] = None

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"stand-in exited: {self.process.stderr.read().decode() if self.process.stderr else ''}")
            try:
                with open(self.port_file, encoding="utf-8") as handle:
                    text = handle.read().strip()
                if text:
                    return int(text)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("stand-in did not write its port in time")

    def stop(self) -> int:
        """SIGTERM the server and wait (bounded) for it to exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=START_TIMEOUT)
        if self.process.stderr:
            self.process.stderr.close()
        return self.process.returncode

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                headers: Optional[dict[str, str]] = None, raw: Optional[bytes] = None) -> tuple[int, Any]:
        """One request; answers (status, decoded JSON body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            all_headers = {"Accept": "application/json", "User-Agent": "standin-test/1.0"}
            if data is not None:
                all_headers["Content-Type"] = content_type
            if self.token:
                all_headers["Authorization"] = f"Bearer {self.token}"
            all_headers.update(headers or {})
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
        finally:
            conn.close()

    def apply(self, path: str, obj: dict[str, Any], manager: str = "berth", force: bool = False, extra: str = "") -> tuple[int, Any]:
        """Server-side apply ``obj`` at ``path``."""
        query = f"?fieldManager={quote(manager)}" + ("&force=true" if force else "") + extra
        return self.request("PATCH", path + query, obj, content_type=APPLY)


def statefulset(replicas: int = 2, image: str = "nginx:1.25", labels: Optional[dict[str, str]] = None, **spec: Any) -> dict[str, Any]:
    """A small StatefulSet as berth would apply it."""
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "labels": labels if labels is not None else {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image, "ports": [{"name": "http", "containerPort": 80}]}]},
            },
            **spec,
        },
    }


STS = "/apis/apps/v1/namespaces/default/statefulsets/web"


def configmap(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    """A ConfigMap with labels."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, "labels": labels}, "data": {"k": name}}


def managed(obj: dict[str, Any], manager: str, operation: str) -> Optional[dict[str, Any]]:
    """The managedFields entry of one manager and operation, if any."""
    for entry in obj["metadata"].get("managedFields", []):
        if entry["manager"] == manager and entry["operation"] == operation:
            return entry
    return None


def names(listing: dict[str, Any]) -> list[str]:
    """The ``namespace/name`` of every item of a list."""
    return [f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in listing["items"]]


class StandinTest(unittest.TestCase):
    """Base: one stand-in for the class, reset before every test."""

    server: Standin
    extra_args: tuple[str, ...] = ()

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = Standin(*cls.extra_args)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        cls.server.dir.cleanup()

    def setUp(self) -> None:
        status, _ = self.server.request("POST", "/standin/reset")
        self.assertEqual(status, 200)

    def ok(self, method: str, path: str, body: Any = None, expect: int = 200, **kw: Any) -> Any:
        """A request that must answer ``expect``."""
        status, answer = self.server.request(method, path, body, **kw)
        self.assertEqual(status, expect, answer)
        return answer

    def create_namespace(self, name: str) -> None:
        """Create a namespace by apply."""
        status, answer = self.server.apply(f"/api/v1/namespaces/{name}", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        self.assertIn(status, (200, 201), answer)

    def assert_status(self, answer: dict[str, Any], code: int, reason: str) -> None:
        """A Status object of the real server's shape."""
        self.assertEqual(answer["kind"], "Status")
        self.assertEqual(answer["apiVersion"], "v1")
        self.assertEqual(answer["status"], "Failure")
        self.assertEqual(answer["code"], code)
        self.assertEqual(answer["reason"], reason)


def golden_kinds() -> set[tuple[str, str]]:
    """Every (apiVersion, kind) the Helm target renders in the golden output."""
    found: set[tuple[str, str]] = set()
    for path in REPO.glob("golden/*/helm/**/*.yaml"):
        if path.name in ("Chart.yaml", "values.yaml"):
            continue
        for document in path.read_text(encoding="utf-8").split("\n---"):
            api = re.search(r"^apiVersion:\s*(\S+)\s*$", document, re.M)
            kind = re.search(r"^kind:\s*(\S+)\s*$", document, re.M)
            if api and kind:
                found.add((api.group(1).strip("'\""), kind.group(1).strip("'\"")))
    return found


class DiscoveryTest(StandinTest):
    def test_version_and_core(self) -> None:
        version = self.ok("GET", "/version")
        self.assertEqual(version["major"], "1")
        self.assertTrue(version["gitVersion"].startswith("v1."))
        api = self.ok("GET", "/api")
        self.assertEqual(api["kind"], "APIVersions")
        self.assertEqual(api["versions"], ["v1"])
        core = self.ok("GET", "/api/v1")
        self.assertEqual((core["kind"], core["groupVersion"]), ("APIResourceList", "v1"))
        by_name = {r["name"]: r for r in core["resources"]}
        self.assertEqual(by_name["namespaces"]["namespaced"], False)
        self.assertEqual(by_name["namespaces"]["kind"], "Namespace")
        self.assertEqual(by_name["namespaces"]["singularName"], "namespace")
        for plural in ("services", "configmaps", "secrets", "serviceaccounts", "pods"):
            self.assertTrue(by_name[plural]["namespaced"], plural)
        self.assertIn("patch", by_name["secrets"]["verbs"])
        self.assertNotIn("watch", by_name["secrets"]["verbs"])
        self.assertEqual(sorted(by_name["pods"]["verbs"]), ["get", "list"])

    def test_groups(self) -> None:
        listing = self.ok("GET", "/apis")
        self.assertEqual(listing["kind"], "APIGroupList")
        served = {g["name"]: g for g in listing["groups"]}
        for group, version in [("apps", "v1"), ("policy", "v1"), ("networking.k8s.io", "v1"), ("batch", "v1"),
                               ("cert-manager.io", "v1"), ("external-secrets.io", "v1beta1")]:
            self.assertEqual(served[group]["preferredVersion"]["groupVersion"], f"{group}/{version}")
            single = self.ok("GET", f"/apis/{group}")
            self.assertEqual((single["kind"], single["name"]), ("APIGroup", group))
        apps = self.ok("GET", "/apis/apps/v1")
        self.assertEqual(apps["groupVersion"], "apps/v1")
        self.assertEqual({r["name"] for r in apps["resources"]}, {"statefulsets", "deployments", "daemonsets"})
        self.assert_status(self.ok("GET", "/apis/nope.example/v1", expect=404), 404, "NotFound")

    def test_every_kind_berth_renders_is_served(self) -> None:
        rendered = golden_kinds()
        self.assertTrue(rendered, "no golden Helm output found")
        rendered |= {("cert-manager.io/v1", "Certificate"), ("external-secrets.io/v1beta1", "ExternalSecret")}
        served: set[tuple[str, str]] = set()
        for path in ["/api/v1"] + [f"/apis/{g['preferredVersion']['groupVersion']}" for g in self.ok("GET", "/apis")["groups"]]:
            listing = self.ok("GET", path)
            served |= {(listing["groupVersion"], r["kind"]) for r in listing["resources"]}
        self.assertEqual(rendered - served, set())


class ApplyTest(StandinTest):
    def test_apply_creates_with_managed_fields(self) -> None:
        status, obj = self.server.apply(STS, statefulset())
        self.assertEqual(status, 201, obj)
        meta = obj["metadata"]
        self.assertEqual((meta["name"], meta["namespace"], meta["generation"]), ("web", "default", 1))
        self.assertTrue(meta["uid"] and meta["creationTimestamp"].endswith("Z"))
        self.assertTrue(meta["resourceVersion"].isdigit())
        entry = managed(obj, "berth", "Apply")
        self.assertIsNotNone(entry)
        self.assertEqual((entry["apiVersion"], entry["fieldsType"]), ("apps/v1", "FieldsV1"))
        fields = entry["fieldsV1"]
        self.assertEqual(fields["f:metadata"], {"f:labels": {"f:app": {}}})
        self.assertEqual(fields["f:spec"]["f:selector"], {}, "a label selector is atomic")
        container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
        self.assertEqual(container["."], {})
        self.assertIn("f:image", container)
        self.assertIn('k:{"containerPort":80,"protocol":"TCP"}', container["f:ports"])
        self.assertEqual(self.ok("GET", STS)["metadata"]["uid"], meta["uid"])

    def test_an_empty_map_is_an_owned_field(self) -> None:
        obj = statefulset()
        obj["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
        status, live = self.server.apply(STS, obj)
        self.assertEqual(status, 201, live)
        self.assertEqual(live["spec"]["template"]["spec"]["volumes"], [{"name": "data", "emptyDir": {}}])
        volume = managed(live, "berth", "Apply")["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:volumes"]
        self.assertEqual(volume['k:{"name":"data"}'], {".": {}, "f:name": {}, "f:emptyDir": {}})

    def test_reapply_unchanged_keeps_resource_version(self) -> None:
        _, first = self.server.apply(STS, statefulset())
        status, second = self.server.apply(STS, statefulset())
        self.assertEqual(status, 200)
        self.assertEqual(second["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"])
        self.assertEqual(second["metadata"]["managedFields"], first["metadata"]["managedFields"])
        self.assertEqual(second["metadata"]["generation"], 1)

    def test_apply_change_bumps_resource_version_and_generation(self) -> None:
        _, first = self.server.apply(STS, statefulset())
        _, second = self.server.apply(STS, statefulset(image="nginx:1.26"))
        self.assertGreater(int(second["metadata"]["resourceVersion"]), int(first["metadata"]["resourceVersion"]))
        self.assertEqual(second["metadata"]["generation"], 2)
        self.assertEqual(second["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26")
        _, third = self.server.apply(STS, statefulset(image="nginx:1.26", labels={"app": "web", "tier": "x"}))
        self.assertEqual(third["metadata"]["generation"], 2, "metadata changes do not bump generation")

    def test_conflict_with_update_manager(self) -> None:
        self.server.apply(STS, statefulset(replicas=2))
        self.ok("PATCH", STS + "?fieldManager=kubectl", {"spec": {"replicas": 3}}, content_type=MERGE)
        status, answer = self.server.apply(STS, statefulset(replicas=5))
        self.assertEqual(status, 409)
        self.assert_status(answer, 409, "Conflict")
        self.assertEqual(answer["message"], 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas')
        self.assertEqual(answer["details"]["causes"], [
            {"reason": "FieldManagerConflict", "message": 'conflict with "kubectl" using apps/v1', "field": ".spec.replicas"}])
        self.assertEqual(self.ok("GET", STS)["spec"]["replicas"], 3, "a refused apply changes nothing")

    def test_conflicts_with_several_fields_and_an_applier(self) -> None:
        self.server.apply(STS, statefulset(replicas=2, image="a:1"))
        other = statefulset(replicas=4, image="b:1")
        status, _ = self.server.apply(STS, other, manager="other", force=True)
        self.assertEqual(status, 200)
        status, answer = self.server.apply(STS, statefulset(replicas=2, image="a:1"))
        self.assertEqual(status, 409)
        fields = sorted(c["field"] for c in answer["details"]["causes"])
        self.assertEqual(fields, ['.spec.replicas', '.spec.template.spec.containers[name="app"].image'])
        self.assertTrue(all(c["message"] == 'conflict with "other"' for c in answer["details"]["causes"]))
        self.assertTrue(answer["message"].startswith('Apply failed with 2 conflicts: conflicts with "other":\n- '))

    def test_same_value_is_shared_not_a_conflict(self) -> None:
        self.server.apply(STS, statefulset(replicas=2))
        self.ok("PATCH", STS + "?fieldManager=kubectl", {"spec": {"replicas": 3}}, content_type=MERGE)
        status, obj = self.server.apply(STS, statefulset(replicas=3))
        self.assertEqual(status, 200, obj)
        self.assertIn("f:replicas", managed(obj, "berth", "Apply")["fieldsV1"]["f:spec"])
        self.assertIn("f:replicas", managed(obj, "kubectl", "Update")["fieldsV1"]["f:spec"])

    def test_force_takes_ownership(self) -> None:
        self.server.apply(STS, statefulset(replicas=2))
        self.ok("PATCH", STS + "?fieldManager=kubectl", {"spec": {"replicas": 3}}, content_type=MERGE)
        status, obj = self.server.apply(STS, statefulset(replicas=5), force=True)
        self.assertEqual(status, 200, obj)
        self.assertEqual(obj["spec"]["replicas"], 5)
        self.assertIn("f:replicas", managed(obj, "berth", "Apply")["fieldsV1"]["f:spec"])
        self.assertIsNone(managed(obj, "kubectl", "Update"), "kubectl owned nothing else, so its entry is gone")
        status, _ = self.server.apply(STS, statefulset(replicas=6))
        self.assertEqual(status, 200, "no conflict once berth owns the field")

    def test_fields_dropped_from_config_are_removed(self) -> None:
        self.server.apply(STS, statefulset(labels={"app": "web", "old": "yes"}, minReadySeconds=5))
        status, obj = self.server.apply(STS, statefulset(labels={"app": "web"}))
        self.assertEqual(status, 200, obj)
        self.assertEqual(obj["metadata"]["labels"], {"app": "web"})
        self.assertNotIn("minReadySeconds", obj["spec"])
        self.assertNotIn("f:old", managed(obj, "berth", "Apply")["fieldsV1"]["f:metadata"]["f:labels"])

    def test_dropped_field_owned_by_another_manager_stays(self) -> None:
        self.server.apply(STS, statefulset(labels={"app": "web", "team": "a"}))
        self.server.apply(STS, statefulset(labels={"app": "web", "team": "a"}), manager="helper")
        status, obj = self.server.apply(STS, statefulset(labels={"app": "web"}))
        self.assertEqual(status, 200, obj)
        self.assertEqual(obj["metadata"]["labels"]["team"], "a")

    def test_dropped_field_with_default_gets_default(self) -> None:
        self.server.apply(STS, statefulset(replicas=4))
        config = statefulset()
        del config["spec"]["replicas"]
        _, obj = self.server.apply(STS, config)
        self.assertEqual(obj["spec"]["replicas"], 1)

    def test_list_items_merge_by_key(self) -> None:
        self.server.apply(STS, statefulset())
        sidecar = {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "nginx:1.25", "ports": [{"name": "http", "containerPort": 80}]},
            {"name": "sidecar", "image": "envoy:1"}]}}}}
        self.ok("PATCH", STS + "?fieldManager=injector", sidecar, content_type=MERGE)
        _, obj = self.server.apply(STS, statefulset(image="nginx:1.26"))
        containers = {c["name"]: c["image"] for c in obj["spec"]["template"]["spec"]["containers"]}
        self.assertEqual(containers, {"app": "nginx:1.26", "sidecar": "envoy:1"})
        injector = managed(obj, "injector", "Update")["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        self.assertEqual(list(injector), ['k:{"name":"sidecar"}'], "only the item it added is the injector's")

    def test_update_takes_ownership_silently(self) -> None:
        _, obj = self.server.apply(STS, statefulset(replicas=2))
        obj["spec"]["replicas"] = 7
        updated = self.ok("PUT", STS + "?fieldManager=kubectl", obj)
        self.assertEqual(updated["spec"]["replicas"], 7)
        self.assertNotIn("f:replicas", managed(updated, "berth", "Apply")["fieldsV1"]["f:spec"])
        self.assertEqual(managed(updated, "kubectl", "Update")["fieldsV1"], {"f:spec": {"f:replicas": {}}})

    def test_update_fields_v1_marks_created_maps(self) -> None:
        self.ok("POST", "/api/v1/namespaces/default/configmaps?fieldManager=kubectl", configmap("c", "default", {"a": "1"}), expect=201)
        obj = self.ok("GET", "/api/v1/namespaces/default/configmaps/c")
        self.assertEqual(managed(obj, "kubectl", "Update")["fieldsV1"],
                         {"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}})

    def test_apply_body_checks(self) -> None:
        status, answer = self.server.request("PATCH", STS, statefulset(), content_type=APPLY)
        self.assertEqual(status, 422, "fieldManager is required for apply")
        self.assert_status(answer, 422, "Invalid")
        status, answer = self.server.request("PATCH", STS + "?fieldManager=berth", raw=b"apiVersion: apps/v1\nkind: StatefulSet\n", content_type=APPLY)
        self.assertEqual(status, 400)
        self.assertIn("JSON only", answer["message"])
        wrong = statefulset()
        wrong["metadata"]["name"] = "other"
        status, answer = self.server.apply(STS, wrong)
        self.assertEqual(status, 400)
        self.assertIn("does not match the name on the URL", answer["message"])
        status, answer = self.server.apply(STS, {**statefulset(), "kind": "Deployment"})
        self.assertEqual(status, 400)
        status, answer = self.server.request("PATCH", STS + "?fieldManager=x", {"spec": {}}, content_type="application/strategic-merge-patch+json")
        self.assertEqual((status, answer["reason"]), (415, "UnsupportedMediaType"))

    def test_dry_run_stores_nothing(self) -> None:
        status, obj = self.server.apply(STS, statefulset(), extra="&dryRun=All")
        self.assertEqual(status, 201)
        self.assertEqual(obj["metadata"]["name"], "web")
        self.assert_status(self.ok("GET", STS, expect=404), 404, "NotFound")

    def test_immutable_fields(self) -> None:
        self.server.apply(STS, statefulset())
        changed = statefulset()
        changed["spec"]["serviceName"] = "other"
        status, answer = self.server.apply(STS, changed)
        self.assertEqual(status, 422)
        self.assert_status(answer, 422, "Invalid")
        self.assertEqual(answer["details"]["causes"][0]["field"], "spec")
        self.assertIn("updates to statefulset spec for fields other than", answer["message"])

    def test_secret_string_data_lands_in_data(self) -> None:
        path = "/api/v1/namespaces/default/secrets/s"
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"key": "value"}}
        _, first = self.server.apply(path, secret)
        self.assertEqual(first["data"], {"key": "dmFsdWU="})
        self.assertNotIn("stringData", first)
        self.assertEqual(first["type"], "Opaque")
        _, second = self.server.apply(path, secret)
        self.assertEqual(second["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"])

    def test_service_defaults_survive_reapply(self) -> None:
        path = "/api/v1/namespaces/default/services/web"
        service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}}
        _, first = self.server.apply(path, service)
        self.assertEqual(first["spec"]["ports"][0], {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80})
        self.assertEqual(first["spec"]["type"], "ClusterIP")
        _, second = self.server.apply(path, service)
        self.assertEqual(second["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"])
        service["spec"]["clusterIP"] = "10.96.0.99"
        status, answer = self.server.apply(path, service)
        self.assertEqual(status, 422, answer)

    def test_custom_resource(self) -> None:
        path = "/apis/cert-manager.io/v1/namespaces/default/certificates/web"
        cert = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "web"},
                "spec": {"secretName": "web-tls", "dnsNames": ["a", "b"], "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "ca"}}}
        status, obj = self.server.apply(path, cert)
        self.assertEqual(status, 201, obj)
        self.assertEqual(managed(obj, "berth", "Apply")["fieldsV1"]["f:spec"]["f:dnsNames"], {}, "CRD lists are atomic")
        listing = self.ok("GET", "/apis/cert-manager.io/v1/certificates")
        self.assertEqual(listing["items"][0]["kind"], "Certificate", "custom resource list items keep their type")
        deleted = self.ok("DELETE", path)
        self.assertEqual(deleted["kind"], "Certificate")


class ObjectsTest(StandinTest):
    def seed(self) -> None:
        self.create_namespace("a")
        self.create_namespace("b")
        for name, ns, labels in [("one", "a", {"app": "x", "tier": "web"}), ("two", "a", {"app": "y"}),
                                 ("three", "b", {"app": "x", "tier": "db"}), ("four", "b", {})]:
            status, answer = self.server.apply(f"/api/v1/namespaces/{ns}/configmaps/{name}", configmap(name, ns, labels))
            self.assertEqual(status, 201, answer)

    def select(self, selector: str, path: str = "/api/v1/configmaps") -> list[str]:
        listing = self.ok("GET", f"{path}?labelSelector={quote(selector)}")
        return [n for n in names(listing) if not n.endswith("/kube-root-ca.crt")]

    def test_label_selectors(self) -> None:
        self.seed()
        self.assertEqual(self.select("app=x"), ["a/one", "b/three"])
        self.assertEqual(self.select("app==x"), ["a/one", "b/three"])
        self.assertEqual(self.select("app!=x"), ["a/two", "b/four"])
        self.assertEqual(self.select("tier"), ["a/one", "b/three"])
        self.assertEqual(self.select("!tier"), ["a/two", "b/four"])
        self.assertEqual(self.select("tier in (web,db)"), ["a/one", "b/three"])
        self.assertEqual(self.select("tier notin (web),app"), ["a/two", "b/three"])
        self.assertEqual(self.select("app=x,tier=db"), ["b/three"])
        self.assertEqual(self.select("app=x", "/api/v1/namespaces/a/configmaps"), ["a/one"])
        status, answer = self.server.request("GET", "/api/v1/configmaps?labelSelector=" + quote("app=(x"))
        self.assertEqual((status, answer["reason"]), (400, "BadRequest"))

    def test_list_shape_field_selector_and_paging(self) -> None:
        self.seed()
        listing = self.ok("GET", "/api/v1/namespaces/a/configmaps?fieldSelector=metadata.name%3Dtwo")
        self.assertEqual((listing["kind"], listing["apiVersion"]), ("ConfigMapList", "v1"))
        self.assertTrue(listing["metadata"]["resourceVersion"].isdigit())
        self.assertEqual(names(listing), ["a/two"])
        self.assertNotIn("kind", listing["items"][0], "built-in list items come without their type")
        page = self.ok("GET", "/api/v1/configmaps?labelSelector=app&limit=2")
        self.assertEqual(len(page["items"]), 2)
        rest = self.ok("GET", f"/api/v1/configmaps?labelSelector=app&limit=2&continue={quote(page['metadata']['continue'])}")
        self.assertEqual(names(page) + names(rest), ["a/one", "a/two", "b/three"])
        self.assertEqual(page["metadata"]["remainingItemCount"], 1)
        self.assertNotIn("continue", rest["metadata"])

    def test_namespaces_are_cluster_scoped_and_seeded(self) -> None:
        self.create_namespace("a")
        listing = self.ok("GET", "/api/v1/namespaces")
        self.assertEqual(names(listing), ["/a", "/default", "/kube-node-lease", "/kube-public", "/kube-system"])
        ns = self.ok("GET", "/api/v1/namespaces/a")
        self.assertEqual(ns["status"]["phase"], "Active")
        self.assertEqual(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "a")
        self.assertNotIn("namespace", ns["metadata"])
        self.ok("GET", "/api/v1/namespaces/a/serviceaccounts/default")
        self.ok("GET", "/api/v1/namespaces/a/configmaps/kube-root-ca.crt")

    def test_namespace_must_exist(self) -> None:
        status, answer = self.server.apply("/api/v1/namespaces/missing/configmaps/c", configmap("c", "missing", {}))
        self.assertEqual(status, 404)
        self.assert_status(answer, 404, "NotFound")
        self.assertEqual(answer["message"], 'namespaces "missing" not found')
        self.assertEqual(answer["details"], {"name": "missing", "kind": "namespaces"})
        status, answer = self.server.request("POST", "/api/v1/namespaces/missing/configmaps", configmap("c", "missing", {}))
        self.assertEqual((status, answer["message"]), (404, 'namespaces "missing" not found'))

    def test_not_found(self) -> None:
        answer = self.ok("GET", "/apis/apps/v1/namespaces/default/deployments/nope", expect=404)
        self.assert_status(answer, 404, "NotFound")
        self.assertEqual(answer["message"], 'deployments.apps "nope" not found')
        self.assertEqual(answer["details"], {"name": "nope", "group": "apps", "kind": "deployments"})
        answer = self.ok("GET", "/api/v1/namespaces/default/widgets", expect=404)
        self.assertEqual(answer["message"], "the server could not find the requested resource")
        self.ok("DELETE", "/api/v1/namespaces/default/configmaps/nope", expect=404)

    def test_delete(self) -> None:
        self.seed()
        answer = self.ok("DELETE", "/api/v1/namespaces/a/configmaps/one?propagationPolicy=Background")
        self.assertEqual((answer["kind"], answer["status"]), ("Status", "Success"))
        self.assertEqual(answer["details"]["name"], "one")
        self.ok("GET", "/api/v1/namespaces/a/configmaps/one", expect=404)
        gone = self.ok("DELETE", "/api/v1/namespaces/b/configmaps?labelSelector=app%3Dx")
        self.assertEqual(names(gone), ["b/three"])
        deleted_ns = self.ok("DELETE", "/api/v1/namespaces/a")
        self.assertEqual(deleted_ns["kind"], "Namespace")
        self.assertEqual(self.ok("GET", "/standin/objects?namespace=a")["count"], 0, "a namespace's content goes with it")
        answer = self.ok("DELETE", "/api/v1/namespaces/default", expect=403)
        self.assert_status(answer, 403, "Forbidden")

    def test_create_update_and_concurrency(self) -> None:
        path = "/api/v1/namespaces/default/configmaps"
        created = self.ok("POST", path, configmap("c", "default", {}), expect=201)
        answer = self.ok("POST", path, configmap("c", "default", {}), expect=409)
        self.assert_status(answer, 409, "AlreadyExists")
        self.assertEqual(answer["message"], 'configmaps "c" already exists')
        self.assertIsNotNone(managed(created, "standin-test", "Update"), "the manager defaults to the user agent")
        stale = dict(created, data={"k": "new"})
        updated = self.ok("PUT", f"{path}/c", stale)
        self.assertNotEqual(updated["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"])
        answer = self.ok("PUT", f"{path}/c", dict(created, data={"k": "newer"}), expect=409)
        self.assert_status(answer, 409, "Conflict")
        self.assertIn("the object has been modified", answer["message"])
        again = self.ok("PUT", f"{path}/c", updated)
        self.assertEqual(again["metadata"]["resourceVersion"], updated["metadata"]["resourceVersion"], "a no-op update writes nothing")
        generated = self.ok("POST", path, {"metadata": {"generateName": "gen-"}}, expect=201)
        self.assertRegex(generated["metadata"]["name"], r"^gen-[a-z0-9]{5}$")

    def test_invalid_names_and_labels(self) -> None:
        answer = self.ok("POST", "/api/v1/namespaces/default/configmaps", configmap("Bad_Name", "default", {}), expect=422)
        self.assert_status(answer, 422, "Invalid")
        self.assertEqual(answer["details"]["causes"][0]["field"], "metadata.name")
        status, answer = self.server.apply("/api/v1/namespaces/default/configmaps/c", configmap("c", "default", {"k": "has space"}))
        self.assertEqual((status, answer["reason"]), (422, "Invalid"))

    def test_watch_is_refused(self) -> None:
        answer = self.ok("GET", "/api/v1/namespaces/default/configmaps?watch=true", expect=400)
        self.assertIn("not supported", answer["message"])
        self.ok("GET", "/api/v1/namespaces/watch", expect=404)

    def test_standin_objects_and_stats(self) -> None:
        self.seed()
        everything = self.ok("GET", "/standin/objects")
        self.assertEqual(everything["count"], len(everything["items"]))
        configmaps = self.ok("GET", "/standin/objects?resource=configmaps&namespace=b")
        self.assertEqual(sorted(i["metadata"]["name"] for i in configmaps["items"]), ["four", "kube-root-ca.crt", "three"])
        self.assertEqual(configmaps["items"][0]["kind"], "ConfigMap")
        stats = self.ok("GET", "/standin/stats")["requests"]
        self.assertEqual(stats["patch configmaps"], 4)

    def test_parallel_applies(self) -> None:
        self.create_namespace("p")
        results: list[int] = []
        lock = threading.Lock()

        def worker(index: int) -> None:
            status, _ = self.server.apply(f"/api/v1/namespaces/p/configmaps/c{index}", configmap(f"c{index}", "p", {"n": str(index)}))
            with lock:
                results.append(status)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT)
        self.assertEqual(results, [201] * 40)
        self.assertEqual(self.ok("GET", "/standin/objects?resource=configmaps&namespace=p")["count"], 41)


class TokenTest(StandinTest):
    extra_args = ("--token", "s3cret", "--context", "b1", "--context", "b2", "--no-controllers")

    def test_token_required(self) -> None:
        self.server.token = None
        answer = self.ok("GET", "/api/v1/namespaces", expect=401)
        self.assert_status(answer, 401, "Unauthorized")
        self.server.token = "wrong"
        self.ok("GET", "/api/v1/namespaces", expect=401)
        self.server.token = "s3cret"
        try:
            self.ok("GET", "/api/v1/namespaces")
        finally:
            self.server.token = None

    def test_kubeconfig(self) -> None:
        text = Path(self.server.kubeconfig).read_text(encoding="utf-8")
        self.assertIn(f'server: "http://127.0.0.1:{self.server.port}"', text)
        self.assertIn('token: "s3cret"', text)
        self.assertIn('- name: "b2"', text)
        self.assertIn('current-context: "b1"', text)

    def test_no_controllers(self) -> None:
        self.server.token = "s3cret"
        try:
            self.create_namespace("q")
            self.assertEqual(self.ok("GET", "/standin/objects?namespace=q")["count"], 0)
        finally:
            self.server.token = None


class ShutdownTest(unittest.TestCase):
    def test_dump_on_sigterm(self) -> None:
        server = Standin()
        try:
            server.apply("/api/v1/namespaces/default/configmaps/c", configmap("c", "default", {}))
            self.assertEqual(server.stop(), 0)
            dump = json.loads(Path(server.dump).read_text(encoding="utf-8"))
            self.assertIn("c", [i["metadata"]["name"] for i in dump["items"]])
        finally:
            server.stop()
            server.dir.cleanup()


if __name__ == "__main__":
    unittest.main()
