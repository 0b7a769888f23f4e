"""What a bundle holds, by name, and the constants of its signature.

```
plantagent-<version>-<python>-<platform>/
  SHA256SUMS                 sha256 of every other file (`sha256sum -c` format): SIGNED
  SHA256SUMS.ed25519.sig     raw Ed25519 signature over SHA256SUMS
  SHA256SUMS.mldsa65.sig     raw ML-DSA-65 signature over SHA256SUMS (context below)
  manifest.json              version, target, wheels, models (listed in SHA256SUMS)
  sbom.cdx.json              CycloneDX SBOM of everything inside
  install.sh, install.py     the entry points; plantagent_installer/ this package
  README.txt                 how to verify and install
  wheels/*.whl               every wheel of plantagent[llm] for the target
  models/*.gguf              the approved model files
```
"""

from __future__ import annotations

SUMS = "SHA256SUMS"
SIG_ED25519 = "SHA256SUMS.ed25519.sig"
SIG_MLDSA65 = "SHA256SUMS.mldsa65.sig"
#: The only files of a bundle not listed in SHA256SUMS (the list and its signatures).
UNLISTED = frozenset({SUMS, SIG_ED25519, SIG_MLDSA65})

MANIFEST = "manifest.json"
SBOM = "sbom.cdx.json"
README = "README.txt"
INSTALL_PY = "install.py"
INSTALL_SH = "install.sh"
INSTALLER_PACKAGE = "plantagent_installer"
WHEELS = "wheels"
MODELS = "models"

MANIFEST_FORMAT = "plantagent-bundle"
MANIFEST_FORMAT_VERSION = 1
PUBLIC_KEY_FORMAT = "plantagent-release-public-key"

#: ML-DSA context string of release signatures: a site's audit signature (another
#: context) can never pass for a release signature, nor the other way round.
MLDSA_CONTEXT = b"plantagent-release-v1"
#: Fingerprint of a key pair: sha256 over this prefix and both raw public keys (the same
#: rule as a site's audit keys, so one procedure checks both).
FINGERPRINT_PREFIX = b"plantagent-keys\0"
ED25519_SIG_LEN = 64
MLDSA65_SIG_LEN = 3309
ED25519_KEY_LEN = 32
MLDSA65_KEY_LEN = 1952

#: Where a site keeps the release keys it trusts: <home>/release-keys/<fingerprint>.json.
TRUSTED_KEYS_DIR = "release-keys"
