"""Structure of what the program registers under Pulumi mocks: component types, parents, ordering, protection."""

from __future__ import annotations

from collections import Counter

NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
COMPONENT_TYPES = {"tenancy:index:Platform", "tenancy:index:Tenant", "tenancy:index:ThreeTierApp",
                   "tenancy:index:ClusterPolicies"}


def test_components_use_three_part_type_tokens(any_stack):
    components = Counter(r.type for r in any_stack.recording.resources if not r.custom)
    config = any_stack.parsed.config
    admin_policies = config.cluster.admin_policy_api != "none"
    assert set(components) == COMPONENT_TYPES - (set() if admin_policies else {"tenancy:index:ClusterPolicies"})
    assert components["tenancy:index:ClusterPolicies"] == int(admin_policies)
    assert components["tenancy:index:Tenant"] == len(config.tenants)
    assert components["tenancy:index:ThreeTierApp"] == sum(len(t.apps) for t in config.tenants)
    assert components["tenancy:index:Platform"] == 1


def test_every_kubernetes_resource_is_parented_by_a_component(any_stack):
    orphans = [r.key for r in any_stack.recording.custom() if r.parent_type not in COMPONENT_TYPES]
    assert orphans == []


def test_app_children_belong_to_their_own_app(dev):
    for r in dev.recording.custom():
        if r.parent_type == "tenancy:index:ThreeTierApp" and r.type in WORKLOADS:
            tenant, _, app = r.parent.partition("-")
            namespace, _, name = r.name.partition("/")
            assert namespace == tenant and name.startswith(f"{app}-"), r.key


def _policies_in(recording, namespace: str) -> set[str]:
    return {r.key for r in recording.by_type(POLICY) if r.name.startswith(f"{namespace}/")}


def test_no_pod_runs_before_its_namespace_is_isolated(any_stack):
    """Each workload depends on its namespace's default-deny and on every allow policy the program puts in that
    namespace for its own app, so the API server never sees a pod without its policies."""
    recording = any_stack.recording
    workloads = [r for r in recording.custom() if r.type in WORKLOADS]
    assert workloads
    for workload in workloads:
        namespace, _, name = workload.name.partition("/")
        deps = set(workload.depends_on)
        assert f"{POLICY}::{namespace}/default-deny" in deps, workload.key
        app = name.rsplit("-", 1)[0]
        # The tenant's namespace-wide policies and every policy the app itself places in this namespace.
        own_app_policies = {
            r.key for r in recording.by_type(POLICY)
            if r.name.startswith(f"{namespace}/") and r.parent in (namespace, f"{namespace}-{app}", "platform")
        }
        assert len(own_app_policies) >= 3, own_app_policies  # deny, DNS and at least one allowance
        missing = own_app_policies - deps
        assert not missing, f"{workload.key} may start before {sorted(missing)}"


def test_policies_wait_for_their_namespace(any_stack):
    for policy in any_stack.recording.by_type(POLICY):
        namespace = policy.name.split("/", 1)[0]
        assert f"{NAMESPACE}::{namespace}" in policy.depends_on, policy.key


def test_prod_protects_namespaces_and_retains_database_claims(prod):
    namespaces = prod.recording.by_type(NAMESPACE)
    claims = prod.recording.by_type(PVC)
    assert namespaces and claims
    assert all(r.protect for r in namespaces)
    assert all(r.protect and r.retain_on_delete for r in claims)
    # Only data is protected: workloads and policies must stay freely replaceable.
    assert not any(r.protect for r in prod.recording.custom() if r.type not in (NAMESPACE, PVC))


def test_dev_protects_nothing(dev):
    assert not any(r.protect or r.retain_on_delete for r in dev.recording.resources)


def test_database_claims_are_the_ones_the_statefulset_adopts(any_stack):
    """A StatefulSet adopts claims named <template>-<statefulset>-<ordinal>; any other name would leave the
    protected claim unused and the data on an unprotected one."""
    manifests = any_stack.manifests()
    for sts in (m for m in manifests if m["kind"] == "StatefulSet"):
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        template = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
        expected = {f"{template}-{name}-{i}" for i in range(sts["spec"]["replicas"])}
        claims = {m["metadata"]["name"] for m in manifests
                  if m["kind"] == "PersistentVolumeClaim" and m["metadata"]["namespace"] == ns
                  and m["metadata"]["labels"]["app.kubernetes.io/part-of"] == name.removesuffix("-database")}
        assert claims == expected
