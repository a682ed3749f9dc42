"""diff --format markdown as a PR comment: headline counts, warnings, stable plain output, the size budget."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from analysis.review import (CROSS_TENANT, DATA_LOSS, DATABASE, EXTERNAL, ReviewSection, fit, headline, review_markdown,
                        review_clusters, size)
from analysis.review.markdown import Trim
from analysis.review.warnings import isolation_warnings
from tenancy.cli import main

from .helpers import dev_objects, drop, find, load, tenant_cluster

CONSUMER_POLICIES = (("shop-backend-from-globex-portal-backend", "acme"), ("portal-backend-to-acme-shop-backend", "globex"))


def without_consumer(objs):
    for name, ns in CONSUMER_POLICIES:
        objs = drop(objs, "NetworkPolicy", name, ns)
    return objs


def kinds(r):
    return [(w.kind, w.subject) for w in r.warnings()]


def test_cross_tenant_flow_first_line_and_grouped_row(dev):
    objs = dev_objects(dev)
    r = review_clusters(load(without_consumer(objs)), load(objs), "dev")
    md = review_markdown(r)
    assert md.splitlines()[0] == \
        "### ⚠️ dev: +2 resources, -0 removed, ~0 changed, 1 flow opened, 0 closed, 1 cross-tenant"
    assert kinds(r) == [(CROSS_TENANT, "globex/portal-backend -> acme/shop-backend")]
    flows = md[md.index("#### Flows opened (1)"):md.index("<details>")]
    assert "**acme**" in flows  # grouped under the namespace the flow enters
    assert "- ⚠️ `globex/portal-backend` → `acme/shop-backend`: `TCP 8080` — cross-tenant flow (tenant globex -> " \
           "tenant acme)" in flows
    # Closing the flow again is not a risk: no warning, and the headline says so.
    back = review_clusters(load(objs), load(without_consumer(objs)), "dev")
    assert headline(back) == "dev: +0 resources, -2 removed, ~0 changed, 0 flows opened, 1 closed, 0 cross-tenant"
    assert back.warnings() == []


def test_same_tenant_namespaces_are_not_cross_tenant_but_two_tenant_namespaces_are(dev):
    objs = dev_objects(dev)
    old = without_consumer(dev_objects(dev))
    find(objs, "Namespace", "globex")["metadata"]["labels"]["tenancy/tenant"] = "acme"
    find(old, "Namespace", "globex")["metadata"]["labels"]["tenancy/tenant"] = "acme"
    r = review_clusters(load(old), load(objs), "dev")
    assert [w.message for w in r.warnings()] == \
        ["cross-tenant flow (namespace globex -> namespace acme, both of tenant acme)"]


def test_flow_into_database(dev):
    objs = dev_objects(dev)
    old = drop(objs, "NetworkPolicy", "shop-backend-to-database-ingress", "acme")
    r = review_clusters(load(old), load(objs), "dev")
    assert kinds(r) == [(DATABASE, "acme/shop-backend -> acme/shop-database")]
    assert headline(r).endswith("1 flow opened, 0 closed, 0 cross-tenant, 1 into a database")
    assert "- ⚠️ `acme/shop-backend` → `acme/shop-database`: `TCP 5432` — flow into database acme/shop-database" \
        in review_markdown(r)


def test_new_load_balancer_is_external_exposure(dev):
    objs = dev_objects(dev)
    old = drop(dev_objects(dev), "NetworkPolicy", "shop-frontend-from-load-balancer", "acme")
    spec = find(old, "Service", "shop-frontend", "acme")["spec"]
    spec["type"] = "ClusterIP"
    del spec["loadBalancerSourceRanges"], spec["externalTrafficPolicy"]
    r = review_clusters(load(old), load(objs), "dev")
    assert [(w.kind, w.message) for w in r.warnings()] == [
        (EXTERNAL, "external source 203.0.113.0/24 reaches acme/shop-frontend"),
        (EXTERNAL, "new LoadBalancer Service acme/shop-frontend open to 203.0.113.0/24"),
    ]
    assert headline(r).endswith("0 cross-tenant, 2 new external exposures")


@pytest.mark.parametrize("ranges, expected", [
    (["203.0.113.0/25"], []),  # narrower: nothing to warn about
    (["203.0.113.0/25", "203.0.113.128/25"], []),  # the same addresses, split
    (["203.0.113.0/24", "198.51.100.0/24"], ["widened by 198.51.100.0/24 (was 203.0.113.0/24)"]),
    ([], ["widened by 0.0.0.0/0, ::/0 (was 203.0.113.0/24)"]),  # no ranges: the load balancer admits everyone
])
def test_source_range_widening(dev, ranges, expected):
    objs = dev_objects(dev)
    new = dev_objects(dev)
    find(new, "Service", "shop-frontend", "acme")["spec"]["loadBalancerSourceRanges"] = ranges
    r = review_clusters(load(objs), load(new), "dev")
    assert [w.message.split("shop-frontend ", 1)[1] for w in r.resource_warnings] == expected


def test_removed_claim_and_namespace_warn_of_data_loss(dev):
    objs = dev_objects(dev)
    new = drop(drop(objs, "PersistentVolumeClaim", "data-shop-database-0", "acme"), "Namespace", "globex")
    r = review_clusters(load(objs), load(new), "dev")
    assert [(w.kind, w.subject) for w in r.resource_warnings] == [
        (DATA_LOSS, "Namespace globex"), (DATA_LOSS, "PersistentVolumeClaim acme/data-shop-database-0")]
    assert headline(r) == "dev: +0 resources, -2 removed, ~0 changed, 0 flows opened, 0 closed, 0 cross-tenant, " \
                          "2 data-loss risks"
    md = review_markdown(r)
    # Shown above everything else, never inside the collapsible resource list.
    assert md.index("- ⚠️ PersistentVolumeClaim acme/data-shop-database-0 is removed") < md.index("<details>")


def test_same_input_gives_same_bytes_whatever_the_document_order(dev):
    objs = dev_objects(dev)
    old = without_consumer(objs)
    first = review_markdown(review_clusters(load(old), load(objs), "dev"))
    second = review_markdown(review_clusters(load(old[::-1]), load(objs[::-1]), "dev"))
    assert first == second


def test_markdown_sections_and_focused_graph(dev):
    objs = dev_objects(dev)
    md = review_markdown(review_clusters(load(without_consumer(objs)), load(objs), "dev"))
    resources = md[md.index("<details><summary>Resources: +2 added"):]
    assert "- ➕ NetworkPolicy `shop-backend-from-globex-portal-backend`" in resources
    graph = md[md.index("```mermaid"):]
    assert "opened: TCP 8080" in graph and '"shop-frontend"' in graph
    assert "egress-proxy" not in graph  # not touched by the change, so not drawn
    assert "Unchanged flows of the affected namespaces" in md


def test_cli_formats_carry_warnings_and_no_ansi(dev, tmp_path, capsys):
    objs = dev_objects(dev)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "all.yaml").write_text(yaml.safe_dump_all(without_consumer(objs)))
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "all.yaml").write_text(yaml.safe_dump_all(objs))
    outputs = {}
    for fmt in ("text", "markdown", "json"):
        assert main(["diff", str(tmp_path / "base"), str(tmp_path / "dev"), "--format", fmt]) == 0
        outputs[fmt] = captured = capsys.readouterr()
        assert "\x1b" not in captured.out + captured.err
    assert outputs["markdown"].out.startswith("### ⚠️ dev: +2 resources")  # title from NEW's directory
    assert "  ! cross-tenant: cross-tenant flow (tenant globex -> tenant acme)" in outputs["text"].out
    data = json.loads(outputs["json"].out)
    assert data["summary"].startswith("dev: +2 resources")
    assert data["warnings"] == [{"kind": "cross-tenant", "subject": "globex/portal-backend -> acme/shop-backend",
                                 "message": "cross-tenant flow (tenant globex -> tenant acme)"}]
    assert main(["diff", str(tmp_path / "base"), str(tmp_path / "dev"), "--format", "markdown", "--title", "x"]) == 0
    assert capsys.readouterr().out.startswith("### ⚠️ x: ")


def test_huge_diff_is_trimmed_under_budget_least_important_first():
    # 40 tenants lose their isolation: every workload reaches every other, thousands of flows opened.
    big = review_clusters(load(tenant_cluster(40, isolated=True)), load(tenant_cluster(40, isolated=False)), "big")
    # Every pair of the 80 workloads but each app's own, plus each workload from and to the stand-ins any pod of
    # an unknown namespace and an arbitrary internet address (4 x 80), which the isolation kept out before.
    assert len(big.diff.gained) == 80 * 79 - 80 + 4 * 80 and len(big.context()) == 80
    assert size(ReviewSection(big).markdown(Trim())) > 60_000
    md = review_markdown(big)
    assert size(md) < 60_000 and "\x1b" not in md
    assert md.splitlines()[0].startswith("### ⚠️ big: +0 resources, -80 removed, ~0 changed, 6560 flows opened")
    note = md.splitlines()[-1]
    assert note.startswith("✂️ Cut to stay under 60,000 characters: big: flow graph, resource list, unchanged flows")
    assert "flow lists after" in note
    hidden = [int(line.split("… and ", 1)[1].split(" more", 1)[0]) for line in md.splitlines() if "… and " in line]
    shown = [line for line in md.splitlines() if line.startswith("- ⚠️ `")]
    assert len(shown) + sum(hidden) == len(big.diff.gained)
    assert all(f"**tenant-{t:03d}**" in md for t in range(40))  # every namespace keeps a few rows
    assert "```mermaid" not in md and "<details><summary>Resources" not in md


def test_budget_is_shared_and_cuts_the_largest_section_first(dev):
    objs = dev_objects(dev)
    small = review_clusters(load(without_consumer(objs)), load(objs), "dev")
    big = review_clusters(load(tenant_cluster(40, isolated=True)), load(tenant_cluster(40, isolated=False)), "prod")
    md = fit([ReviewSection(small), ReviewSection(big)], head="<!-- tenancy-preview -->")
    assert size(md) < 60_000
    dev_part = md[:md.index("### ⚠️ prod:")]
    assert "```mermaid" in dev_part  # the small stack keeps its graph while the big one is cut
    assert "prod: flow graph" in md.splitlines()[-1] and "dev:" not in md.splitlines()[-1]


def test_even_a_tiny_budget_holds():
    big = review_clusters(load(tenant_cluster(10, isolated=True)), load(tenant_cluster(10, isolated=False)), "big")
    md = review_markdown(big, budget=1_500)
    assert size(md) < 1_500 and md.rstrip().endswith(".")


def test_isolation_warning_names_the_directions_lost():
    old = tenant_cluster(1, isolated=True)
    ingress_only = copy.deepcopy(old)
    find(ingress_only, "NetworkPolicy", "default-deny", "tenant-000")["spec"]["policyTypes"] = ["Ingress"]
    removed = drop(old, "NetworkPolicy", "default-deny", "tenant-000")
    assert [w.message for new in (removed, ingress_only) for w in isolation_warnings(load(old), load(new))] == [
        "NetworkPolicy tenant-000/default-deny (deny ingress and egress for pods with {}) is removed: the pods it "
        "isolated may accept or open anything not otherwise denied",
        "NetworkPolicy tenant-000/default-deny (deny egress for pods with {}) no longer denies egress: the pods it "
        "isolated may accept or open anything not otherwise denied",
    ]
