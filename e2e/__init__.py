"""Cluster end-to-end helpers run by .github/workflows/e2e-kind.yml (importable for their unit tests)."""
