"""The demo plant's address space, built in one batch from the tag catalogue.

Objects/DemoSite/ProcessArea/Line1/<equipment>/<variable>; every variable an
AnalogItemType with EngineeringUnits, EURange and a Description; equipment objects are
event notifiers. Only the setpoint variables (``TagSpec.writable``) accept client writes
(AccessLevel and UserAccessLevel CurrentRead|CurrentWrite); everything else is read-only.
Objects/Simulation holds only the control methods. Node ids are strings
in the plant namespace, so they are stable across restarts: "P-101", "P-101.FlowRate".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asyncua import Server, ua

from plant.server.uatypes import plant_id, std_id
from plant.tags import EQUIPMENT, TAGS, TagSpec
from plant.units import UNECE_NAMESPACE, UNITS

NAMESPACE_URI = "urn:plantagent:demo-plant"
SITE, AREA, LINE = "DemoSite", "ProcessArea", "Line1"
SIMULATION = "Simulation"
NOTE_VARIABLE = "OperatorNote"
#: Equipment and the Server object: events can be subscribed to and read from history.
NOTIFIER = ua.EventNotifier.SubscribeToEvents.mask | ua.EventNotifier.HistoryRead.mask


@dataclass
class AddressSpace:
    """Node ids the server needs at run time."""

    namespace_index: int
    equipment: dict[str, ua.NodeId] = field(default_factory=dict)
    tags: dict[str, ua.NodeId] = field(default_factory=dict)
    #: Free-text operator notes ("<equipment>.OperatorNote"), only when asked for.
    notes: dict[str, ua.NodeId] = field(default_factory=dict)
    simulation: ua.NodeId | None = None


def _object(
    idx: int, ident: str, name: str, parent: ua.NodeId, ref: int, desc: str, notifier: bool = False
) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = plant_id(ident, idx)
    item.BrowseName = ua.QualifiedName(name, idx)
    item.NodeClass = ua.NodeClass.Object
    item.ParentNodeId = parent
    item.ReferenceTypeId = std_id(ref)
    item.TypeDefinition = std_id(ua.ObjectIds.BaseObjectType)
    attrs = ua.ObjectAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = ua.LocalizedText(desc)
    attrs.EventNotifier = NOTIFIER if notifier else 0
    item.NodeAttributes = attrs
    return item


def _variable(
    idx: int,
    ident: str,
    name: str,
    parent: ua.NodeId,
    value: ua.Variant,
    datatype: int,
    *,
    prop: bool,
    desc: str,
    writable: bool = False,
) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = plant_id(ident, idx)
    item.BrowseName = ua.QualifiedName(name, 0 if prop else idx)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = std_id(ua.ObjectIds.HasProperty if prop else ua.ObjectIds.HasComponent)
    item.TypeDefinition = std_id(ua.ObjectIds.PropertyType if prop else ua.ObjectIds.AnalogItemType)
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = ua.LocalizedText(desc)
    attrs.DataType = std_id(datatype)
    attrs.Value = value
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.ArrayDimensions = []
    attrs.WriteMask = 0
    attrs.UserWriteMask = 0
    access = ua.AccessLevel.CurrentRead.mask
    if not prop:
        access |= ua.AccessLevel.HistoryRead.mask
    if writable:
        access |= ua.AccessLevel.CurrentWrite.mask
    attrs.AccessLevel = access
    attrs.UserAccessLevel = access
    attrs.Historizing = not prop
    attrs.MinimumSamplingInterval = 0.0 if prop else 500.0
    item.NodeAttributes = attrs
    return item


def _tag_nodes(idx: int, spec: TagSpec, parent: ua.NodeId, initial: float) -> list[ua.AddNodesItem]:
    unit = UNITS[spec.unit]
    eu = ua.EUInformation(
        NamespaceUri=UNECE_NAMESPACE,
        UnitId=unit.unit_id,
        DisplayName=ua.LocalizedText(unit.symbol),
        Description=ua.LocalizedText(unit.description),
    )
    var = _variable(
        idx,
        spec.name,
        spec.variable,
        parent,
        ua.Variant(float(initial), ua.VariantType.Double),
        ua.ObjectIds.Double,
        prop=False,
        desc=spec.description,
        writable=spec.writable,
    )
    var_id = var.RequestedNewNodeId
    return [
        var,
        _variable(
            idx,
            f"{spec.name}.EngineeringUnits",
            "EngineeringUnits",
            var_id,
            ua.Variant(eu, ua.VariantType.ExtensionObject),
            ua.ObjectIds.EUInformation,
            prop=True,
            desc="Engineering unit (UNECE code)",
        ),
        _variable(
            idx,
            f"{spec.name}.EURange",
            "EURange",
            var_id,
            ua.Variant(ua.Range(Low=spec.low, High=spec.high), ua.VariantType.ExtensionObject),
            ua.ObjectIds.Range,
            prop=True,
            desc="Normal operating range; alarms outside it",
        ),
    ]


def _note_node(idx: int, equipment: str, parent: ua.NodeId) -> ua.AddNodesItem:
    """A read-only String variable operators (or an HMI) fill with free text."""
    item = _variable(
        idx, f"{equipment}.{NOTE_VARIABLE}", NOTE_VARIABLE, parent,
        ua.Variant("", ua.VariantType.String), ua.ObjectIds.String, prop=False,
        desc="Free-text operator note for this equipment (typed by people, untrusted)",
    )
    item.TypeDefinition = std_id(ua.ObjectIds.BaseDataVariableType)
    attrs = item.NodeAttributes
    attrs.AccessLevel = attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
    attrs.Historizing = False
    return item


async def build_address_space(
    server: Server, initial: dict[str, float], notes: tuple[str, ...] = ()
) -> AddressSpace:
    """Add every plant node to ``server`` in one batch; return the ids needed later.
    ``notes``: equipment that get an OperatorNote String variable."""
    idx = await server.register_namespace(NAMESPACE_URI)
    space = AddressSpace(namespace_index=idx)
    objects = std_id(ua.ObjectIds.ObjectsFolder)
    area_ident, line_ident = f"{SITE}.{AREA}", f"{SITE}.{AREA}.{LINE}"
    site, area, line = (plant_id(i, idx) for i in (SITE, area_ident, line_ident))
    organizes, component = ua.ObjectIds.Organizes, ua.ObjectIds.HasComponent
    items = [
        _object(idx, SITE, SITE, objects, organizes, "Demo site of the plantagent simulator"),
        _object(idx, area_ident, AREA, site, component, "Liquid processing and packing"),
        _object(
            idx,
            line_ident,
            LINE,
            area,
            component,
            "Feed, pump, cool and pack line with plant air",
        ),
    ]
    for eq in EQUIPMENT:
        node = _object(idx, eq.name, eq.name, line, component, eq.description, notifier=True)
        items.append(node)
        space.equipment[eq.name] = node.RequestedNewNodeId
    for spec in TAGS:
        nodes = _tag_nodes(idx, spec, space.equipment[spec.equipment], initial[spec.name])
        items.extend(nodes)
        space.tags[spec.name] = nodes[0].RequestedNewNodeId
    for equipment in notes:
        note = _note_node(idx, equipment, space.equipment[equipment])
        items.append(note)
        space.notes[equipment] = note.RequestedNewNodeId
    sim = _object(
        idx,
        SIMULATION,
        SIMULATION,
        objects,
        organizes,
        "Simulator control: inject and clear fault modes",
    )
    items.append(sim)
    space.simulation = sim.RequestedNewNodeId
    results = await server.iserver.isession.add_nodes(items)
    for item, result in zip(items, results, strict=True):
        if not result.StatusCode.is_good():
            raise RuntimeError(f"could not add node {item.RequestedNewNodeId}: {result.StatusCode}")
    await _link_notifiers(server, space)
    return space


async def _link_notifiers(server: Server, space: AddressSpace) -> None:
    """Server -> equipment HasNotifier, so event browsers find where alarms come from."""
    refs = []
    for node_id in space.equipment.values():
        ref = ua.AddReferencesItem()
        ref.SourceNodeId = std_id(ua.ObjectIds.Server)
        ref.ReferenceTypeId = std_id(ua.ObjectIds.HasNotifier)
        ref.IsForward = True
        ref.TargetNodeId = node_id
        ref.TargetNodeClass = ua.NodeClass.Object
        refs.append(ref)
    for status in await server.iserver.isession.add_references(refs):
        status.check()
    await server.get_node(ua.ObjectIds.Server).write_attribute(
        ua.AttributeIds.EventNotifier,
        ua.DataValue(ua.Variant(NOTIFIER, ua.VariantType.Byte)),
    )
