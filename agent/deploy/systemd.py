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
CREDENTIAL_FILE = Path("/etc/plantagent/passphrase")
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
    return template.substitute(
        home=str(home), user=options.user, group=options.user,
        exec=str(options.executable or executable()), credential=str(options.credential),
        ip_allow="\n".join(ip_allow_lines(options.allowlist)), protect_home=protect,
    )


def account_steps(options: UnitOptions) -> list[str]:
    """The commands that prepare the service account, the site and the credential."""
    home = options.home.absolute()
    return [
        f"useradd --system --home-dir {home} --shell /usr/sbin/nologin {options.user}",
        f"chown -R {options.user}:{options.user} {home} && chmod 700 {home}",
        f"install -d -m 700 {options.credential.parent} && install -m 600 /dev/stdin "
        f"{options.credential}   # type the site passphrase, then Ctrl-D",
        f"cp {UNIT_NAME} /etc/systemd/system/ && systemctl daemon-reload && "
        f"systemctl enable --now {UNIT_NAME.removesuffix('.service')}",
    ]
