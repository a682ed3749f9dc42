"""stackconfig/errors.py: pydantic's validation errors as one line per problem, named by config path - wrong
shapes, enumerations, booleans, unknown keys with a "did you mean" - and ConfigError's text."""

from __future__ import annotations

import pytest

from stackconfig import ConfigError, parse_config
from tests.stackconfig.helpers import APP0, T0, Pinned, app, problems, problems_of_app, tenant, values


def test_enumerated_values_list_the_choices() -> None:
    # Wording pinned by tests/bad_configs/48-consumer-tier-database; here, that each line names every choice.
    consumer = {"tenant": "globex", "app": "portal", "tier": "database"}
    assert problems(values(tenant("acme", app(consumers=[consumer]), podSecurity="privileged"),
                           tenant("globex", app("portal")))) == [
        Pinned(f"{T0}.podSecurity", "'restricted'", "'baseline'", "'privileged'"),
        Pinned(f"{APP0}.consumers[0].tier", "'frontend'", "'backend'", "'database'"),
    ]


def test_booleans_refuse_numbers_other_than_0_and_1() -> None:
    assert problems(values(protect=2, allowUnenforcedPolicies="maybe")) == [
        "tenancy:cluster.allowUnenforcedPolicies: must be true or false, got 'maybe'",
        "tenancy:cluster.protect: must be true or false, got 2",
    ]


# "must be a mapping of keys to values, got ..." is worded by tests/bad_configs/07-list-for-mapping.
@pytest.mark.parametrize(("raw", "expected"), [
    ({"cluster": {"cni": "calico"}, "tenants": {"name": "acme"}}, ["tenancy:tenants: must be a list, got {'name': 'acme'}"]),
    ({"cluster": ["calico"], "tenants": [{"name": "acme"}]},
     [Pinned("tenancy:cluster", "['calico']")]),
    ({"cluster": None, "tenants": [None]},
     [Pinned("tenancy:cluster", "None"),
      Pinned("tenancy:tenants[0]", "None")]),
    ({"cluster": {"cni": "calico"}, "tenants": [{"name": "acme", "owners": "acme-admins"}]},
     [f"{T0}.owners: must be a list, got 'acme-admins'"]),
    ({"cluster": {"cni": "calico"}, "tenants": [tenant("acme", app(frontend={"loadBalancer": ["10.0.0.0/8"]}))]},
     [Pinned(f"{APP0}.frontend.loadBalancer", "['10.0.0.0/8']")]),
    ({"cluster": {"cni": "calico"}, "tenants": [tenant("acme", app(backend={"env": {"PORT": 8080}}))]},
     [f"{APP0}.backend.env.PORT: must be a string, got 8080"]),
])
def test_wrong_shapes(raw: dict, expected: list[str | Pinned]) -> None:
    assert problems(raw) == expected


# ------------------------------------------------------------------------------ unknown keys and "did you mean"

# With a close match the wording is pinned by tests/bad_configs/01-05 and 55-snake-case-key; here, the key
# suggested and the known keys listed for each part of the config. With none, the known keys alone (no corpus case).
@pytest.mark.parametrize(("raw", "expected"), [
    (values(egresProxy={}),
     Pinned("tenancy:cluster.egresProxy", "'egressProxy'",
            "adminPolicies, allowUnenforcedPolicies, cni, dns, egressProxy, kubernetesVersion, monitoring, protect")),
    (values(dns={"podLabel": {"a": "b"}}),
     Pinned("tenancy:cluster.dns.podLabel", "'podLabels'", "namespace, podLabels, port")),
    (values(tenant("acme", owner=["x"])),
     Pinned(f"{T0}.owner", "'owners'", "apps, name, owners, podSecurity, quota")),
    (values(tenant("acme", quota={"cpus": "4"})),
     Pinned(f"{T0}.quota.cpus", "'cpu'", "cpu, memory, pods, storage")),
    (values(tenant("acme", app(metricPort=9100))),
     Pinned(f"{APP0}.metricPort", "'metricsPort'", "backend, consumers, database, frontend, metricsPort, name")),
    (values(tenant("acme", app(database={"storge": "5Gi"}))),
     Pinned(f"{APP0}.database.storge", "'storage'",
            "dataPath, env, image, passwordSecret, port, readOnlyRootFilesystem, replicas, resources, runAsUser, "
            "storage, storageClass, writablePaths")),
    (values(tenant("acme", app(frontend={"loadBalancer": {"sourceRanges": ["10.0.0.0/8"], "sourceRange": []}}))),
     Pinned(f"{APP0}.frontend.loadBalancer.sourceRange", "'sourceRanges'", "sourceRanges")),
    (values(tenant("acme", app(consumers=[{"tenant": "acme", "app": "x", "teir": "frontend"}]))),
     Pinned(f"{APP0}.consumers[0].teir", "'tier'", "app, tenant, tier")),
    # Nothing close: the known keys alone.
    (values(tenant("acme", colour="blue")),
     f"{T0}.colour: unknown key; known keys: apps, name, owners, podSecurity, quota"),
])
def test_unknown_keys_are_errors_with_a_hint(raw: dict, expected: str | Pinned) -> None:
    assert expected in problems(raw)


def test_misspelt_resources_key_is_reported_with_a_hint() -> None:
    # `limits` may be left out (Kubernetes defaults it), so the typo is the one problem.
    resources = {"requests": {"cpu": "1", "memory": "1Gi"}, "limit": {"cpu": "1", "memory": "1Gi"}}
    assert problems_of_app(backend={"resources": resources}) == [
        Pinned(f"{APP0}.backend.resources.limit", "'limits'", "limits, requests"),
    ]


def test_config_error_text_is_one_problem_per_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({})
    assert caught.value.problems == [Pinned("tenancy:cluster"), Pinned("tenancy:tenants")]
    assert str(caught.value) == "\n".join(caught.value.problems)
