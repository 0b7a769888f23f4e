"""The question pipeline: typed steps of the model, policy-gated tools whose typed results
are the evidence, the change path decided by the policy, claim-level grounding, and the
one grounded writer (answers, triage summaries, the shift handover). See README.md."""
