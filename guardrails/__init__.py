"""The `tenancy` CrossGuard policy pack: `policies` holds the policies (importable, testable), `__main__` serves them."""
