"""How the alarms table reads: priority colours, the state, counts, sorting and filtering.

Pure functions over the service's AlarmView records, so they are tested without a screen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text

from agent.service.views import AlarmView
from agent.site_time import SiteTime

ALARM_COLUMNS = (("Priority", 7), ("State", 15), ("Alarm", 28), ("Since", 11), ("Age", 5),
                 ("Message", 70))
#: Sort orders, cycled with `s`.
SORTS = ("priority", "time", "alarm")
#: Filters, cycled with `f`.
FILTERS = ("all", "unacknowledged", "acknowledged", "shelved")
#: Priority styles from the highest down; lower ones share the last.
PRIORITY_STYLES = ("bold white on red", "bold red", "bold yellow", "cyan")
_STATE_STYLES = {"unacknowledged": "bold", "acknowledged": "", "shelved": "italic magenta",
                 "cleared": "dim"}


def priority_style(alarm: AlarmView, top_rank: int) -> str:
    """The colour of a priority: the highest red, then red, yellow, cyan."""
    steps_down = max(0, top_rank - alarm.rank)
    return PRIORITY_STYLES[min(steps_down, len(PRIORITY_STYLES) - 1)]


def state_text(alarm: AlarmView) -> str:
    """'UNACK', 'acked', 'shelved 12m05s', 'one-shot', 'cleared'."""
    if alarm.status == "shelved":
        return f"shelved {alarm.left}".strip()
    if alarm.status == "unacknowledged":
        return "UNACK" if alarm.active is not False else "UNACK (cleared)"
    return "acked" if alarm.status == "acknowledged" else "cleared"


def alarm_cells(alarm: AlarmView, top_rank: int,
                site: SiteTime) -> tuple[Text, Text, str, str, str, str]:
    """The row of one alarm: since when in the site's time (the date when not today), and
    how long ago."""
    return (Text(alarm.priority, style=priority_style(alarm, top_rank)),
            Text(state_text(alarm), style=_STATE_STYLES[alarm.status]),
            alarm.name, site.show(alarm.since), site.age(alarm.since), alarm.message)


def arrange(alarms: Sequence[AlarmView], *, sort: str, filter_by: str) -> list[AlarmView]:
    """The alarms to show, filtered then sorted."""
    shown = [a for a in alarms if filter_by == "all" or a.status == filter_by]
    if sort == "time":
        return sorted(shown, key=lambda a: (a.since is None, -(a.since.timestamp())
                                            if a.since else 0.0, a.name))
    if sort == "alarm":
        return sorted(shown, key=lambda a: a.name)
    return sorted(shown, key=lambda a: (-a.rank, -a.severity, a.name))


def counts_line(alarms: Sequence[AlarmView], priorities: Sequence[str]) -> str:
    """'9 alarms · 3 unacknowledged · 1 shelved · urgent 1 · high 4 · medium 4'."""
    states = Counter(a.status for a in alarms)
    by_priority = Counter(a.priority for a in alarms)
    parts = [f"{len(alarms)} alarm(s)", f"{states['unacknowledged']} unacknowledged",
             f"{states['shelved']} shelved"]
    parts += [f"{p} {by_priority[p]}" for p in priorities if by_priority[p]]
    return " · ".join(parts)
