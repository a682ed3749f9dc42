"""The lab's real kube-apiserver (v1.36, with network-policy-api's CRDs) as the oracle for validation.

- Every render of every stack passes `kubectl apply --server-side --dry-run=server --validate=strict`: what
  `tenancy render` writes is what the API server admits, fields and all (Strict field validation refuses unknown
  and duplicate fields). The render's Namespaces are applied for real first, since a namespaced object can only be
  dry-run into a namespace that exists.
- Every case of tests/bad_manifests gets the verdict ORACLE records from both sides: `tenancy check` refuses a file
  when it exits 2 or prints an `invalid-object` or `openapi-schema` line (the two rules that stand for "the API
  server would reject it"); kubectl refuses it when `apply --dry-run=server` exits non-zero for some document, one
  kubectl call per case. A case where the two differ is marked in ORACLE and explained in
  tests/bad_manifests/README.md; any other difference, or a new case without a row, fails.

The cases' namespaced objects are dry-run into `oracle-<namespace>` (created for real, removed at the end), so
nothing here touches the namespaces the shared lab's other tests use. Namespace objects of the corpus keep their
names: a dry run writes nothing.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tenancy.cli import main
from tenancy.lab import apply as lab_apply
from tenancy.lab.state import LabState
from tenancy.render import to_yaml
from tests.analysis.checks.bad_manifests import CORPUS_DIR, bad_manifest_files
from tests.conftest import STACKS, rendered

PREFIX = "oracle-"
DRY_RUN = ("apply", "--server-side", "--dry-run=server", "--validate=strict", "--force-conflicts",
           f"--field-manager={lab_apply.FIELD_MANAGER}", "-f", "-")
REFUSED, ACCEPTED = "refused", "accepted"
KUBECTL_ACCEPTS = "serverside-applied (server dry run)"


@dataclass(frozen=True)
class Verdict:
    check: str  # what `tenancy check` says
    server: str  # what `kubectl apply --dry-run=server` says
    says: str  # a fragment of kubectl's output that shows why (stderr when refused, stdout when accepted)
    where: str  # who judged: the API server, or kubectl before sending anything; and why when they disagree


SERVER = "API server"
CLIENT = "kubectl, client-side (nothing reaches the API server)"

ORACLE: dict[str, Verdict] = {
    "01-not-yaml.yaml": Verdict(REFUSED, REFUSED, "error converting YAML to JSON", CLIENT),
    # Valid YAML (a flow mapping may end with a comma) and kubectl reads every file, .json included, as YAML.
    "02-not-json.json": Verdict(REFUSED, ACCEPTED, "namespace/acme " + KUBECTL_ACCEPTS,
                                "DISAGREE: kubectl parses .json as YAML; check holds .json files to JSON (README)"),
    "03-not-an-object.yaml": Verdict(REFUSED, REFUSED, "invalid object to validate", CLIENT),
    "04-missing-kind.yaml": Verdict(REFUSED, REFUSED, "kind not set", CLIENT),
    "05-missing-name.yaml": Verdict(REFUSED, REFUSED, "resource name may not be empty", CLIENT),
    "06-invalid-selector-operator.yaml": Verdict(REFUSED, REFUSED, '"Equals": not a valid selector operator', SERVER),
    "07-values-with-exists.yaml": Verdict(REFUSED, REFUSED, "values: Forbidden: may not be specified when `operator`",
                                          SERVER),
    "08-bad-cidr.yaml": Verdict(REFUSED, REFUSED, 'Invalid value: "203.0.113.0/33": must be a valid CIDR', SERVER),
    "09-cidr-without-prefix.yaml": Verdict(REFUSED, REFUSED, 'Invalid value: "203.0.113.7": must be a valid CIDR',
                                           SERVER),
    "10-except-outside-cidr.yaml": Verdict(REFUSED, REFUSED, "must be a strict subset of `cidr`", SERVER),
    "11-port-zero.yaml": Verdict(REFUSED, REFUSED, "port: Invalid value: 0: must be between 1 and 65535", SERVER),
    "12-port-too-high.yaml": Verdict(REFUSED, REFUSED, "Invalid value: 70000: must be between 1 and 65535", SERVER),
    "13-endport-without-port.yaml": Verdict(REFUSED, REFUSED, "may not be specified when `port` is not specified",
                                            SERVER),
    "14-endport-with-named-port.yaml": Verdict(REFUSED, REFUSED, "may not be specified when `port` is non-numeric",
                                               SERVER),
    "15-endport-below-port.yaml": Verdict(REFUSED, REFUSED, "must be greater than or equal to `port`", SERVER),
    "16-bad-policy-type.yaml": Verdict(REFUSED, REFUSED, 'Unsupported value: "Ingres"', SERVER),
    "17-bad-object-name.yaml": Verdict(REFUSED, REFUSED, 'Invalid value: "Allow_All": a lowercase RFC 1123 subdomain',
                                       SERVER),
    "18-bad-namespace-name.yaml": Verdict(REFUSED, REFUSED, 'Invalid value: "acme.prod": must not contain dots',
                                          SERVER),
    "19-bad-label-value.yaml": Verdict(REFUSED, REFUSED, 'Invalid value: "front end": a valid label must', SERVER),
    "20-bad-label-key.yaml": Verdict(REFUSED, REFUSED, 'Invalid value: "tenancy/tenant/name": a valid label key',
                                     SERVER),
    "21-named-port-not-iana.yaml": Verdict(REFUSED, REFUSED, '"Prometheus_Metrics": must be no more than 15 characters',
                                           SERVER),
    "22-unknown-protocol.yaml": Verdict(REFUSED, REFUSED, 'Unsupported value: "ICMP"', SERVER),
    "23-rules-not-a-list.yaml": Verdict(REFUSED, REFUSED, ".spec.ingress: expected list", SERVER),
    "24-ipblock-with-selector.yaml": Verdict(REFUSED, REFUSED, "may not specify both ipBlock and another peer", SERVER),
    "25-container-port-name.yaml": Verdict(REFUSED, REFUSED, 'Invalid value: "Metrics_Port"', SERVER),
    "26-empty-peer.yaml": Verdict(REFUSED, REFUSED, "Required value: must specify a peer", SERVER),
    # The List's Namespace is admitted; its NetworkPolicy is not.
    "27-bad-item-in-list.yaml": Verdict(REFUSED, REFUSED, 'Invalid value: "monitoring namespace"', SERVER),
    "28-many-problems.yaml": Verdict(REFUSED, REFUSED, 'Unsupported value: "Egres"', SERVER),
    "29-not-utf8.yaml": Verdict(REFUSED, REFUSED, "a lowercase RFC 1123 label must consist of",
                                "API server, on the U+FFFD kubectl sends for the stray byte (README)"),
    "30-cnp-priority-out-of-range.yaml": Verdict(REFUSED, REFUSED, "should be less than or equal to 1000", SERVER),
    "31-cnp-cidr-host-bits.yaml": Verdict(REFUSED, REFUSED, '"10.1.2.3/8": Invalid CIDR format provided', SERVER),
    "32-cnp-port-range-reversed.yaml": Verdict(REFUSED, REFUSED, "Start port must be less than End port", SERVER),
    "33-cnp-peer-with-two-kinds.yaml": Verdict(REFUSED, REFUSED, "spec.ingress[0].from[0]: Too many: 2", SERVER),
    "34-cnp-ingress-from-networks.yaml": Verdict(REFUSED, REFUSED, ".networks: field not declared in schema", SERVER),
    "35-cnp-allow-action.yaml": Verdict(REFUSED, REFUSED, 'action: Unsupported value: "Allow"', SERVER),
    "36-anp-accept-action.yaml": Verdict(REFUSED, REFUSED, 'action: Unsupported value: "Accept"', SERVER),
    "37-banp-not-named-default.yaml": Verdict(REFUSED, REFUSED, 'with metadata.name="default" can be created', SERVER),
    "38-cnp-too-many-rules.yaml": Verdict(REFUSED, REFUSED, "spec.ingress: Too many: 26: must have at most 25", SERVER),
    "39-cnp-unserved-version.yaml": Verdict(REFUSED, REFUSED, 'no matches for kind "ClusterNetworkPolicy" in version',
                                            "kubectl, by the API server's discovery (README)"),
}

FILES = bad_manifest_files()
# `namespace: acme`, `"namespace": "acme"`, `namespace: 'acme'`: the key exactly (not namespaceSelector/namespaces).
NAMESPACE_FIELD = re.compile(r"""(?<![\w.-])(["']?namespace["']?[ \t]*:[ \t]*["']?)([a-z0-9][-a-z0-9]*)""")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def in_oracle_namespaces(text: str) -> tuple[str, set[str]]:
    """The file's text with every `namespace: X` made `namespace: oracle-X`, and the namespaces that needs. The text
    is rewritten, not parsed and dumped again, so that kubectl reads the file's own bytes and syntax."""
    needed: set[str] = set()

    def prefixed(match: re.Match[str]) -> str:
        needed.add(PREFIX + match[2])
        return match[1] + PREFIX + match[2]

    return NAMESPACE_FIELD.sub(prefixed, text), needed


def corpus_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="surrogateescape")


@pytest.fixture(scope="module")
def kubectl(lab_workdir) -> lab_apply.Kubectl:
    return lab_apply.Kubectl(LabState.load(lab_workdir))


def dry_run(kubectl: lab_apply.Kubectl, text: str | bytes) -> subprocess.CompletedProcess[bytes]:
    data = text if isinstance(text, bytes) else text.encode("utf-8", errors="surrogateescape")
    return subprocess.run([*kubectl.argv, *DRY_RUN], input=data, capture_output=True, check=False, timeout=120)


def delete_namespaces(kubectl: lab_apply.Kubectl, names: set[str]) -> None:
    if names:
        kubectl("delete", "namespace", "--ignore-not-found", "--wait=false", *sorted(names), check=False)


@pytest.fixture(scope="module")
def render_namespaces(kubectl) -> Iterator[set[str]]:
    """The namespaces of every stack's render, applied for real (they are empty); removed after the module."""
    created: set[str] = set()
    yield created
    delete_namespaces(kubectl, created)


@pytest.fixture(scope="module")
def oracle_namespaces(kubectl) -> Iterator[set[str]]:
    """`oracle-<namespace>` for every namespace the corpus names, created for real; removed after the module."""
    needed = set().union(*(in_oracle_namespaces(corpus_text(path))[1] for path in FILES))
    names = {name for name in needed if DNS_LABEL.fullmatch(name)}  # an invalid one the server refuses anyway
    kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}} for name in sorted(names))
    yield names
    delete_namespaces(kubectl, names)


@pytest.mark.parametrize("stack", STACKS)
def test_the_render_passes_a_server_dry_run(stack, kubectl, render_namespaces):
    manifests = rendered(stack).manifests()
    namespaces = [doc for doc in manifests if doc["kind"] == "Namespace"]
    assert namespaces, f"{stack} renders no Namespace"
    kubectl.apply(namespaces)
    render_namespaces.update(doc["metadata"]["name"] for doc in namespaces)
    done = dry_run(kubectl, to_yaml(manifests))
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 0, f"the API server refuses {stack}'s render:\n{stderr}"
    assert stderr == ""
    assert done.stdout.decode().count(KUBECTL_ACCEPTS) == len(manifests)


def test_every_case_has_a_verdict():
    assert sorted(ORACLE) == [path.name for path in FILES], "classify every case of tests/bad_manifests in ORACLE"


def test_every_disagreement_is_explained_in_the_corpus_readme():
    readme = (CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The API server as the oracle", 1)[-1]
    for name, verdict in ORACLE.items():
        if verdict.check != verdict.server or verdict.where != SERVER:
            assert f"`{name}`" in section, f"{name}: explain the verdicts in tests/bad_manifests/README.md"


def test_the_namespace_rewrite_changes_only_metadata_namespaces():
    for path in FILES:
        text = corpus_text(path)
        rewritten, needed = in_oracle_namespaces(text)
        try:
            before, after = list(yaml.safe_load_all(text)), list(yaml.safe_load_all(rewritten))
        except (yaml.YAMLError, UnicodeError):
            assert rewritten.replace(PREFIX, "") == text
            continue
        seen: set[str] = set()
        assert after == _prefix_namespaces(before, seen), path.name
        assert seen == needed, path.name


def _prefix_namespaces(value, seen: set[str]):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "metadata" and isinstance(item, dict) and isinstance(item.get("namespace"), str):
                seen.add(PREFIX + item["namespace"])
                item = {**item, "namespace": PREFIX + item["namespace"]}
            out[key] = _prefix_namespaces(item, seen)
        return out
    if isinstance(value, list):
        return [_prefix_namespaces(item, seen) for item in value]
    return value


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_check_and_the_api_server_give_the_recorded_verdicts(path, kubectl, oracle_namespaces, capsys, monkeypatch):
    expected = ORACLE[path.name]
    monkeypatch.chdir(CORPUS_DIR)
    code = main(["check", path.name])
    out, err = capsys.readouterr()
    flagged = [line for line in out.splitlines() if line.split(" ", 1)[0] in ("invalid-object", "openapi-schema")]
    check = REFUSED if code == 2 or flagged else ACCEPTED
    assert code in (0, 1, 2), err

    text, needed = in_oracle_namespaces(corpus_text(path))
    assert needed <= oracle_namespaces
    done = dry_run(kubectl, text)
    stdout, stderr = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    server = REFUSED if done.returncode else ACCEPTED

    assert (check, server) == (expected.check, expected.server), f"check: {code}\n{out}{err}\nkubectl:\n{stdout}{stderr}"
    assert expected.says in (stderr if server == REFUSED else stdout), f"kubectl:\n{stdout}{stderr}"
