"""The shipped fault library (data): signatures keyed by equipment class and tag role."""
