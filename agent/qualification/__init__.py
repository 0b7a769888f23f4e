"""Qualification records of model files and the gate that refuses an unqualified model
(the runs that produce the records live in the harness: harness/qualify)."""
