"""The air-gapped install: a signed offline bundle with its bill of materials.

See README.md in this directory. ``offline/`` is the installer that travels inside the
bundle (standard library only); the rest builds, verifies and finishes installs with the
product's own code.
"""
