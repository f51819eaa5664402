#!/usr/bin/env python3
"""Kubernetes API stand-in for berth's tests
=========================================

THIS IS A STAND-IN, NOT KUBERNETES. No real API server can be installed on the
test machines, so this small HTTP server (Python 3.11 standard library only)
answers the part of the documented Kubernetes API that berth uses, closely
enough that berth's Kubernetes engine can be tested end to end against it:

* https://kubernetes.io/docs/reference/using-api/api-concepts/
* https://kubernetes.io/docs/reference/using-api/server-side-apply/

Running it::

    python3 tests/kube-standin/server.py --port 0 --port-file PORTFILE \\
        [--token TOKEN] [--kubeconfig FILE --context NAME [--context NAME2]] \\
        [--dump FILE] [--no-defaults] [--no-controllers] [--verbose]

It binds 127.0.0.1, serves plain HTTP/1.1 and, with ``--kubeconfig``, writes a
kubeconfig whose contexts (one per ``--context``, default ``standin``) point at
``http://127.0.0.1:PORT``, with the bearer token when ``--token`` is given
(every API request must then carry ``Authorization: Bearer TOKEN`` or gets a
401 Status). The chosen port goes to ``--port-file`` last and atomically, so a
test that waits for that file can use the kubeconfig at once. Stop it with
SIGTERM or SIGINT. One process is one cluster: start one per cluster and join
their kubeconfigs with ``KUBECONFIG=a:b``. Checked against kube-rs 5.0.0
(discovery, typed and dynamic apply, conflicts, list, delete, deletecollection).

What it implements
------------------
* Legacy discovery: ``/version``, ``/api``, ``/api/v1``, ``/apis``,
  ``/apis/GROUP``, ``/apis/GROUP/VERSION`` for the resources in ``RESOURCES``:
  every kind the Helm target renders (Namespace, Service, Secret, StatefulSet,
  Deployment, PodDisruptionBudget, ExternalSecret, Certificate) plus the ones
  they reference (SecretStore, ClusterSecretStore, Issuer, ClusterIssuer) and
  ConfigMap, ServiceAccount, Pod (get/list only), DaemonSet, Job, CronJob,
  NetworkPolicy. Aggregated discovery is not served (legacy JSON is always
  returned, which clients fall back to).
* Server-side apply: ``PATCH`` with ``Content-Type: application/apply-patch+yaml``
  and ``?fieldManager=M[&force=true][&dryRun=All]``. The body must be JSON
  (valid YAML, and what kube-rs sends); YAML-only syntax is refused with 400.
  Creates when absent (201), merges otherwise, records ``metadata.managedFields``
  (``operation: Apply``, ``fieldsType: FieldsV1``, ``fieldsV1`` in the documented
  ``f:``/``k:``/``v:`` notation with ``.`` for owned list items), answers a
  conflict with another manager with the real 409 Status (``reason: Conflict``,
  ``details.causes[]`` of ``reason: FieldManagerConflict`` naming manager and
  field, the real message text), takes fields over with ``force=true``, and
  removes fields the manager applied before but omits now unless another
  manager owns them (a removed field with a default gets its default back).
  A re-apply that changes nothing leaves the object, its resourceVersion and
  the managedFields timestamps untouched.
* Update operations, recorded as ``operation: Update`` (manager from
  ``fieldManager`` or the User-Agent's first word): ``POST`` (create,
  ``generateName`` too), ``PUT`` (optimistic concurrency on
  ``metadata.resourceVersion``), ``PATCH`` with ``application/merge-patch+json``
  or ``application/json-patch+json``. They never conflict; they take ownership
  of the fields they change, as the real server does.
* ``GET`` an object; ``LIST`` per namespace, across namespaces or cluster-wide
  with ``labelSelector`` (``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``,
  ``a in (x,y)``, ``a notin (x,y)``), ``fieldSelector`` on ``metadata.name`` and
  ``metadata.namespace``, ``limit``/``continue``; list ``metadata.resourceVersion``.
  Items of built-in kinds come without ``kind``/``apiVersion``, as in the real
  list responses; custom resources keep them.
* ``DELETE`` an object (built-ins answer a Success Status, custom resources and
  namespaces the object; ``propagationPolicy`` and ``gracePeriodSeconds`` are
  accepted; ``preconditions`` in a DeleteOptions body are checked) and a
  collection (``deletecollection`` with selectors, answers the deleted list).
  Deleting a namespace deletes its content at once.
* Object metadata: ``resourceVersion`` (one global counter, as a string),
  ``uid``, ``creationTimestamp``, ``generation`` (workload, policy, batch,
  networking and custom kinds; bumped when anything outside metadata/status
  changes). Namespaced objects need their namespace (404 ``namespaces "x" not
  found`` on create). 404 NotFound, 409 AlreadyExists, 409 Conflict (stale
  resourceVersion), 422 Invalid (names, label syntax, immutable fields:
  StatefulSet spec outside the updatable fields, Deployment/DaemonSet/Job
  selector, Job template, Service clusterIP, Secret type, immutable
  ConfigMaps/Secrets), 415 for other patch types, 405, 401 Status objects.
* A little of what a fresh cluster's controllers and defaulting do (both can be
  switched off): the namespaces default, kube-system, kube-public and
  kube-node-lease exist at start; every namespace gets the
  ``kubernetes.io/metadata.name`` label, a ``default`` ServiceAccount and a
  ``kube-root-ca.crt`` ConfigMap (managed by ``kube-controller-manager``); a
  handful of common defaults (Service type/clusterIP/port protocol and
  targetPort, workload replicas and strategies, pod template and container
  defaults, Secret type Opaque) and Secret ``stringData`` folded into ``data``.
* Test helpers outside the Kubernetes API (no token needed): ``GET
  /standin/objects[?resource=PLURAL[.GROUP]&namespace=NS]`` lists every stored
  object, ``GET /standin/stats`` counts requests per verb and resource,
  ``POST /standin/reset`` forgets everything (then re-seeds the start
  namespaces); ``--dump FILE`` writes the objects at shutdown (SIGTERM/SIGINT).

Not implemented (known gaps versus a real API server)
-----------------------------------------------------
watch (``watch=true`` answers 400), strategic merge patch (415), protobuf and
Table output, aggregated discovery, OpenAPI, subresources (status, scale),
schema validation of field types and required fields (only names, labels,
annotations' size and the immutable fields above are checked), the full
structured-merge-diff schema (list merge keys and atomic fields come from a
built-in table of the common Kubernetes types; every list of a custom resource
is atomic, as CRDs default to), most defaulting, garbage collection and
ownerReferences, finalizers and graceful deletion (a delete is immediate), any
controller (no Pods are ever created, status stays empty), admission,
RBAC, and persistence (state is memory only). Client-sent managedFields are
ignored on updates (an apply that sends them is refused, as the real one does).
Every request is logged to stderr with ``--verbose`` only.

Tests: ``python3 -m unittest discover -s tests/kube-standin``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import random
import re
import signal
import string
import sys
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Optional
from urllib.parse import parse_qs, urlsplit

SERVER_VERSION = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.0-berth-standin",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-04-17T00:00:00Z",
    "goVersion": "go1.22.2",
    "compiler": "gc",
    "platform": "linux/amd64",
}

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
MERGE_PATCH_CONTENT_TYPE = "application/merge-patch+json"
JSON_PATCH_CONTENT_TYPE = "application/json-patch+json"
ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update"]
READ_VERBS = ["get", "list"]
START_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"]
UNDELETABLE_NAMESPACES = {"default", "kube-public", "kube-system"}
CONTROLLER_MANAGER = "kube-controller-manager"


# --------------------------------------------------------------------------
# Resource types
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceType:
    """One served resource: where it lives in the API and how it behaves."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    custom: bool = False
    generation: bool = False
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = tuple(ALL_VERBS)

    @property
    def group_version(self) -> str:
        """The apiVersion of objects of this type."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``plural`` for the core group, ``plural.group`` otherwise."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """``Kind`` for the core group, ``Kind.group`` otherwise (error texts)."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def discovery_entry(self) -> dict[str, Any]:
        """The APIResource entry of a legacy discovery document."""
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        return entry


def _rt(group: str, version: str, plural: str, kind: str, namespaced: bool = True, **kw: Any) -> ResourceType:
    return ResourceType(group, version, plural, kind.lower(), kind, namespaced, **kw)


RESOURCES: list[ResourceType] = [
    _rt("", "v1", "namespaces", "Namespace", False, short_names=("ns",)),
    _rt("", "v1", "services", "Service", short_names=("svc",)),
    _rt("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    _rt("", "v1", "secrets", "Secret"),
    _rt("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _rt("", "v1", "pods", "Pod", short_names=("po",), verbs=tuple(READ_VERBS)),
    _rt("apps", "v1", "statefulsets", "StatefulSet", generation=True, short_names=("sts",)),
    _rt("apps", "v1", "deployments", "Deployment", generation=True, short_names=("deploy",)),
    _rt("apps", "v1", "daemonsets", "DaemonSet", generation=True, short_names=("ds",)),
    _rt("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", generation=True, short_names=("pdb",)),
    _rt("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", generation=True, short_names=("netpol",)),
    _rt("batch", "v1", "jobs", "Job", generation=True),
    _rt("batch", "v1", "cronjobs", "CronJob", generation=True, short_names=("cj",)),
    _rt("cert-manager.io", "v1", "certificates", "Certificate", custom=True, generation=True, short_names=("cert", "certs")),
    _rt("cert-manager.io", "v1", "issuers", "Issuer", custom=True, generation=True),
    _rt("cert-manager.io", "v1", "clusterissuers", "ClusterIssuer", False, custom=True, generation=True),
    _rt("external-secrets.io", "v1beta1", "externalsecrets", "ExternalSecret", custom=True, generation=True, short_names=("es",)),
    _rt("external-secrets.io", "v1beta1", "secretstores", "SecretStore", custom=True, generation=True, short_names=("ss",)),
    _rt("external-secrets.io", "v1beta1", "clustersecretstores", "ClusterSecretStore", False, custom=True, generation=True, short_names=("css",)),
]

NAMESPACES = RESOURCES[0]


def find_resource(group: str, version: str, plural: str) -> Optional[ResourceType]:
    """The served resource type at ``group/version/plural``, if any."""
    for rt in RESOURCES:
        if (rt.group, rt.version, rt.plural) == (group, version, plural):
            return rt
    return None


def resource_by_qualified(name: str) -> Optional[ResourceType]:
    """Look a type up by ``plural`` or ``plural.group`` (the /standin filter)."""
    for rt in RESOURCES:
        if name in (rt.plural, rt.qualified):
            return rt
    return None


# --------------------------------------------------------------------------
# Errors as Status objects
# --------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered as a ``kind: Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: Optional[dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The Status body the real API server sends for this error."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(rt: ResourceType, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    """404 for a missing object, worded as the real server words it."""
    return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def already_exists(rt: ResourceType, name: str) -> ApiError:
    """409 AlreadyExists for a create of an existing name."""
    return ApiError(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name))


def stale_conflict(rt: ResourceType, name: str) -> ApiError:
    """409 Conflict for a write against an outdated resourceVersion."""
    message = (
        f'Operation cannot be fulfilled on {rt.qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    return ApiError(409, "Conflict", message, _details(rt, name))


def bad_request(message: str) -> ApiError:
    """400 BadRequest."""
    return ApiError(400, "BadRequest", message)


@dataclass
class Invalid:
    """One field error of a 422 Invalid answer."""

    reason: str  # FieldValueInvalid, FieldValueForbidden, FieldValueRequired ...
    field: str
    message: str


def invalid(kind: str, group: str, name: str, errors: list[Invalid]) -> ApiError:
    """422 Invalid with one cause per field error, as the real server reports it."""
    qualified = f"{kind}.{group}" if group else kind
    joined = ", ".join(f"{e.field}: {e.message}" for e in errors)
    text = f'{qualified} "{name}" is invalid: ' + (f"[{joined}]" if len(errors) > 1 else joined)
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [{"reason": e.reason, "message": e.message, "field": e.field} for e in errors]
    return ApiError(422, "Invalid", text, details)


# --------------------------------------------------------------------------
# Schema hints: how lists and maps of the common types merge
# --------------------------------------------------------------------------

CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}
# Lists of maps merged per item by these keys (listType=map), by field name.
LIST_MAP_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "resourceClaims": ("name",),
    "schedulingGates": ("name",),
    "conditions": ("type",),
}
# Key fields that have a default, used when an item omits them (as SMD does).
KEY_DEFAULTS = {"protocol": "TCP"}
# Structs and maps that are replaced whole (structType/mapType=atomic).
ATOMIC_MAPS = {"selector", "podSelector", "namespaceSelector", "labelSelector"}
# String-keyed maps (as opposed to structs): an Update that creates one owns it.
STRING_MAPS = {"labels", "annotations", "data", "binaryData", "stringData", "nodeSelector", "requests", "limits", "matchLabels", "selector"}


@dataclass(frozen=True)
class ListRule:
    """How a list merges: ``atomic`` (whole), ``set`` (scalars) or ``map`` (keyed items)."""

    kind: str
    keys: tuple[str, ...] = ()


ATOMIC = ListRule("atomic")
SET = ListRule("set")


@dataclass(frozen=True)
class Schema:
    """Merge hints for one resource type; ``names`` are the field names on a path."""

    kind: str
    custom: bool

    def list_rule(self, names: tuple[str, ...]) -> ListRule:
        """The merge rule of the list at a path."""
        last = names[-1] if names else ""
        if names[:1] == ("metadata",) and len(names) == 2:
            if last == "finalizers":
                return SET
            if last == "ownerReferences":
                return ListRule("map", ("uid",))
        if self.custom:
            return ATOMIC
        if last == "ports" and len(names) >= 2 and names[-2] in CONTAINER_LISTS:
            return ListRule("map", ("containerPort", "protocol"))
        if last == "ports" and names == ("spec", "ports") and self.kind == "Service":
            return ListRule("map", ("port", "protocol"))
        if last == "volumes" and len(names) >= 2 and names[-2] == "spec":
            return ListRule("map", ("name",))
        if last in LIST_MAP_KEYS:
            return ListRule("map", LIST_MAP_KEYS[last])
        return ATOMIC

    def atomic_map(self, names: tuple[str, ...]) -> bool:
        """Whether the map at a path is replaced and owned whole."""
        return bool(names) and not self.custom and names[-1] in ATOMIC_MAPS

    def string_map(self, names: tuple[str, ...]) -> bool:
        """Whether the map at a path is a string-keyed map rather than a struct."""
        return bool(names) and names[-1] in STRING_MAPS


# --------------------------------------------------------------------------
# Field paths and field sets (structured-merge-diff, reduced)
# --------------------------------------------------------------------------

# A path element is ("f", field name), ("k", canonical JSON of the item's keys),
# ("v", canonical JSON of a set member) or ("i", index); a path is a tuple of them.
PathElement = tuple[str, Any]
Path = tuple[PathElement, ...]
MISSING: Any = object()


def canonical(value: Any) -> str:
    """Compact, key-sorted JSON, as used inside ``k:`` and ``v:`` elements."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def item_element(rule: ListRule, item: Any) -> PathElement:
    """The path element that names one list item under a merge rule."""
    if rule.kind == "map" and isinstance(item, dict):
        keys = {}
        for key in rule.keys:
            if key in item:
                keys[key] = item[key]
            elif key in KEY_DEFAULTS:
                keys[key] = KEY_DEFAULTS[key]
        return ("k", canonical(keys))
    return ("v", canonical(item))


def element_text(pe: PathElement) -> str:
    """The ``fieldsV1`` spelling of a path element."""
    kind, value = pe
    return f"{kind}:{value}"


def path_text(path: Path) -> str:
    """A path as conflict messages print it: ``.spec.containers[name="app"].image``."""
    out = []
    for kind, value in path:
        if kind == "f":
            out.append("." + value)
        elif kind == "k":
            keys = json.loads(value)
            out.append("[" + ",".join(f"{k}={json.dumps(keys[k])}" for k in sorted(keys)) + "]")
        elif kind == "v":
            out.append(f"[={value}]")
        else:
            out.append(f"[{value}]")
    return "".join(out)


def collect_fields(schema: Schema, value: Any, path: Path = (), names: tuple[str, ...] = (), with_maps: bool = False) -> set[Path]:
    """The field set of a value: leaves, atomic nodes and list items.

    ``with_maps`` also owns string-keyed maps themselves, as an Update that
    creates one does (``f:labels: {".": {}, ...}``).
    """
    out: set[Path] = set()
    _collect(schema, value, path, names, with_maps, out)
    return out


def _collect(schema: Schema, value: Any, path: Path, names: tuple[str, ...], with_maps: bool, out: set[Path]) -> None:
    if isinstance(value, dict):
        # An atomic map, and an empty one (`emptyDir: {}`), is owned as one field.
        if schema.atomic_map(names) or (not value and path):
            out.add(path)
            return
        if with_maps and path and schema.string_map(names):
            out.add(path)
        for key, child in value.items():
            _collect(schema, child, path + (("f", key),), names + (key,), with_maps, out)
    elif isinstance(value, list):
        rule = schema.list_rule(names)
        if rule.kind == "atomic":
            out.add(path)
            return
        for item in value:
            item_path = path + (item_element(rule, item),)
            out.add(item_path)
            if rule.kind == "map" and isinstance(item, dict):
                for key, child in item.items():
                    _collect(schema, child, item_path + (("f", key),), names + (key,), with_maps, out)
    else:
        out.add(path)


@dataclass
class Comparison:
    """Paths added, modified and removed between two versions of an object."""

    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)

    def changed(self) -> set[Path]:
        """Every path whose value changed in any way."""
        return self.added | self.modified | self.removed


def compare(schema: Schema, old: Any, new: Any) -> Comparison:
    """Compare two versions of an object field by field."""
    out = Comparison()
    _compare(schema, old, new, (), (), out)
    return out


def _compare(schema: Schema, old: Any, new: Any, path: Path, names: tuple[str, ...], out: Comparison) -> None:
    if old is MISSING and new is MISSING:
        return
    if old is MISSING:
        out.added |= collect_fields(schema, new, path, names, with_maps=True)
        return
    if new is MISSING:
        out.removed |= collect_fields(schema, old, path, names, with_maps=True)
        return
    if isinstance(old, dict) and isinstance(new, dict) and not schema.atomic_map(names):
        for key in list(old) + [k for k in new if k not in old]:
            _compare(schema, old.get(key, MISSING), new.get(key, MISSING), path + (("f", key),), names + (key,), out)
        return
    if isinstance(old, list) and isinstance(new, list):
        rule = schema.list_rule(names)
        if rule.kind != "atomic":
            _compare_items(schema, rule, old, new, path, names, out)
            return
    if old != new:
        out.modified.add(path)


def _compare_items(schema: Schema, rule: ListRule, old: list, new: list, path: Path, names: tuple[str, ...], out: Comparison) -> None:
    old_items = {item_element(rule, item): item for item in old}
    new_items = {item_element(rule, item): item for item in new}
    for pe in list(old_items) + [p for p in new_items if p not in old_items]:
        item_path = path + (pe,)
        before, after = old_items.get(pe, MISSING), new_items.get(pe, MISSING)
        if before is MISSING or after is MISSING:
            target = out.added if before is MISSING else out.removed
            target.add(item_path)
            present = after if before is MISSING else before
            if rule.kind == "map" and isinstance(present, dict):
                for key, child in present.items():
                    target |= collect_fields(schema, child, item_path + (("f", key),), names + (key,), with_maps=True)
        elif rule.kind == "map" and isinstance(before, dict) and isinstance(after, dict):
            for key in list(before) + [k for k in after if k not in before]:
                _compare(schema, before.get(key, MISSING), after.get(key, MISSING), item_path + (("f", key),), names + (key,), out)


def merge(schema: Schema, live: Any, config: Any, names: tuple[str, ...] = ()) -> Any:
    """Merge an applied configuration into the live object (config wins)."""
    if live is MISSING:
        return copy.deepcopy(config)
    if isinstance(live, dict) and isinstance(config, dict) and not schema.atomic_map(names):
        out = dict(live)
        for key, value in config.items():
            out[key] = merge(schema, live.get(key, MISSING), value, names + (key,))
        return out
    if isinstance(live, list) and isinstance(config, list):
        rule = schema.list_rule(names)
        if rule.kind != "atomic":
            return _merge_items(schema, rule, live, config, names)
    return copy.deepcopy(config)


def _merge_items(schema: Schema, rule: ListRule, live: list, config: list, names: tuple[str, ...]) -> list:
    """Merge keyed lists and sets: live order kept, new items appended."""
    wanted = {item_element(rule, item): item for item in config}
    out = []
    for item in live:
        pe = item_element(rule, item)
        if pe not in wanted:
            out.append(item)
        elif rule.kind == "map":
            out.append(merge(schema, item, wanted.pop(pe), names))
        else:  # a set member present on both sides
            out.append(wanted.pop(pe))
    out.extend(copy.deepcopy(item) for item in wanted.values())
    return out


def remove_path(schema: Schema, obj: dict, path: Path) -> None:
    """Remove the field at ``path`` from ``obj``, dropping containers it empties."""
    _remove(schema, obj, path, ())


def _remove(schema: Schema, node: Any, path: Path, names: tuple[str, ...]) -> bool:
    """Remove along ``path``; True when ``node`` became empty because of it."""
    if not path:
        return False
    (kind, value), rest = path[0], path[1:]
    if kind == "f" and isinstance(node, dict) and value in node:
        if not rest or _remove(schema, node[value], rest, names + (value,)):
            del node[value]
        return not node
    if kind in ("k", "v") and isinstance(node, list):
        rule = schema.list_rule(names)
        for index, item in enumerate(node):
            if item_element(rule, item) == (kind, value):
                if not rest or _remove(schema, item, rest, names):
                    del node[index]
                break
        return not node
    return False


def encode_fields(paths: Iterable[Path]) -> dict[str, Any]:
    """Encode a field set as ``fieldsV1`` (``.`` marks an owned node with children)."""
    trie: dict[str, Any] = {}
    members: set[tuple[str, ...]] = set()
    for path in paths:
        node = trie
        texts = tuple(element_text(pe) for pe in path)
        for text in texts:
            node = node.setdefault(text, {})
        members.add(texts)
    return _render_trie(trie, (), members)


def _render_trie(node: dict[str, Any], prefix: tuple[str, ...], members: set[tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node and prefix in members:
        out["."] = {}
    for text in sorted(node):
        out[text] = _render_trie(node[text], prefix + (text,), members)
    return out


def covers(owned: set[Path], path: Path) -> bool:
    """Whether ``owned`` holds ``path`` or something beneath it."""
    size = len(path)
    return any(p[:size] == path for p in owned)


# --------------------------------------------------------------------------
# Object helpers
# --------------------------------------------------------------------------

SYSTEM_METADATA = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")


def now_rfc3339() -> str:
    """The current time as Kubernetes writes timestamps (seconds, UTC)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def drop_nulls(value: Any) -> Any:
    """Remove null map entries recursively (decoding into Go types drops them)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def user_content(obj: dict[str, Any]) -> dict[str, Any]:
    """The part of an object that field management covers (no type, identity, status)."""
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("apiVersion", "kind", "status")}
    metadata = {k: v for k, v in out.get("metadata", {}).items() if k not in SYSTEM_METADATA}
    if metadata:
        out["metadata"] = metadata
    else:
        out.pop("metadata", None)
    return out


def outside_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """What a generation bump looks at: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}


DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def name_errors(rt: ResourceType, name: str) -> list[Invalid]:
    """Validate ``metadata.name`` with the rule the real type uses."""
    if rt.kind == "Service":
        pattern, limit, what = DNS1035_LABEL, 63, "a DNS-1035 label"
    elif rt.kind == "Namespace":
        pattern, limit, what = DNS1123_LABEL, 63, "a lowercase RFC 1123 label"
    else:
        pattern, limit, what = DNS1123_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain"
    if not name:
        return [Invalid("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]
    if len(name) > limit or not pattern.match(name):
        message = f'Invalid value: "{name}": {what} must consist of lower case alphanumeric characters or \'-\' (regex used for validation is \'{pattern.pattern[1:-1]}\')'
        return [Invalid("FieldValueInvalid", "metadata.name", message)]
    return []


def label_errors(labels: Any) -> list[Invalid]:
    """Validate label keys and values as metav1 validation does."""
    errors: list[Invalid] = []
    if not isinstance(labels, dict):
        return errors
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        key_ok = 0 < len(name) <= 63 and QUALIFIED_NAME.match(name) and (not prefix or (len(prefix) <= 253 and DNS1123_SUBDOMAIN.match(prefix)))
        if not key_ok:
            errors.append(Invalid("FieldValueInvalid", "metadata.labels", f'Invalid value: "{key}": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\''))
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            errors.append(Invalid("FieldValueInvalid", "metadata.labels", f'Invalid value: "{value}": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character'))
    return errors


def annotation_errors(annotations: Any) -> list[Invalid]:
    """Annotations are limited to 256 KiB in total."""
    if isinstance(annotations, dict):
        size = sum(len(k) + len(str(v)) for k, v in annotations.items())
        if size > 256 * 1024:
            return [Invalid("FieldValueTooLong", "metadata.annotations", "Too long: must have at most 262144 bytes")]
    return []


# --------------------------------------------------------------------------
# Defaulting and immutable fields of the common types
# --------------------------------------------------------------------------


def default_pod_template(template: Any, restart_policy: Optional[str] = "Always") -> None:
    """Pod template defaults the real API server fills in."""
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        return
    spec = template["spec"]
    if restart_policy:
        spec.setdefault("restartPolicy", restart_policy)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)
    for list_name in ("initContainers", "containers"):
        for container in spec.get(list_name) or []:
            if not isinstance(container, dict):
                continue
            image = str(container.get("image", ""))
            latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def apply_defaults(rt: ResourceType, obj: dict[str, Any], cluster_ips: Callable[[], str]) -> None:
    """Fill in the most visible defaults of the real API server."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
    if rt.kind == "Secret":
        obj.setdefault("type", "Opaque")
    elif rt.kind == "Service" and spec is not None:
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            if "clusterIP" not in spec:
                spec["clusterIP"] = cluster_ips()
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                if "port" in port:
                    port.setdefault("targetPort", port["port"])
    elif rt.kind == "Deployment" and spec is not None:
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        default_pod_template(spec.get("template"))
    elif rt.kind == "StatefulSet" and spec is not None:
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
        default_pod_template(spec.get("template"))
    elif rt.kind == "DaemonSet" and spec is not None:
        spec.setdefault("revisionHistoryLimit", 10)
        default_pod_template(spec.get("template"))
    elif rt.kind == "Job" and spec is not None:
        default_pod_template(spec.get("template"), restart_policy=None)


STATEFULSET_UPDATABLE = {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}


def immutable_errors(rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> list[Invalid]:
    """Field errors for changes the real API server refuses on update."""
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    errors: list[Invalid] = []
    if rt.kind == "StatefulSet":
        frozen_old = {k: v for k, v in old_spec.items() if k not in STATEFULSET_UPDATABLE}
        frozen_new = {k: v for k, v in new_spec.items() if k not in STATEFULSET_UPDATABLE}
        if frozen_old != frozen_new:
            message = ("Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                       "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
            errors.append(Invalid("FieldValueForbidden", "spec", message))
    if rt.kind in ("Deployment", "DaemonSet", "Job") and old_spec.get("selector") != new_spec.get("selector"):
        errors.append(Invalid("FieldValueInvalid", "spec.selector", f"Invalid value: {canonical(new_spec.get('selector'))}: field is immutable"))
    if rt.kind == "Job" and old_spec.get("template") != new_spec.get("template"):
        errors.append(Invalid("FieldValueInvalid", "spec.template", "Invalid value: ...: field is immutable"))
    if rt.kind == "Service" and old_spec.get("clusterIP") and old_spec.get("clusterIP") != new_spec.get("clusterIP"):
        errors.append(Invalid("FieldValueInvalid", "spec.clusterIPs[0]", f"Invalid value: {canonical(new_spec.get('clusterIPs'))}: may not change once set"))
    if rt.kind == "Secret" and old.get("type") != new.get("type"):
        errors.append(Invalid("FieldValueInvalid", "type", f'Invalid value: "{new.get("type")}": field is immutable'))
    if rt.kind in ("Secret", "ConfigMap") and old.get("immutable") is True:
        for key in ("data", "binaryData", "immutable"):
            if old.get(key) != new.get(key):
                errors.append(Invalid("FieldValueForbidden", key, "Forbidden: field is immutable when `immutable` is set"))
    return errors


def fold_string_data(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Secrets: ``stringData`` is write-only and lands base64-encoded in ``data``."""
    if rt.kind != "Secret" or not isinstance(obj.get("stringData"), dict):
        return
    data = obj.setdefault("data", {})
    for key, value in obj.pop("stringData").items():
        data[key] = base64.b64encode(str(value).encode()).decode()


# --------------------------------------------------------------------------
# Label and field selectors
# --------------------------------------------------------------------------

SELECTOR_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
SELECTOR_VALUE = r"[A-Za-z0-9._-]*"
RE_SET = re.compile(rf"^\s*({SELECTOR_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
RE_EQUALITY = re.compile(rf"^\s*({SELECTOR_KEY})\s*(==|=|!=)\s*({SELECTOR_VALUE})\s*$")
RE_EXISTS = re.compile(rf"^\s*(!?)\s*({SELECTOR_KEY})\s*$")

Requirement = Callable[[dict[str, str]], bool]


def split_selector(text: str) -> list[str]:
    """Split at commas that are not inside ``( )``."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def parse_requirement(text: str) -> Requirement:
    """One label selector requirement as a predicate over a label map."""
    if m := RE_SET.match(text):
        key, op = m.group(1), m.group(3)
        values = {v.strip() for v in m.group(4).split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := RE_EQUALITY.match(text):
        key, op, value = m.group(1), m.group(3), m.group(4)
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: key in labels and labels[key] == value
    if m := RE_EXISTS.match(text):
        negate, key = m.group(1) == "!", m.group(2)
        return (lambda labels: key not in labels) if negate else (lambda labels: key in labels)
    raise bad_request(f'unable to parse requirement: found \'{text.strip()}\', expected: !, identifier, or \'end of string\'')


def parse_label_selector(text: str) -> Callable[[dict[str, Any]], bool]:
    """A ``labelSelector`` query value as a predicate over objects."""
    requirements = [parse_requirement(part) for part in split_selector(text)]

    def matches(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def parse_field_selector(text: str) -> Callable[[dict[str, Any]], bool]:
    """A ``fieldSelector`` on ``metadata.name`` / ``metadata.namespace``."""
    requirements = []
    for part in split_selector(text):
        m = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        path, op, value = m.groups()
        if path not in ("metadata.name", "metadata.namespace"):
            raise bad_request(f'field label not supported: {path}')
        requirements.append((path.split(".")[1], op == "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        metadata = obj.get("metadata", {})
        return all((metadata.get(key, "") == value) != negate for key, negate, value in requirements)

    return matches


# --------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer: {path}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk_pointer(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc[part]
        else:
            raise KeyError(part)
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in operations:
        try:
            doc = _json_patch_op(doc, op)
        except (KeyError, IndexError, ValueError, TypeError) as err:
            raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {op!r}: {err}") from err
    return doc


def _json_patch_op(doc: Any, op: dict[str, Any]) -> Any:
    kind, parts = op["op"], _pointer(op["path"])
    if kind == "test":
        if _walk_pointer(doc, parts) != op["value"]:
            raise ValueError("testing value failed")
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_walk_pointer(doc, _pointer(op["from"])))
        if kind == "move":
            doc = _json_patch_op(doc, {"op": "remove", "path": op["from"]})
        return _json_patch_op(doc, {"op": "add", "path": op["path"], "value": value})
    if not parts:
        return copy.deepcopy(op["value"]) if kind != "remove" else None
    parent, last = _walk_pointer(doc, parts[:-1]), parts[-1]
    if kind == "remove":
        del parent[int(last) if isinstance(parent, list) else last]
    elif kind == "replace":
        _walk_pointer(doc, parts)
        parent[int(last) if isinstance(parent, list) else last] = copy.deepcopy(op["value"])
    elif kind == "add":
        if isinstance(parent, list):
            parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(op["value"]))
        else:
            parent[last] = copy.deepcopy(op["value"])
    else:
        raise ValueError(f"unknown op {kind}")
    return doc


# --------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------


@dataclass
class ManagerEntry:
    """One ``managedFields`` entry."""

    manager: str
    operation: str
    api_version: str
    time: str
    fields: set[Path]

    def identity(self) -> str:
        """How conflict messages name the manager."""
        if self.operation == "Update":
            return f'"{self.manager}" using {self.api_version}'
        return f'"{self.manager}"'

    def render(self) -> dict[str, Any]:
        """The entry as it appears in ``metadata.managedFields``."""
        return {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode_fields(self.fields),
        }


Managers = dict[tuple[str, str], ManagerEntry]


@dataclass
class Stored:
    """An object as kept in memory: the object without managedFields, plus its managers."""

    rt: ResourceType
    obj: dict[str, Any]
    managers: Managers

    def render(self, with_type: bool = True) -> dict[str, Any]:
        """The object as the API answers it."""
        obj = copy.deepcopy(self.obj)
        if self.managers:
            entries = sorted(self.managers.values(), key=lambda e: (e.operation != "Apply", e.time, e.manager))
            obj["metadata"]["managedFields"] = [e.render() for e in entries]
        if not with_type:
            obj.pop("apiVersion", None)
            obj.pop("kind", None)
        return obj


ObjectKey = tuple[str, str, str]  # (qualified resource, namespace or "", name)


class WriteRequest:
    """What an incoming write asks for, besides the body."""

    def __init__(self, manager: str, dry_run: bool, force: bool = False) -> None:
        self.manager = manager
        self.dry_run = dry_run
        self.force = force


class Store:
    """All objects, a resourceVersion counter and the request statistics."""

    def __init__(self, defaults: bool = True, controllers: bool = True) -> None:
        self.lock = threading.RLock()
        self.defaults = defaults
        self.controllers = controllers
        self.stats: dict[str, int] = {}
        self.reset()

    # -- state ------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object and seed the namespaces a fresh cluster has."""
        with self.lock:
            self.objects: dict[ObjectKey, Stored] = {}
            self.revision = 1
            self.next_ip = 1
            for name in START_NAMESPACES:
                self._create_system(NAMESPACES, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, "kube-apiserver")

    def _next_revision(self) -> str:
        self.revision += 1
        return str(self.revision)

    def _allocate_ip(self) -> str:
        self.next_ip += 1
        return f"10.96.{self.next_ip // 250}.{self.next_ip % 250 + 1}"

    @staticmethod
    def key(rt: ResourceType, namespace: str, name: str) -> ObjectKey:
        """The storage key of an object."""
        return (rt.qualified, namespace if rt.namespaced else "", name)

    def count(self, label: str) -> None:
        """Count one request for ``/standin/stats``."""
        with self.lock:
            self.stats[label] = self.stats.get(label, 0) + 1

    # -- reads ------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str, name: str) -> Stored:
        """One object, or 404."""
        stored = self.objects.get(self.key(rt, namespace, name))
        if stored is None:
            raise not_found(rt, name)
        return stored

    def select(self, rt: Optional[ResourceType], namespace: Optional[str], predicates: Iterable[Callable[[dict], bool]] = ()) -> list[Stored]:
        """Objects of a type (every type with None), in a namespace or all, sorted by key."""
        tests = list(predicates)
        out = []
        for key in sorted(self.objects):
            stored = self.objects[key]
            if rt is not None and stored.rt != rt:
                continue
            if namespace is not None and key[1] != namespace:
                continue
            if all(test(stored.obj) for test in tests):
                out.append(stored)
        return out

    def require_namespace(self, rt: ResourceType, namespace: str) -> None:
        """Namespaced objects can only be created in an existing namespace."""
        if rt.namespaced and self.key(NAMESPACES, "", namespace) not in self.objects:
            raise not_found(NAMESPACES, namespace)

    # -- writes -----------------------------------------------------------

    def apply(self, rt: ResourceType, namespace: str, name: str, body: Any, request: WriteRequest) -> tuple[int, dict[str, Any]]:
        """Server-side apply; answers (HTTP status, object)."""
        config = self._check_apply_body(rt, namespace, name, body)
        schema = Schema(rt.kind, rt.custom)
        applied = user_content(config)
        applied_fields = collect_fields(schema, applied)
        key = self.key(rt, namespace, name)
        existing = self.objects.get(key)
        if existing is None:
            self.require_namespace(rt, namespace)
            managers = {(request.manager, "Apply"): ManagerEntry(request.manager, "Apply", config["apiVersion"], now_rfc3339(), applied_fields)}
            return 201, self._store_new(rt, namespace, name, applied, managers, request.dry_run)
        self.check_precondition(rt, existing, config.get("metadata", {}).get("resourceVersion"))
        live = user_content(existing.obj)
        merged = merge(schema, live, applied)
        managers = self._apply_ownership(rt, schema, existing, live, merged, applied_fields, config["apiVersion"], request)
        return 200, self._store_update(existing, merged, managers, request.dry_run)

    def _check_apply_body(self, rt: ResourceType, namespace: str, name: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request("the body of an apply patch must be a JSON object")
        body = drop_nulls(body)
        if body.get("apiVersion") != rt.group_version or body.get("kind") != rt.kind:
            raise bad_request(f'the apply patch for {rt.qualified} must have apiVersion "{rt.group_version}" and kind "{rt.kind}" '
                              f'(got apiVersion "{body.get("apiVersion", "")}", kind "{body.get("kind", "")}")')
        metadata = body.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise bad_request("metadata must be an object")
        if metadata.setdefault("name", name) != name:
            raise bad_request(f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})")
        if rt.namespaced and metadata.setdefault("namespace", namespace) != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if metadata.get("managedFields"):
            raise bad_request("metadata.managedFields must be nil")
        return body

    def check_precondition(self, rt: ResourceType, existing: Stored, resource_version: Any) -> None:
        if resource_version and resource_version != existing.obj["metadata"]["resourceVersion"]:
            raise stale_conflict(rt, existing.obj["metadata"]["name"])

    def _apply_ownership(self, rt: ResourceType, schema: Schema, existing: Stored, live: dict, merged: dict,
                         applied_fields: set[Path], api_version: str, request: WriteRequest) -> Managers:
        """Conflict check, forced takeover and removal of fields no longer applied."""
        me = (request.manager, "Apply")
        changed = compare(schema, live, merged).changed()
        managers = {k: ManagerEntry(e.manager, e.operation, e.api_version, e.time, set(e.fields)) for k, e in existing.managers.items()}
        conflicts = [(entry, path) for k, entry in sorted(managers.items()) if k != me for path in sorted(entry.fields & changed, key=path_text)]
        if conflicts and not request.force:
            raise apply_conflict(conflicts)
        for entry, path in conflicts:
            entry.fields.discard(path)
        previous = managers[me].fields if me in managers else set()
        others: set[Path] = set().union(*(e.fields for k, e in managers.items() if k != me))
        for path in sorted(previous - applied_fields, key=len, reverse=True):
            if not covers(others, path) and not covers(applied_fields, path):
                remove_path(schema, merged, path)
        old_time = managers[me].time if me in managers else now_rfc3339()
        managers[me] = ManagerEntry(request.manager, "Apply", api_version, old_time, applied_fields)
        return {k: e for k, e in managers.items() if e.fields}

    def update(self, rt: ResourceType, namespace: str, name: str, new_content: dict[str, Any], request: WriteRequest,
               api_version: str, create: bool = False) -> tuple[int, dict[str, Any]]:
        """A non-apply write (POST, PUT, merge or JSON patch) by an Update manager."""
        schema = Schema(rt.kind, rt.custom)
        content = user_content(drop_nulls(new_content))
        me = (request.manager, "Update")
        if create:
            if self.key(rt, namespace, name) in self.objects:
                raise already_exists(rt, name)
            self.require_namespace(rt, namespace)
            fields = collect_fields(schema, content, with_maps=True)
            managers = {me: ManagerEntry(request.manager, "Update", api_version, now_rfc3339(), fields)} if fields else {}
            return 201, self._store_new(rt, namespace, name, content, managers, request.dry_run)
        existing = self.get(rt, namespace, name)
        live = user_content(existing.obj)
        diff = compare(schema, live, content)
        managers = {k: ManagerEntry(e.manager, e.operation, e.api_version, e.time, set(e.fields)) for k, e in existing.managers.items()}
        for k, entry in managers.items():
            if k != me:
                entry.fields -= diff.changed()
        mine = managers.get(me) or ManagerEntry(request.manager, "Update", api_version, now_rfc3339(), set())
        mine.fields = (mine.fields | diff.added | diff.modified) - diff.removed
        managers[me] = mine
        return 200, self._store_update(existing, content, {k: e for k, e in managers.items() if e.fields}, request.dry_run)

    def _finish(self, rt: ResourceType, obj: dict[str, Any]) -> None:
        """Conversions, defaults and validation every write goes through."""
        fold_string_data(rt, obj)
        if self.defaults:
            apply_defaults(rt, obj, self._allocate_ip)
        metadata = obj.get("metadata", {})
        errors = name_errors(rt, metadata.get("name", "")) + label_errors(metadata.get("labels")) + annotation_errors(metadata.get("annotations"))
        if errors:
            raise invalid(rt.kind, rt.group, metadata.get("name", ""), errors)

    def _store_new(self, rt: ResourceType, namespace: str, name: str, content: dict[str, Any], managers: Managers, dry_run: bool) -> dict[str, Any]:
        obj = {"apiVersion": rt.group_version, "kind": rt.kind, **copy.deepcopy(content)}
        metadata = obj.setdefault("metadata", {})
        metadata["name"] = name
        if rt.namespaced:
            metadata["namespace"] = namespace
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = now_rfc3339()
        if rt.generation:
            metadata["generation"] = 1
        if rt.kind == "Namespace":
            if self.defaults:
                metadata.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
                obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
        self._finish(rt, obj)
        metadata["resourceVersion"] = str(self.revision + 1)
        stored = Stored(rt, _ordered(obj), managers)
        if not dry_run:
            self._next_revision()
            self.objects[self.key(rt, namespace, name)] = stored
            if rt.kind == "Namespace" and self.controllers:
                self._seed_namespace(name)
        return stored.render()

    def _store_update(self, existing: Stored, content: dict[str, Any], managers: Managers, dry_run: bool) -> dict[str, Any]:
        rt, old = existing.rt, existing.obj
        obj = {"apiVersion": rt.group_version, "kind": rt.kind, **copy.deepcopy(content)}
        system = {k: v for k, v in old["metadata"].items() if k in SYSTEM_METADATA and k != "managedFields"}
        obj["metadata"] = {**system, **obj.get("metadata", {})}
        if "status" in old:
            obj["status"] = copy.deepcopy(old["status"])
        _keep_allocated(rt, old, obj)
        self._finish(rt, obj)
        errors = immutable_errors(rt, old, obj)
        if errors:
            raise invalid(rt.kind, rt.group, old["metadata"]["name"], errors)
        unchanged = user_content(obj) == user_content(old) and _same_ownership(existing.managers, managers)
        if unchanged:
            return existing.render()
        stamp = now_rfc3339()
        for key, entry in managers.items():
            before = existing.managers.get(key)
            if before is None or before.fields != entry.fields or before.api_version != entry.api_version:
                entry.time = stamp
        if rt.generation and outside_metadata(obj) != outside_metadata(old):
            obj["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        obj["metadata"]["resourceVersion"] = str(self.revision + 1)
        stored = Stored(rt, _ordered(obj), managers)
        if not dry_run:
            self._next_revision()
            self.objects[self.key(rt, old["metadata"].get("namespace", ""), old["metadata"]["name"])] = stored
        return stored.render()

    def delete(self, rt: ResourceType, namespace: str, name: str, dry_run: bool, preconditions: dict[str, Any]) -> dict[str, Any]:
        """Delete one object (and a namespace's content); answers the deleted object."""
        stored = self.get(rt, namespace, name)
        metadata = stored.obj["metadata"]
        if rt.kind == "Namespace" and name in UNDELETABLE_NAMESPACES:
            raise ApiError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted', _details(rt, name))
        if preconditions.get("uid") and preconditions["uid"] != metadata["uid"]:
            raise ApiError(409, "Conflict", f"Precondition failed: UID in precondition: {preconditions['uid']}, UID in object meta: {metadata['uid']}", _details(rt, name))
        if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != metadata["resourceVersion"]:
            raise ApiError(409, "Conflict", f"Precondition failed: ResourceVersion in precondition: {preconditions['resourceVersion']}, ResourceVersion in object meta: {metadata['resourceVersion']}", _details(rt, name))
        rendered = stored.render()
        if dry_run:
            return rendered
        del self.objects[self.key(rt, namespace, name)]
        if rt.kind == "Namespace":
            for key in [k for k in self.objects if k[1] == name]:
                del self.objects[key]
            rendered["metadata"]["deletionTimestamp"] = now_rfc3339()
            rendered["status"] = {"phase": "Terminating"}
        rendered["metadata"]["resourceVersion"] = self._next_revision()
        return rendered

    # -- what controllers would do ----------------------------------------

    def _create_system(self, rt: ResourceType, namespace: str, obj: dict[str, Any], manager: str) -> None:
        schema = Schema(rt.kind, rt.custom)
        content = user_content(obj)
        fields = collect_fields(schema, content, with_maps=True)
        managers = {(manager, "Update"): ManagerEntry(manager, "Update", rt.group_version, now_rfc3339(), fields)} if fields else {}
        self._store_new(rt, namespace, obj["metadata"]["name"], content, managers, dry_run=False)

    def _seed_namespace(self, namespace: str) -> None:
        """What the controllers add to every new namespace."""
        service_accounts = find_resource("", "v1", "serviceaccounts")
        config_maps = find_resource("", "v1", "configmaps")
        assert service_accounts and config_maps
        self._create_system(service_accounts, namespace, {"metadata": {"name": "default"}}, CONTROLLER_MANAGER)
        ca = "-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n"
        self._create_system(config_maps, namespace, {"metadata": {"name": "kube-root-ca.crt", "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}}, "data": {"ca.crt": ca}}, CONTROLLER_MANAGER)


def _keep_allocated(rt: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
    """A Service update that leaves clusterIP out keeps the allocated one, as the real one does."""
    old_spec, new_spec = old.get("spec"), new.get("spec")
    if rt.kind != "Service" or not isinstance(old_spec, dict) or not isinstance(new_spec, dict):
        return
    for key in ("clusterIP", "clusterIPs"):
        if key in old_spec and key not in new_spec:
            new_spec[key] = copy.deepcopy(old_spec[key])


def _same_ownership(before: Managers, after: Managers) -> bool:
    if before.keys() != after.keys():
        return False
    return all(before[k].fields == after[k].fields and before[k].api_version == after[k].api_version for k in before)


def _ordered(obj: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata, then the rest, then status (as the server prints)."""
    head = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
    if isinstance(head.get("metadata"), dict):
        metadata = head["metadata"]
        first = {k: metadata[k] for k in SYSTEM_METADATA if k in metadata}
        head["metadata"] = {**first, **{k: v for k, v in metadata.items() if k not in first}}
    rest = {k: v for k, v in obj.items() if k not in head and k != "status"}
    tail = {"status": obj["status"]} if "status" in obj else {}
    return {**head, **rest, **tail}


def apply_conflict(conflicts: list[tuple[ManagerEntry, Path]]) -> ApiError:
    """The 409 a real server answers when an apply would change another manager's fields."""
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {entry.identity()}", "field": path_text(path)} for entry, path in conflicts]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.identity()}: {path_text(path)}"
    else:
        lines: list[str] = []
        by_manager: dict[str, list[Path]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(entry.identity(), []).append(path)
        for identity in sorted(by_manager):
            lines.append(f"conflicts with {identity}:")
            lines.extend(f"- {path_text(path)}" for path in by_manager[identity])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


# --------------------------------------------------------------------------
# Discovery documents
# --------------------------------------------------------------------------


def groups() -> dict[str, list[str]]:
    """Served API groups and their versions, in first-seen order (core excluded)."""
    out: dict[str, list[str]] = {}
    for rt in RESOURCES:
        if rt.group and rt.version not in out.setdefault(rt.group, []):
            out[rt.group].append(rt.version)
    return out


def api_group(name: str, versions: list[str]) -> dict[str, Any]:
    """An APIGroup document."""
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def resource_list(group: str, version: str) -> Optional[dict[str, Any]]:
    """The APIResourceList of one group version, or None when not served."""
    resources = [rt.discovery_entry() for rt in RESOURCES if rt.group == group and rt.version == version]
    if not resources:
        return None
    body: dict[str, Any] = {"kind": "APIResourceList", "groupVersion": f"{group}/{version}" if group else version, "resources": resources}
    if group:
        body["apiVersion"] = "v1"
    return body


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


@dataclass
class Route:
    """Where a request under /api or /apis points."""

    rt: ResourceType
    namespace: Optional[str]  # None: all namespaces (or cluster-scoped)
    name: Optional[str]  # None: the collection


SERVER_NOT_FOUND = ApiError(404, "NotFound", "the server could not find the requested resource", {})


def route(parts: list[str]) -> Route:
    """Resolve ``/api/v1/...`` or ``/apis/G/V/...`` path segments to a resource route."""
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise SERVER_NOT_FOUND
    if len(rest) in (3, 4) and rest[0] == "namespaces":
        rt = find_resource(group, version, rest[2])
        if rt is not None and rt.namespaced:
            return Route(rt, rest[1], rest[3] if len(rest) == 4 else None)
    if len(rest) in (1, 2):
        rt = find_resource(group, version, rest[0])
        if rt is not None and (len(rest) == 1 or not rt.namespaced):
            return Route(rt, None, rest[1] if len(rest) == 2 else None)
    raise SERVER_NOT_FOUND


class Handler(BaseHTTPRequestHandler):
    """Routes requests to the store; every answer is JSON."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "berth-kube-standin/1"
    server: "StandinServer"

    # -- plumbing ---------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            sys.stderr.write(f"kube-standin: {self.address_string()} {format % args}\n")

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, raw: bytes, what: str = "request") -> Any:
        try:
            return json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError) as err:
            hint = " (this stand-in accepts apply bodies in JSON only, not YAML)" if what == "apply" else ""
            raise bad_request(f"error decoding {what} body: {err}{hint}") from err

    def _dispatch(self) -> None:
        try:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            body = self._read_body()
            parts = [p for p in url.path.split("/") if p]
            if parts[:1] == ["standin"] or parts[:1] in (["healthz"], ["readyz"], ["livez"]):
                return self._send(*self._helper(parts, query))
            self._authorize()
            with self.server.store.lock:
                code, answer = self._api(parts, query, body)
            self._send(code, answer)
        except ApiError as err:
            self._send(err.code, err.status())
        except Exception as err:  # pragma: no cover - a bug in the stand-in
            traceback.print_exc()
            self._send(500, ApiError(500, "InternalError", f"stand-in internal error: {err}").status())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def _authorize(self) -> None:
        token = self.server.token
        if token and self.headers.get("Authorization", "") != f"Bearer {token}":
            raise ApiError(401, "Unauthorized", "Unauthorized")

    # -- test helpers -----------------------------------------------------

    def _helper(self, parts: list[str], query: dict[str, str]) -> tuple[int, Any]:
        store = self.server.store
        if parts[0] in ("healthz", "readyz", "livez"):
            return 200, "ok"
        if parts == ["standin", "objects"] and self.command == "GET":
            rt = None
            if query.get("resource"):
                rt = resource_by_qualified(query["resource"])
                if rt is None:
                    raise bad_request(f"unknown resource {query['resource']}")
            with store.lock:
                items = [s.render() for s in store.select(rt, query.get("namespace"))]
            return 200, {"kind": "StandinObjectList", "count": len(items), "items": items}
        if parts == ["standin", "stats"] and self.command == "GET":
            with store.lock:
                return 200, {"kind": "StandinStats", "requests": dict(sorted(store.stats.items()))}
        if parts == ["standin", "reset"] and self.command == "POST":
            store.reset()
            with store.lock:
                store.stats.clear()
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "message": "reset"}
        raise SERVER_NOT_FOUND

    # -- the Kubernetes API -----------------------------------------------

    def _api(self, parts: list[str], query: dict[str, str], body: bytes) -> tuple[int, Any]:
        watch_segment = 2 if parts[:1] == ["api"] else 3
        if query.get("watch", "false").lower() not in ("", "false", "0") or parts[watch_segment:watch_segment + 1] == ["watch"]:
            raise bad_request("watch is not supported by the berth Kubernetes stand-in")
        discovery = self._discovery(parts)
        if discovery is not None:
            if self.command not in ("GET", "HEAD"):
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
            return 200, discovery
        target = route(parts)
        verb = self._verb(target)
        self.server.store.count(f"{verb} {target.rt.qualified}")
        if verb not in target.rt.verbs:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", _details(target.rt, target.name or ""))
        handler = getattr(self, f"_verb_{verb}")
        return handler(target, query, body)

    def _verb(self, target: Route) -> str:
        collection = target.name is None
        verbs = {
            "GET": "list" if collection else "get",
            "HEAD": "list" if collection else "get",
            "POST": "create" if collection else None,
            "PUT": None if collection else "update",
            "PATCH": None if collection else "patch",
            "DELETE": "deletecollection" if collection else "delete",
        }
        verb = verbs.get(self.command)
        if verb is None or (verb == "create" and target.rt.namespaced and target.namespace is None):
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
        return verb

    def _discovery(self, parts: list[str]) -> Optional[dict[str, Any]]:
        if parts == ["version"]:
            return SERVER_VERSION
        if parts == ["api"]:
            address = f"127.0.0.1:{self.server.server_address[1]}"
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]}
        if parts == ["apis"]:
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [api_group(g, v) for g, v in groups().items()]}
        if len(parts) == 2 and parts[0] == "apis":
            versions = groups().get(parts[1])
            if versions is None:
                raise SERVER_NOT_FOUND
            return {"kind": "APIGroup", "apiVersion": "v1", **api_group(parts[1], versions)}
        if parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"):
            listing = resource_list(parts[1] if parts[0] == "apis" else "", parts[-1])
            if listing is None:
                raise SERVER_NOT_FOUND
            return listing
        return None

    def _write_request(self, query: dict[str, str]) -> WriteRequest:
        manager = query.get("fieldManager") or self.headers.get("User-Agent", "unknown").split("/")[0].split(" ")[0] or "unknown"
        if len(manager) > 128:
            raise invalid("PatchOptions", "meta.k8s.io", "", [Invalid("FieldValueTooLong", "fieldManager", "Too long: may not be longer than 128 characters")])
        dry_run = query.get("dryRun", "")
        if dry_run not in ("", "All"):
            raise bad_request(f'unsupported dryRun value "{dry_run}", only "All" is allowed')
        return WriteRequest(manager, dry_run == "All", query.get("force", "").lower() in ("true", "1"))

    def _verb_get(self, target: Route, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        return 200, self.server.store.get(target.rt, target.namespace or "", target.name or "").render()

    def _verb_list(self, target: Route, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        rt, store = target.rt, self.server.store
        items = store.select(rt, target.namespace, self._selectors(query))
        start = _decode_continue(query.get("continue", ""))
        items = [s for s in items if start is None or Store.key(rt, s.obj["metadata"].get("namespace", ""), s.obj["metadata"]["name"]) > start]
        metadata: dict[str, Any] = {"resourceVersion": str(store.revision)}
        limit = int(query.get("limit") or 0)
        if limit and len(items) > limit:
            last = items[limit - 1].obj["metadata"]
            metadata["continue"] = _encode_continue(Store.key(rt, last.get("namespace", ""), last["name"]))
            metadata["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        rendered = [s.render(with_type=rt.custom) for s in items]
        return 200, {"kind": f"{rt.kind}List", "apiVersion": rt.group_version, "metadata": metadata, "items": rendered}

    def _selectors(self, query: dict[str, str]) -> list[Callable[[dict], bool]]:
        out = []
        if query.get("labelSelector"):
            out.append(parse_label_selector(query["labelSelector"]))
        if query.get("fieldSelector"):
            out.append(parse_field_selector(query["fieldSelector"]))
        return out

    def _verb_create(self, target: Route, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        rt = target.rt
        obj = self._typed_body(rt, body)
        metadata = obj.setdefault("metadata", {})
        namespace = target.namespace or ""
        if rt.namespaced and metadata.setdefault("namespace", namespace) != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
        if not metadata.get("name"):
            raise invalid(rt.kind, rt.group, "", name_errors(rt, ""))
        return self.server.store.update(rt, namespace, metadata["name"], obj, self._write_request(query), obj["apiVersion"], create=True)

    def _verb_update(self, target: Route, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        rt, store = target.rt, self.server.store
        obj = self._typed_body(rt, body)
        metadata = obj.setdefault("metadata", {})
        name = target.name or ""
        if metadata.setdefault("name", name) != name:
            raise bad_request(f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})")
        existing = store.get(rt, target.namespace or "", name)
        store.check_precondition(rt, existing, metadata.get("resourceVersion"))
        return store.update(rt, target.namespace or "", name, obj, self._write_request(query), obj["apiVersion"])

    def _verb_patch(self, target: Route, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        rt, store = target.rt, self.server.store
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
        namespace, name = target.namespace or "", target.name or ""
        request = self._write_request(query)
        if content_type == APPLY_CONTENT_TYPE:
            if not query.get("fieldManager"):
                raise invalid("PatchOptions", "meta.k8s.io", "", [Invalid("FieldValueRequired", "fieldManager", "Required value: is required for apply patch")])
            return store.apply(rt, namespace, name, self._json_body(body, "apply"), request)
        if request.force:
            raise invalid("PatchOptions", "meta.k8s.io", "", [Invalid("FieldValueForbidden", "force", "Forbidden: may not be specified for non-apply patch")])
        if content_type not in (MERGE_PATCH_CONTENT_TYPE, JSON_PATCH_CONTENT_TYPE):
            raise ApiError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: '
                           f'{JSON_PATCH_CONTENT_TYPE}, {MERGE_PATCH_CONTENT_TYPE}, {APPLY_CONTENT_TYPE} (the stand-in has no strategic merge patch)')
        patch = self._json_body(body, "patch")
        existing = store.get(rt, namespace, name).render()
        patched = merge_patch(existing, patch) if content_type == MERGE_PATCH_CONTENT_TYPE else json_patch(existing, patch)
        if not isinstance(patched, dict):
            raise bad_request("the patch did not produce an object")
        patched_meta = patched.get("metadata") or {}
        if patched_meta.get("name") != name or (rt.namespaced and patched_meta.get("namespace") != namespace):
            raise bad_request("a patch may not change the name or namespace of an object")
        patch_meta = patch.get("metadata") if isinstance(patch, dict) else None
        if isinstance(patch_meta, dict) and patch_meta.get("resourceVersion"):
            store.check_precondition(rt, store.get(rt, namespace, name), patch_meta["resourceVersion"])
        return store.update(rt, namespace, name, patched, request, rt.group_version)

    def _verb_delete(self, target: Route, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        rt = target.rt
        options = self._json_body(body, "delete options") if body.strip() else {}
        options = options if isinstance(options, dict) else {}
        dry_run = query.get("dryRun") == "All" or options.get("dryRun") == ["All"]
        deleted = self.server.store.delete(rt, target.namespace or "", target.name or "", dry_run, options.get("preconditions") or {})
        if rt.custom or rt.kind == "Namespace":
            return 200, deleted
        details = {**_details(rt, target.name or ""), "uid": deleted["metadata"]["uid"]}
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def _verb_deletecollection(self, target: Route, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        rt, store = target.rt, self.server.store
        dry_run = query.get("dryRun") == "All"
        items = []
        for stored in store.select(rt, target.namespace, self._selectors(query)):
            metadata = stored.obj["metadata"]
            items.append(store.delete(rt, metadata.get("namespace", ""), metadata["name"], dry_run, {}))
        for item in items if not rt.custom else []:
            item.pop("apiVersion", None)
            item.pop("kind", None)
        return 200, {"kind": f"{rt.kind}List", "apiVersion": rt.group_version, "metadata": {"resourceVersion": str(store.revision)}, "items": items}

    def _typed_body(self, rt: ResourceType, raw: bytes) -> dict[str, Any]:
        obj = self._json_body(raw)
        if not isinstance(obj, dict):
            raise bad_request("the request body must be a JSON object")
        obj.setdefault("apiVersion", rt.group_version)
        obj.setdefault("kind", rt.kind)
        if obj["apiVersion"] != rt.group_version or obj["kind"] != rt.kind:
            raise bad_request(f'the API version in the data ({obj["apiVersion"]}) does not match the expected API version ({rt.group_version}) '
                              f'or the kind ({obj["kind"]}) is not {rt.kind}')
        if not isinstance(obj.get("metadata", {}), dict):
            raise bad_request("metadata must be an object")
        obj.get("metadata", {}).pop("managedFields", None)
        return obj


def _encode_continue(key: ObjectKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> Optional[ObjectKey]:
    if not token:
        return None
    try:
        resource, namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (resource, namespace, name)
    except (ValueError, TypeError) as err:
        raise ApiError(400, "BadRequest", f"continue key is not valid: {err}") from err


class StandinServer(ThreadingHTTPServer):
    """The HTTP server with the store and settings its handlers read."""

    daemon_threads = True
    request_queue_size = 256  # berth applies many objects in parallel

    def __init__(self, port: int, store: Store, token: Optional[str] = None, verbose: bool = False) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.store = store
        self.token = token
        self.verbose = verbose


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def write_atomically(path: str, text: str) -> None:
    """Write a file so that readers never see it half written."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def kubeconfig_text(port: int, contexts: list[str], token: Optional[str]) -> str:
    """A kubeconfig with one cluster, user and context per name, all on this server."""
    server = f"http://127.0.0.1:{port}"
    lines = ["apiVersion: v1", "kind: Config", "preferences: {}", "clusters:"]
    for name in contexts:
        lines += [f"- name: {json.dumps(name)}", "  cluster:", f"    server: {json.dumps(server)}"]
    lines.append("users:")
    for name in contexts:
        lines += [f"- name: {json.dumps(name)}", "  user:" + (f"\n    token: {json.dumps(token)}" if token else " {}")]
    lines.append("contexts:")
    for name in contexts:
        lines += [f"- name: {json.dumps(name)}", "  context:", f"    cluster: {json.dumps(name)}", f"    user: {json.dumps(name)}"]
    lines.append(f"current-context: {json.dumps(contexts[0])}")
    return "\n".join(lines) + "\n"


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Kubernetes API stand-in for berth's tests (not a real API server).")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--port-file", help="write the chosen port to this file")
    parser.add_argument("--token", help="require 'Authorization: Bearer TOKEN' on API requests")
    parser.add_argument("--kubeconfig", help="write a kubeconfig pointing at this server to this file")
    parser.add_argument("--context", action="append", default=[], help="context (and cluster, user) name in the kubeconfig; repeatable")
    parser.add_argument("--dump", help="write every stored object to this file (JSON) at shutdown")
    parser.add_argument("--no-defaults", action="store_true", help="do not fill in default field values")
    parser.add_argument("--no-controllers", action="store_true", help="do not add the default ServiceAccount and kube-root-ca.crt to namespaces")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    """Run the stand-in until SIGTERM or SIGINT."""
    args = parse_args(argv)
    store = Store(defaults=not args.no_defaults, controllers=not args.no_controllers)
    server = StandinServer(args.port, store, token=args.token, verbose=args.verbose)
    port = server.server_address[1]
    if args.kubeconfig:
        write_atomically(args.kubeconfig, kubeconfig_text(port, args.context or ["standin"], args.token))
    if args.port_file:
        write_atomically(args.port_file, f"{port}\n")

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.verbose:
        sys.stderr.write(f"kube-standin: serving http://127.0.0.1:{port}\n")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.dump:
            with store.lock:
                items = [s.render() for s in store.select(None, None)]
            write_atomically(args.dump, json.dumps({"kind": "StandinObjectList", "count": len(items), "items": items}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
