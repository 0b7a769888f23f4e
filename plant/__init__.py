"""The embedded demo plant: a simulated production line served over OPC UA.

``plant.model.PlantModel`` is the physics, faults and sensors without any server;
``plant.server.DemoPlantServer`` serves it with asyncua. See README.md.
"""
