"""Command-line interface of the tenancy project (`python -m tenancy ...`)."""
