"""deploy/k8s: every object valid by its published schema, and the pieces wired to one another."""

from __future__ import annotations

import ipaddress
from typing import Any

import jsonschema
import pytest

from supersms.cli.main import COMMANDS
from supersms.receiver.runtime import REDIS_TIMEOUT_S
from supersms.settings import DEFAULT_REPORT_ALLOW
from supersms.workers.celery_config import SEND_QUEUE
from tests.deploy.files import (
    K8S,
    k8s_object,
    k8s_objects,
    kustomization,
    load_schema,
    pod_spec,
    supersms_containers,
)

KUBERNETES = "k8s-v1.30.0"
SCHEMAS = {
    ("v1", "Namespace"): f"{KUBERNETES}/namespace-v1.json",
    ("v1", "ConfigMap"): f"{KUBERNETES}/configmap-v1.json",
    ("v1", "Secret"): f"{KUBERNETES}/secret-v1.json",
    ("v1", "Service"): f"{KUBERNETES}/service-v1.json",
    ("apps/v1", "Deployment"): f"{KUBERNETES}/deployment-apps-v1.json",
    ("apps/v1", "StatefulSet"): f"{KUBERNETES}/statefulset-apps-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject-v1alpha1.json",
}
OBJECTS = k8s_objects()
IDS = [name for name, _ in OBJECTS]
WORKLOADS = [(name, obj) for name, obj in OBJECTS if obj["kind"] in ("Deployment", "StatefulSet")]
SUPERSMS_WORKLOADS = [(name, obj) for name, obj in WORKLOADS if supersms_containers(obj)]
CONFIG = k8s_object("ConfigMap", "supersms-config")["data"]


def validator(obj: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema(SCHEMAS[obj["apiVersion"], obj["kind"]]))


@pytest.mark.parametrize("obj", [obj for _, obj in OBJECTS], ids=IDS)
def test_every_object_is_valid_by_the_published_schema_of_its_kind(obj):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(obj).iter_errors(obj)]
    assert errors == []


@pytest.mark.parametrize(
    "kind, name, path, key",
    [
        ("Deployment", "supersms-worker", ("spec", "template", "spec"), "restartPolicyy"),
        ("StatefulSet", "supersms-receiver", ("spec",), "volumeClaimTemplate"),
        ("ScaledObject", "supersms-worker", ("spec",), "maxReplicas"),
    ],
)
def test_the_schemas_do_reject_a_misspelt_field(kind, name, path, key):
    obj = k8s_object(kind, name)
    node = obj
    for step in path:
        node = node[step]
    node[key] = 1
    assert not validator(obj).is_valid(obj)


def test_kustomization_lists_every_manifest_and_nothing_else():
    listed = [resource.split("#")[0].strip() for resource in kustomization()["resources"]]
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk


@pytest.mark.parametrize("name, workload", SUPERSMS_WORKLOADS, ids=[n for n, _ in SUPERSMS_WORKLOADS])
def test_every_supersms_container_runs_a_supersms_command_through_the_image_entry_point(name, workload):
    for container in supersms_containers(workload):
        assert "command" not in container  # it would replace the image's ENTRYPOINT ["supersms"]
        assert container["args"][0] in COMMANDS


@pytest.mark.parametrize("name, workload", WORKLOADS, ids=[n for n, _ in WORKLOADS])
def test_every_pod_runs_as_a_user_that_is_not_root(name, workload):
    security = pod_spec(workload)["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
    for container in pod_spec(workload)["containers"]:
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("name, workload", WORKLOADS, ids=[n for n, _ in WORKLOADS])
def test_every_service_selects_the_pods_of_a_workload_and_targets_a_port_they_name(name, workload):
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()
    services = [
        obj
        for _, obj in OBJECTS
        if obj["kind"] == "Service" and obj["spec"]["selector"].items() <= labels.items()
    ]
    port_names = {port["name"] for c in pod_spec(workload)["containers"] for port in c.get("ports", [])}
    for service in services:
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names
    if workload["kind"] == "StatefulSet":
        assert workload["spec"]["serviceName"] in {s["metadata"]["name"] for s in services}


@pytest.mark.parametrize("name, workload", SUPERSMS_WORKLOADS, ids=[n for n, _ in SUPERSMS_WORKLOADS])
def test_every_configmap_and_secret_a_pod_reads_is_in_the_manifests(name, workload):
    defined = {(obj["kind"], obj["metadata"]["name"]) for _, obj in OBJECTS}
    for container in supersms_containers(workload):
        for source in container.get("envFrom", []):
            kind, ref = (
                ("ConfigMap", source["configMapRef"])
                if "configMapRef" in source
                else ("Secret", source["secretRef"])
            )
            assert (kind, ref["name"]) in defined


def test_the_worker_gets_the_account_from_the_secret():
    (worker,) = supersms_containers(k8s_object("Deployment", "supersms-worker"))
    secrets = [source["secretRef"]["name"] for source in worker["envFrom"] if "secretRef" in source]
    account = k8s_object("Secret", secrets[0])["stringData"]
    assert {"SUPERSMS_ID", "SUPERSMS_PASSWORD"} <= account.keys()


SECRETS = [(name, obj) for name, obj in OBJECTS if obj["kind"] == "Secret"]
SERVICES = [(name, obj) for name, obj in OBJECTS if obj["kind"] == "Service"]


@pytest.mark.parametrize("name, service", SERVICES, ids=[n for n, _ in SERVICES])
def test_every_service_selects_the_pods_of_some_workload(name, service):
    selector = service["spec"]["selector"].items()
    assert [w for _, w in WORKLOADS if selector <= w["spec"]["template"]["metadata"]["labels"].items()]


@pytest.mark.parametrize("name, obj", SECRETS, ids=[n for n, _ in SECRETS])
def test_the_shipped_secrets_hold_placeholders_only(name, obj):
    assert all("change-me" in value for value in obj["stringData"].values())


def test_the_worker_leaves_its_replica_count_to_the_autoscaler():
    """A replica count in the Deployment would be reapplied on every `kubectl apply`, fighting KEDA."""
    assert "replicas" not in k8s_object("Deployment", "supersms-worker")["spec"]


def test_a_stopping_worker_gets_time_to_finish_a_send_in_flight(send_in_flight_s):
    grace = pod_spec(k8s_object("Deployment", "supersms-worker"))["terminationGracePeriodSeconds"]
    assert grace > send_in_flight_s


def test_keda_scales_the_worker_on_the_send_queue_list():
    scaled = k8s_object("ScaledObject", "supersms-worker")["spec"]
    assert scaled["scaleTargetRef"]["name"] == "supersms-worker"
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == SEND_QUEUE
    assert int(trigger["metadata"]["listLength"]) >= 1


def test_keda_never_scales_the_workers_to_zero():
    """The list undercounts (prefetched and ETA tasks are not in it) and the reports queue and the sweep need a
    worker whatever the send queue holds."""
    assert k8s_object("ScaledObject", "supersms-worker")["spec"]["minReplicaCount"] >= 1


def test_keda_reads_the_database_the_workers_use_through_its_full_name():
    """KEDA's operator resolves the address from its own namespace, so a short name would not do."""
    metadata = k8s_object("ScaledObject", "supersms-worker")["spec"]["triggers"][0]["metadata"]
    port = k8s_object("Service", "supersms-redis")["spec"]["ports"][0]["port"]
    namespace = kustomization()["namespace"]
    assert metadata["address"] == f"supersms-redis.{namespace}.svc.cluster.local:{port}"
    assert CONFIG["SUPERSMS_REDIS_URL"] == f"redis://supersms-redis:{port}/{metadata['databaseIndex']}"


@pytest.mark.parametrize("flag, value", [("--appendonly", "yes"), ("--appendfsync", "everysec")])
def test_redis_keeps_an_append_only_file_fsynced_every_second_on_a_persistent_volume(flag, value):
    redis = k8s_object("StatefulSet", "supersms-redis")
    (container,) = pod_spec(redis)["containers"]
    assert container["args"][container["args"].index(flag) + 1] == value
    claims = {claim["metadata"]["name"] for claim in redis["spec"]["volumeClaimTemplates"]}
    assert {mount["name"] for mount in container["volumeMounts"] if mount["mountPath"] == "/data"} <= claims


def test_every_receiver_pod_spools_onto_its_own_persistent_volume():
    receiver = k8s_object("StatefulSet", "supersms-receiver")
    (container,) = supersms_containers(receiver)
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    claims = {claim["metadata"]["name"] for claim in receiver["spec"]["volumeClaimTemplates"]}
    assert mounts[CONFIG["SUPERSMS_SPOOL_DIR"]] in claims
    assert (
        pod_spec(receiver)["securityContext"]["fsGroup"]
        == pod_spec(receiver)["securityContext"]["runAsGroup"]
    )


def test_healthz_answers_within_the_readiness_timeout_even_while_redis_hangs():
    """/healthz waits for Redis once, at most REDIS_TIMEOUT_S, then answers from the spool."""
    (container,) = supersms_containers(k8s_object("StatefulSet", "supersms-receiver"))
    assert container["readinessProbe"]["timeoutSeconds"] >= REDIS_TIMEOUT_S * 2


def test_the_receiver_is_ready_only_while_healthz_says_it_can_store_reports():
    (container,) = supersms_containers(k8s_object("StatefulSet", "supersms-receiver"))
    probe = container["readinessProbe"]["httpGet"]
    assert probe["path"] == "/healthz"
    assert probe["port"] in {port["name"] for port in container["ports"]}
    assert (
        str(container["ports"][0]["containerPort"])
        == container["args"][container["args"].index("--port") + 1]
    )


def test_the_receiver_service_keeps_the_callers_address_and_admits_only_the_provider():
    spec = k8s_object("Service", "supersms-receiver")["spec"]
    assert spec["externalTrafficPolicy"] == "Local"
    allowed = {ipaddress.ip_network(item) for item in DEFAULT_REPORT_ALLOW.split(",")}
    assert {ipaddress.ip_network(item) for item in spec["loadBalancerSourceRanges"]} == allowed
    assert CONFIG["SUPERSMS_REPORT_ALLOW"] == DEFAULT_REPORT_ALLOW


@pytest.mark.parametrize("name", ["supersms-flower", "supersms-metrics"])
def test_unauthenticated_pages_stay_inside_the_cluster(name):
    assert k8s_object("Service", name)["spec"]["type"] == "ClusterIP"


def test_flower_gets_its_login_from_a_secret():
    (flower,) = supersms_containers(k8s_object("Deployment", "supersms-flower"))
    secrets = [source["secretRef"]["name"] for source in flower["envFrom"] if "secretRef" in source]
    assert [k8s_object("Secret", name)["stringData"].keys() for name in secrets] == [
        {"SUPERSMS_FLOWER_BASIC_AUTH"}
    ]
