"""`tenancy lab`: a real control plane and NetworkPolicy dataplane on one Linux machine (see `tenancy lab --help`)."""
