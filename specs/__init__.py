"""Pure builders of the non-policy Kubernetes objects (namespaces, quotas, workloads, Services); no Pulumi import.

Each returns a complete manifest dict, so components only wire them up and the render shows exactly these.
"""
