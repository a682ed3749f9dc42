"""The shared leaf: what every room agrees on about Kubernetes itself and about this project's labels.

`names` holds the API server's syntax for object names, label keys and values and port names; `labels` spells the
label contract once (tenant label, part-of/component, tier and platform names) for the builders that write it and
the analyses that read it back; `endpoints` is the one value type for `namespace/workload`, `ip:<address>` and
`cidr:<block>`; `problems` is the one error every reader raises for bad input, one located line per problem.

Imports nothing of the project (an import-linter contract): everything else imports it.
"""
