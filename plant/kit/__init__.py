"""A kit for test plants that are mostly data: a definition (equipment, tags, couplings,
faults, naming style), a process built from agent.twin.physics, and a generic OPC UA
server with limit alarms, history and fault injection."""
