"""Tests of the GitHub workflows, their lint, and the scripts they run (e2e probe, PR comment)."""
