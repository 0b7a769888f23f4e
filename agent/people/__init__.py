"""Enrolled people: the register, names, personal signing keys, who is acting.

See README.md in this directory.
"""
