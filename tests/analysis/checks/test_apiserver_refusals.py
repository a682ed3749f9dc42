"""What the API server would refuse never renders, and `check` refuses it in manifests: duplicate mount paths,
user ids and replicas beyond int32, invalid environment variable names, duplicate container port names, a proxy
whose clusterCidrs cover a whole address family, integers Pulumi's doubles cannot carry. Label values that are not
strings get one verdict everywhere (`matrix`, `check`, `explain`, `graph`: exit 2, the same located line)."""

from __future__ import annotations

import copy

import pytest
import yaml

from stackconfig import ConfigError, parse_config
from tenancy.cli import main
from analysis.checks.validation import object_problems


def _values(frontend: dict | None = None, database: dict | None = None, cluster: dict | None = None) -> dict:
    return {"cluster": {"cni": "calico", **(cluster or {})},
            "tenants": [{"name": "acme", "apps": [{"name": "shop",
                                                   "frontend": {"image": "nginx:1.27", **(frontend or {})},
                                                   "backend": {"image": "ghcr.io/acme/api:1"},
                                                   "database": database or {}}]}]}


APP = "tenancy:tenants[0].apps[0]"


@pytest.mark.parametrize("values, expected", [
    (_values(frontend={"writablePaths": ["/tmp", "/tmp"]}),
     f"{APP}.frontend.writablePaths[1]: '/tmp' is already writablePaths[0]"),
    (_values(frontend={"writablePaths": ["/cache", "/cache/"]}),
     f"{APP}.frontend.writablePaths[1]: '/cache/' is already writablePaths[0]"),
    (_values(database={"dataPath": "/tmp"}),
     f"{APP}.database.dataPath: '/tmp' is also writablePaths[0]"),
    (_values(frontend={"runAsUser": 2147483648}),
     f"{APP}.frontend.runAsUser: must be at most 2147483647"),
    (_values(frontend={"replicas": 2147483648}),
     f"{APP}.frontend.replicas: must be at most 2147483647"),
    (_values(frontend={"env": {"": "x"}}), f"{APP}.frontend.env: '' is not a variable name"),
    (_values(frontend={"env": {"A=B": "x", "OK": "y"}}), f"{APP}.frontend.env: 'A=B' is not a variable name"),
    (_values(cluster={"egressProxy": {"clusterCidrs": ["0.0.0.0/0"]}}),
     "tenancy:cluster.egressProxy.clusterCidrs[0]: 0.0.0.0/0 is every IPv4 address"),
    (_values(cluster={"egressProxy": {"clusterCidrs": ["10.0.0.0/8", "::/0"]}}),
     "tenancy:cluster.egressProxy.clusterCidrs[1]: ::/0 is every IPv6 address"),
    (_values(cluster={"egressProxy": {"writablePaths": ["/tmp", "/tmp"]}}),
     "tenancy:cluster.egressProxy.writablePaths[1]: '/tmp' is already writablePaths[0]"),
    (_values(frontend={"runAsUser": 9007199254740993}),
     f"{APP}.frontend.runAsUser: 9007199254740993 cannot be carried exactly"),
    (_values(frontend={"port": 9007199254740993}),
     f"{APP}.frontend.port: 9007199254740993 cannot be carried exactly"),
])
def test_config_the_api_server_would_refuse_is_refused(values, expected):
    with pytest.raises(ConfigError) as exc:
        parse_config(values)
    assert [p for p in exc.value.problems if p.startswith(expected)], exc.value.problems
    assert len(exc.value.problems) == 1, exc.value.problems


def test_the_limits_themselves_are_accepted():
    parse_config(_values(frontend={"runAsUser": 2147483647, "env": {"my.var-1": "x", "PATH": "/bin"},
                                   "writablePaths": ["/tmp", "/cache"]},
                         database={"dataPath": "/data"}))


def test_render_refuses_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "Pulumi.t.yaml").write_text(yaml.safe_dump({"config": {
        "tenancy:cluster": {"cni": "calico"},
        "tenancy:tenants": [{"name": "acme", "apps": [{"name": "shop",
                                                       "frontend": {"image": "nginx", "runAsUser": 9007199254740993},
                                                       "backend": {"image": "api"}}]}]}}))
    out = tmp_path / "out"
    assert main(["render", "--stack", "t", "--config-dir", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "runAsUser: 9007199254740993 cannot be carried exactly" in err
    assert not out.exists()


def _deployment(**container: object) -> dict:
    spec = {"name": "c", "image": "nginx", **container}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "acme"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [spec]}}}}


@pytest.mark.parametrize("obj, expected", [
    (_deployment(volumeMounts=[{"name": "a", "mountPath": "/tmp"}, {"name": "b", "mountPath": "/tmp"}]),
     "spec.template.spec.containers[0].volumeMounts[1].mountPath: '/tmp' must be unique"),
    (_deployment(ports=[{"name": "serve", "containerPort": 80}, {"name": "serve", "containerPort": 81}]),
     "spec.template.spec.containers[0].ports[1].name: duplicate port name 'serve'"),
    (_deployment(env=[{"name": "", "value": "x"}]),
     "spec.template.spec.containers[0].env[0].name: invalid environment variable name ''"),
    (_deployment(env=[{"name": "A=B", "value": "x"}]),
     "spec.template.spec.containers[0].env[0].name: invalid environment variable name 'A=B'"),
    (_deployment(securityContext={"runAsUser": 2147483648}),
     "spec.template.spec.containers[0].securityContext.runAsUser: must be between 0 and 2147483647"),
])
def test_check_refuses_the_same_in_manifests(obj, expected):
    assert [p for p in object_problems(obj) if p.startswith(expected)], object_problems(obj)


def test_check_refuses_replicas_and_pod_ids_beyond_int32():
    obj = _deployment()
    obj["spec"]["replicas"] = 2147483648
    obj["spec"]["template"]["spec"]["securityContext"] = {"fsGroup": 9007199254740993}
    problems = object_problems(obj)
    assert any(p.startswith("spec.replicas: must be between 0 and 2147483647") for p in problems), problems
    assert any(p.startswith("spec.template.spec.securityContext.fsGroup: must be between 0 and 2147483647")
               for p in problems), problems


def test_the_program_renders_nothing_the_api_server_would_refuse(dev):
    for obj in dev.manifests():
        assert object_problems(obj) == [], obj["metadata"]


LABELS_AS_NUMBERS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {matchLabels: {version: 1}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: shop, labels: {version: "1"}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: shop, labels: {canary: true}}
spec: {containers: [{name: c, image: x}]}
"""


def test_a_label_value_that_is_not_a_string_gets_one_verdict_everywhere(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text(LABELS_AS_NUMBERS)
    verdicts = {}
    for command in (["matrix", str(path)], ["check", str(path)], ["graph", str(path)],
                    ["explain", str(path), "--from", "shop/a", "--to", "shop/b", "--port", "80/TCP"]):
        code = main(command)
        verdicts[command[0]] = (code, capsys.readouterr().err)
    assert {code for code, _ in verdicts.values()} == {2}, verdicts
    for _, err in verdicts.values():
        assert f"{path} doc 1: spec.podSelector.matchLabels['version']: label value 1 must be a string" in err
        assert f"{path} doc 3: metadata.labels['canary']: label value true must be a string" in err


def test_null_label_values_stay_empty_strings():
    from analysis.reachability import load_objects

    pod = yaml.safe_load("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: n, labels: {x: }}\n"
                         "spec: {containers: []}\n")
    assert load_objects([copy.deepcopy(pod)]).workloads[0].labels == {"x": ""}
