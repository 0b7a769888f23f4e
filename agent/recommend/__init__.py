"""Which approved chat model this machine should run (``plantagent models recommend``):
memory, cores, each model's speed measured here, the policy's budget and qualification."""
