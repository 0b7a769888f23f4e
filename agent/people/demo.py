"""The people of a demo site: a demo engineer (the OS account running the demo, also its
administrator) and a demo operator, their personal keys in key files inside the demo site.

Demo only, like the demo site's own key file: anyone who copies the directory has the
keys. A real site enrols its people with their own passphrases (agent/people/README.md).
"""

from __future__ import annotations

from pathlib import Path

from agent.people.identity import os_account
from agent.people.keys import KeySecret, write_key_file
from agent.people.models import ADMIN_ROLE, Person
from agent.people.register import PeopleRegister

DEMO_ENGINEER = "Demo Engineer"
DEMO_OPERATOR = "Demo Operator"
#: The demo operator's account: no such login exists; the operator asks, never approves.
DEMO_OPERATOR_ACCOUNT = "demo-operator"
KEY_DIR = "people"
#: The demo site's signed policy file: its people share the OS account running the demo.
DEMO_PEOPLE_POLICY = """# Demo site only: the demo operator and the demo engineer share the OS
# account running `plantagent demo`. Signed by the demo engineer (its administrator).
[people]
match_os_account = false
"""


def enroll_demo_people(register: PeopleRegister, home: Path,
                       account: str | None = None) -> list[Person]:
    """Enrol the demo engineer (``account``, default the OS account running this, with
    the administrator role) and the demo operator (shift lead), each with a key file in
    ``home/people``; nothing when someone is enrolled already. Returns who was enrolled."""
    if not register.empty():
        return []
    keys = home / KEY_DIR
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    engineer_key = keys / "demo-engineer.key"
    operator_key = keys / "demo-operator.key"
    for path in (engineer_key, operator_key):
        path.unlink(missing_ok=True)  # left by an earlier, unfinished enrolment
        write_key_file(path)
    engineer = register.enroll(by=None, name=DEMO_ENGINEER, os_account=account or os_account(),
                               roles=[ADMIN_ROLE, "engineer"],
                               secret=KeySecret(key_file=engineer_key))
    admin = register.unlock(engineer, KeySecret(key_file=engineer_key))
    operator = register.enroll(by=admin, name=DEMO_OPERATOR, os_account=DEMO_OPERATOR_ACCOUNT,
                               roles=["shift_lead"], secret=KeySecret(key_file=operator_key))
    return [engineer, operator]
