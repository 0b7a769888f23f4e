"""The shipped default policy files (TOML, package data); loaded by agent.policy.loader."""
