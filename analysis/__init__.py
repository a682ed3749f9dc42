"""Everything that proves things about manifests, without Pulumi.

- `reachability`: the engine (manifests -> compiled policies -> verdicts with reasons).
- `review`: two manifest sets compared: flows gained and lost, resources changed, warnings, the PR comment.
- `checks`: `tenancy check` and the CrossGuard pack: invariants, apiserver/OpenAPI validation, declared intent.

May import `kube` and the pure program half (`stackconfig`, `policies`, `specs`), never Pulumi, `components`,
`program`, the front ends (`tenancy`, `guardrails`) or `tests`. `reachability` imports only `kube`.
"""
