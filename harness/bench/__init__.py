"""Benchmarks measured side by side in one run (`plantagent bench`), one module each."""
