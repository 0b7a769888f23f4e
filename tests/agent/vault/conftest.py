"""Fixtures of the vault tests: the shared plugin's (tests/support) fresh passphrase site
(``home``) and it unlocked (``site``), real sites in temporary directories, cheap scrypt.
Nothing of its own."""
