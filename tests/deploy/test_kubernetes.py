"""manifests/kubernetes: every object valid against the Kubernetes OpenAPI schemas, and
the deployment does what the operator guide says.

Built-in kinds are checked with the pinned ``kubernetes-validate`` package, which ships
the JSON schemas of Kubernetes 1.25-1.37 (strict: unknown fields are errors). KEDA's
custom resources are checked against schemas in ``tests/deploy/schemas/`` written from
KEDA's CRD. No network.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from deploy_support import K8S_DIR, kubernetes_documents, load_schema, load_yaml_documents

from core.settings import Settings

METRICS_PORT = Settings.model_fields["worker_metrics_port"].default

# The oldest and newest Kubernetes minor versions the manifests are meant for.
K8S_VERSIONS = ("1.29", "1.37")
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject.schema.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda-triggerauthentication.schema.json",
}
DOCS = kubernetes_documents()


def _id(item: tuple[Path, dict[str, Any]]) -> str:
    path, doc = item
    return f"{path.name}:{doc['kind']}/{doc['metadata']['name']}"


def _by_kind(kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [d for _, d in DOCS if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(matches) == 1, (kind, name, len(matches))
    return matches[0]


def _validate(doc: dict[str, Any], version: str) -> None:
    key = (doc["apiVersion"], doc["kind"])
    if key in CRD_SCHEMAS:
        jsonschema.Draft202012Validator(load_schema(CRD_SCHEMAS[key])).validate(doc)
    else:
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("item", DOCS, ids=[_id(d) for d in DOCS])
def test_manifest_is_valid(item: tuple[Path, dict[str, Any]], version: str) -> None:
    _validate(item[1], version)


@pytest.mark.parametrize(
    ("kind", "name", "mutate"),
    [
        ("Deployment", "nexus-web", lambda d: d["spec"]["template"]["spec"].update(contaners=[])),
        ("Deployment", "nexus-worker", lambda d: d["spec"].update(replicas="two")),
        ("HorizontalPodAutoscaler", "nexus-web", lambda d: d["spec"].pop("scaleTargetRef")),
        ("NetworkPolicy", "nexus-worker", lambda d: d["spec"]["egress"][0].update(port=53)),
        ("ScaledObject", "nexus-worker", lambda d: d["spec"].update(minReplicaCount="1")),
        ("ScaledObject", "nexus-worker", lambda d: d["spec"]["triggers"][0].pop("metadata")),
        ("TriggerAuthentication", "nexus-redis", lambda d: d["spec"]["secretTargetRef"].clear()),
    ],
)
def test_validation_catches_broken_manifests(kind: str, name: str, mutate: Any) -> None:
    """The checks above can fail: typos, wrong types and missing fields are errors."""
    broken = copy.deepcopy(_by_kind(kind, name))
    mutate(broken)
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken, K8S_VERSIONS[-1])


def test_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    (kustomization,) = load_yaml_documents(K8S_DIR / "kustomization.yaml")
    listed = set(kustomization["resources"])
    files = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == files - {"secret.example.yaml"}
    assert all((K8S_DIR / name).is_file() for name in listed)


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_web_probes_resources_and_security() -> None:
    web = _by_kind("Deployment", "nexus-web")
    container = _container(web)
    assert container["args"] == ["serve"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "replicas" not in web["spec"]  # the HPA owns it
    hpa = _by_kind("HorizontalPodAutoscaler", "nexus-web")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "nexus-web"
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = _by_kind("PodDisruptionBudget", "nexus-web")
    assert pdb["spec"]["selector"]["matchLabels"] == web["spec"]["selector"]["matchLabels"]
    service = _by_kind("Service", "nexus-web")
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("name", ["nexus-web", "nexus-worker"])
def test_pods_run_hardened_with_config_and_secret(name: str) -> None:
    deployment = _by_kind("Deployment", name)
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    sources = {next(iter(ref)): next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert sources == {"configMapRef": "nexus-config", "secretRef": "nexus-secrets"}
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/data", "/tmp"}


def test_workers_scale_on_the_queue_the_app_uses() -> None:
    worker = _by_kind("Deployment", "nexus-worker")
    assert _container(worker)["args"] == ["worker"]
    assert "replicas" not in worker["spec"]  # KEDA owns it
    scaled = _by_kind("ScaledObject", "nexus-worker")
    assert scaled["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "nexus-worker",
    }
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    config = _by_kind("ConfigMap", "nexus-config")["data"]
    assert trigger["metadata"]["listName"] == config["NEXUS_QUEUE_NAME"]
    assert config["NEXUS_QUEUE_NAME"] == Settings.model_fields["queue_name"].default
    auth = _by_kind("TriggerAuthentication", trigger["authenticationRef"]["name"])
    (ref,) = auth["spec"]["secretTargetRef"]
    assert ref["name"] == "nexus-secrets"
    secret = _by_kind("Secret", "nexus-secrets")
    assert ref["key"] in secret["stringData"]


def test_configmap_and_secret_use_real_setting_names() -> None:
    from deploy_support import env_names

    known = set(env_names(Settings)) | {"REDIS_PASSWORD"}  # REDIS_PASSWORD: for KEDA
    config = _by_kind("ConfigMap", "nexus-config")["data"]
    secret = _by_kind("Secret", "nexus-secrets")["stringData"]
    assert set(config) <= known, set(config) - known
    assert set(secret) <= known, set(secret) - known
    secret_fields = {
        name.upper()
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    }
    # secrets never sit in the ConfigMap
    assert not secret_fields & set(config)
    assert {"REDIS_URL", "DATABASE_URL"} <= set(secret)


def test_worker_egress_is_dns_state_and_public_https_only() -> None:
    policy = _by_kind("NetworkPolicy", "nexus-worker")
    (scrape,) = policy["spec"]["ingress"]  # Prometheus, on the metrics port only
    assert [p["port"] for p in scrape["ports"]] == [METRICS_PORT]
    worker = _by_kind("Deployment", "nexus-worker")
    (port,) = _container(worker)["ports"]
    assert (port["name"], port["containerPort"]) == ("metrics", METRICS_PORT)
    annotations = worker["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port["containerPort"])
    ports = set()
    for rule in policy["spec"]["egress"]:
        for port in rule["ports"]:
            ports.add(port["port"])
        for peer in rule["to"]:
            if "ipBlock" in peer:
                assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
                assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(
                    peer["ipBlock"]["except"]
                )
                assert [p["port"] for p in rule["ports"]] == [443]
    assert ports == {53, 6379, 5432, 19530, 443}


def test_ingress_exposes_only_platform_endpoints() -> None:
    ingress = _by_kind("Ingress", "nexus-web")
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert paths == {"/slack/", "/discord/interactions", "/api/messages"}
