"""What `tenancy check` and the CrossGuard pack prove about a set of manifests.

- `invariants`: the tenancy invariants over the engine's flows (one pure `check`).
- `validation`: what the API server and the upstream OpenAPI schema would reject.
- `intent`: the flows and probe addresses a stack config declares; `cluster_context`: the cluster services
  (DNS, monitoring) the program relies on but does not deploy, as stand-ins for the analyses.
- `proof`: a config's own objects (`specs.plan`) with the cluster around them and an intruder, through the engine,
  next to the flows the config declares - what the seed scenarios and the property tests prove.
- `violation`: the one finding type all of them report.

May import `kube`, `analysis.reachability` and the pure program half (`stackconfig`, `policies`, `specs`).
"""
