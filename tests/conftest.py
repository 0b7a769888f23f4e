"""The shared fixtures plugin (tests/support/fixtures.py) for every test directory."""

pytest_plugins = ["tests.support.fixtures"]
