"""The terminal UI of plantagent (Textual); see README.md. Start it with `plantagent tui`."""
