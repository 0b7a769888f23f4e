"""The panes of the terminal UI, one widget per module (see terminal_ui/README.md)."""
