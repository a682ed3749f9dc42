"""Renaming a tenant or an app in prod must not silently delete data.

Kubernetes names are immutable and the program's logical names are the Kubernetes names, so a rename is always
"delete the old objects, create new ones" — no alias can turn it into a move. What keeps the data is that in a
protected stack every object being deleted that holds data (namespaces, database claims) is `protect`ed, so
`pulumi preview`/`up` refuses the delete, and claims are `retainOnDelete` even if someone unprotects them."""

from __future__ import annotations


import pytest

from tenancy.render import render_stack
from tests.paths import REPO_ROOT

DATA_KINDS = ("kubernetes:core/v1:Namespace", "kubernetes:core/v1:PersistentVolumeClaim")


def _deleted(old, new) -> list:
    kept = {r.key for r in new.recording.resources}
    return [r for r in old.recording.custom() if r.key not in kept]


@pytest.mark.parametrize("rename", [
    ("- name: shop\n", "- name: webshop\n"),                        # an app
    ("- name: globex\n", "- name: globex-corp\n"),                  # a tenant (and what refers to it)
])
def test_renaming_in_prod_deletes_only_protected_data(prod, tmp_path, rename):
    old_text = (REPO_ROOT / "Pulumi.prod.yaml").read_text()
    new_text = old_text.replace(*rename)
    if rename[0] == "- name: globex\n":
        new_text = new_text.replace("{tenant: globex,", "{tenant: globex-corp,")
    assert new_text != old_text
    (tmp_path / "Pulumi.prod.yaml").write_text(new_text)
    renamed = render_stack("prod", tmp_path)

    deleted = _deleted(prod, renamed)
    data = [r for r in deleted if r.type in DATA_KINDS]
    assert data, "a rename must show up as deleting the old data-bearing objects"
    unguarded = [r.key for r in data if not r.protect]
    assert unguarded == [], "Pulumi would delete these without refusing"
    assert all(r.retain_on_delete for r in data if r.type.endswith("PersistentVolumeClaim"))


def test_statefulsets_never_delete_claims_themselves(any_stack):
    """Scaling down or deleting the StatefulSet keeps its claims in every stack, protected or not."""
    for sts in (m for m in any_stack.manifests() if m["kind"] == "StatefulSet"):
        assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
