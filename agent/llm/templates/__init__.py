"""Chat templates shipped as package data (see models/manifest.toml chat_format)."""
