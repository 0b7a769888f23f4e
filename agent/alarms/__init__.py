"""Alarm work: acting on alarms through the policy gate, shelve requests, the alarm
journal, and the alarm performance report (ISA-18.2 / IEC 62682)."""
