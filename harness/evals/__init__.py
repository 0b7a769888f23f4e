"""Measurements of the whole agent with the real model (the prompt-injection suite)."""
