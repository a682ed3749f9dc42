"""The lab's certificates and kubeconfig, made with the openssl command line (ECDSA P-256, valid 30 days).

    ca.crt/ca.key             the cluster CA (signs everything below, and is the API server's client CA)
    apiserver.crt/key         serving certificate: the Node IP, 127.0.0.1, the `kubernetes` Service IP and names
    admin.crt/key             client certificate in group system:masters (the CLI, the controller manager,
                              the node agent and kube-router all use it: a lab, not a hardened cluster)
    sa.key/sa.pub             service account token signing pair
    admin.kubeconfig          points at https://<Node IP>:6443 (reachable inside the lab's node namespace)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

DAYS = "30"


class PkiError(RuntimeError):
    pass


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PkiError(f"openssl {args[0]}: {proc.stderr.strip()}")


def _key(name: str, cwd: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key", cwd=cwd)
    (cwd / f"{name}.key").chmod(0o600)


def _leaf(name: str, subject: str, extensions: list[str], cwd: Path) -> None:
    _key(name, cwd)
    args = ["req", "-x509", "-new", "-key", f"{name}.key", "-subj", subject, "-days", DAYS,
            "-CA", "ca.crt", "-CAkey", "ca.key", "-out", f"{name}.crt"]
    for ext in extensions:
        args += ["-addext", ext]
    _openssl(*args, cwd=cwd)


def make(pki_dir: Path, node_ip: str, service_ip: str) -> None:
    """Create every file of the lab's PKI under `pki_dir` (which must be empty or absent)."""
    pki_dir.mkdir(parents=True, exist_ok=True)
    _key("ca", pki_dir)
    _openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=tenancy-lab-ca", "-days", DAYS,
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-out", "ca.crt", cwd=pki_dir)
    sans = ",".join([f"IP:{node_ip}", "IP:127.0.0.1", f"IP:{service_ip}", "DNS:localhost", "DNS:kubernetes",
                     "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
                     "DNS:kubernetes.default.svc.cluster.local"])
    _leaf("apiserver", "/CN=kube-apiserver",
          [f"subjectAltName={sans}", "extendedKeyUsage=serverAuth", "basicConstraints=critical,CA:FALSE",
           "keyUsage=critical,digitalSignature,keyEncipherment"], pki_dir)
    _leaf("admin", "/O=system:masters/CN=tenancy-lab-admin",
          ["extendedKeyUsage=clientAuth", "basicConstraints=critical,CA:FALSE",
           "keyUsage=critical,digitalSignature,keyEncipherment"], pki_dir)
    _key("sa", pki_dir)
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki_dir)


def kubeconfig(pki_dir: Path, server: str) -> str:
    return f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: {server}
    certificate-authority: {pki_dir / 'ca.crt'}
users:
- name: admin
  user:
    client-certificate: {pki_dir / 'admin.crt'}
    client-key: {pki_dir / 'admin.key'}
contexts:
- name: lab
  context: {{cluster: lab, user: admin}}
current-context: lab
"""
