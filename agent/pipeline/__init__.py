"""The agent loop: one constrained step at a time, policy-gated tools, cited evidence,
grounded answers."""
