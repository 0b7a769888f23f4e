"""The installer inside a bundle: it runs before anything is installed.

Standard library only (plus the bundle's own ``cryptography`` wheel, loaded only after its
hash matched the bundle's file list): the build copies this package into the bundle as
``plantagent_installer/`` and ``install.py`` runs it with ``python3 -I -S -B``. The product
imports the same modules for ``plantagent bundle verify``, so there is one implementation of
the file list, the key files, the target check and the version order. Nothing here may
import ``agent`` or a third-party package at module level (import-linter checks it, and a
test runs the copied installer with ``-I -S``).
"""
