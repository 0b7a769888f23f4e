"""Which equipment feels another's faults and which way material flows between them:
from the site file, the descriptions' flow words, ISA loop series or the hierarchy.

Triage (agent.triage) scopes its signatures by these couplings, and the what-if
(agent.twin.whatif) finds the flows around a tank by them; both sit above the twin.
"""
