"""Automated incident triage: watch alarms and trends, group, diagnose, report."""
