"""Pure-Python physics of the demo line, one module per equipment class, no I/O."""
