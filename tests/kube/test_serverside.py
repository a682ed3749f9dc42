"""The server-filled fields of `kube.serverside`, against objects as the lab's kube-apiserver v1.36 returned them
(`kubectl get -o json` after a server-side apply of the render; managedFields dropped)."""

from __future__ import annotations

import copy
import functools

import pytest

from analysis.review.diff import field_changes
from kube.serverside import defaulted, strip_server_metadata
from policies.tenant_admission import tenant_ingress_admission

SERVER_METADATA = {"creationTimestamp": "2026-11-30T11:14:02Z", "generation": 1, "resourceVersion": "234",
                   "uid": "c6061ff4-e4ed-4ea8-a882-5eb69e88d5cc"}


def live(rendered: dict) -> dict:
    """`rendered` as the API server returns it."""
    obj = copy.deepcopy(rendered)
    obj["metadata"].update(SERVER_METADATA)
    spec = obj["spec"]
    if obj["kind"] == "ValidatingAdmissionPolicy":
        spec["matchConstraints"].update(matchPolicy="Equivalent", namespaceSelector={}, objectSelector={})
        for rule in spec["matchConstraints"]["resourceRules"]:
            rule["scope"] = "*"
        obj["status"] = {"observedGeneration": 1, "typeChecking": {}}
    else:
        spec["matchResources"].update(matchPolicy="Equivalent", objectSelector={})
    return obj


def changes(rendered: dict, stored: dict) -> list[str]:
    return field_changes(strip_server_metadata(rendered), strip_server_metadata(stored),
                         ignore=functools.partial(defaulted, rendered["kind"]))


@pytest.mark.parametrize("index", [0, 1], ids=["policy", "binding"])
def test_the_admission_policy_differs_from_its_live_self_only_by_server_defaults(index):
    rendered = tenant_ingress_admission("ClusterNetworkPolicy")[index]
    assert changes(rendered, live(rendered)) == []


def test_a_real_change_to_a_defaulted_field_is_still_a_change():
    rendered = tenant_ingress_admission("ClusterNetworkPolicy")[1]
    stored = live(rendered)
    stored["spec"]["matchResources"]["matchPolicy"] = "Exact"
    assert changes(rendered, stored) == ["spec.matchResources.matchPolicy: added 'Exact'"]
