"""The systemd unit of the site service, from the site's settings and policy.

The unit (``plantagent.service`` beside this module) runs ``plantagent serve`` under its
own account with the site passphrase as a systemd credential, and lets the kernel
enforce the egress allowlist: ``IPAddressDeny=any`` plus one ``IPAddressAllow=`` per
network the policy and the settings allow (the same list the in-process guard holds),
``RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6``, ``NoNewPrivileges=yes``,
``ProtectSystem=strict`` with only the site directory writable. Host names in the
allowlist cannot be given to the kernel: they are left out of the unit, said in it, and
must resolve to allowlisted addresses.
"""

from __future__ import annotations

import ipaddress
import shutil
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

UNIT_NAME = "plantagent.service"
SERVICE_USER = "plantagent"
#: The group whose members (the shift leads' OS accounts) may reach the service's socket.
PEOPLE_GROUP = "plantagent-users"
CREDENTIAL_FILE = Path("/etc/plantagent/passphrase")
#: The credential's name; `plantagent serve` reads $CREDENTIALS_DIRECTORY/<name>.
CREDENTIAL_NAME = "plantagent-passphrase"
#: Where home directories live: a site under one of them needs ProtectHome=read-only
#: (with the site made writable), anywhere else they are hidden from the service.
_HOMES = (Path("/home"), Path("/root"), Path("/run/user"))


@dataclass(frozen=True)
class UnitOptions:
    """What the unit is made for."""

    home: Path
    allowlist: tuple[str, ...]
    user: str = SERVICE_USER
    executable: Path | None = None
    credential: Path = CREDENTIAL_FILE
    #: The credential is sealed by systemd-creds (LoadCredentialEncrypted=): the file is
    #: useless off this machine (host key, TPM when present).
    encrypted: bool = False
    people_group: str = PEOPLE_GROUP


def executable() -> Path:
    """The `plantagent` of this installation (beside the running interpreter)."""
    beside = Path(sys.executable).with_name("plantagent")
    found = beside if beside.is_file() else Path(shutil.which("plantagent") or beside)
    return found.absolute()


def ip_allow_lines(allowlist: tuple[str, ...]) -> list[str]:
    """``IPAddressAllow=`` lines: loopback, then every network of the allowlist; host
    names become a comment (the kernel takes addresses only)."""
    lines = ["IPAddressAllow=localhost"]
    names = []
    for entry in allowlist:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            names.append(entry.strip())
            continue
        lines.append(f"IPAddressAllow={network.with_prefixlen}")
    if names:
        lines.append(f"# Host names allowed for lookups only: {', '.join(names)} (their "
                     "addresses must be in the list above)")
    return lines


def render_unit(options: UnitOptions) -> str:
    """The unit file's text."""
    template = Template((files("agent.deploy") / UNIT_NAME).read_text(encoding="utf-8"))
    home = options.home.absolute()
    protect = "read-only" if any(home.is_relative_to(h) for h in _HOMES) else "yes"
    directive = "LoadCredentialEncrypted" if options.encrypted else "LoadCredential"
    return template.substitute(
        home=str(home), user=options.user, group=options.user,
        exec=str(options.executable or executable()), people_group=options.people_group,
        load_credential=f"{directive}={CREDENTIAL_NAME}:{options.credential}",
        ip_allow="\n".join(ip_allow_lines(options.allowlist)), protect_home=protect,
    )


def account_steps(options: UnitOptions) -> list[str]:
    """The commands that prepare the service account, the site and the credential."""
    home = options.home.absolute()
    if options.encrypted:
        secret = (f"install -d -m 700 {options.credential.parent} && systemd-creds encrypt "
                  f"--name={CREDENTIAL_NAME} - {options.credential}   # type the site "
                  "passphrase, then Ctrl-D")
    else:
        secret = (f"install -d -m 700 {options.credential.parent} && install -m 600 "
                  f"/dev/stdin {options.credential}   # type the site passphrase, then Ctrl-D")
    group = options.people_group
    return [
        f"useradd --system --home-dir {home} --shell /usr/sbin/nologin {options.user}",
        # The site stays the service's; the people's group may only pass through the
        # directory to the socket (mode 0710), never list or read it.
        f"groupadd --system {group} && usermod -aG {group} {options.user}   # then: "
        f"usermod -aG {group} ACCOUNT for each shift lead",
        f"chown -R {options.user}:{options.user} {home} && chgrp {group} {home} && "
        f"chmod 710 {home}",
        secret,
        f"cp {UNIT_NAME} /etc/systemd/system/ && systemctl daemon-reload && "
        f"systemctl enable --now {UNIT_NAME.removesuffix('.service')}",
    ]
