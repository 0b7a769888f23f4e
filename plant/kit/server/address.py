"""A test plant's address space, built in one batch from its definition.

Folders are objects (event notifiers where they hold alarmed tags); a tag with a unit or
a range is an AnalogItemType with EngineeringUnits and EURange properties as the plant
gives them, otherwise a BaseDataVariableType; descriptions in the plant's language.
Objects/Simulation holds the control methods, as on the demo plant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asyncua import Server, ua

from plant.kit.server.ids import IdMaker, node_id
from plant.kit.spec import PlantDef, TagDef
from plant.kit.units import KIT_UNITS, UNECE_NAMESPACE
from plant.server.uatypes import std_id

SIMULATION = "Simulation"
NOTIFIER = ua.EventNotifier.SubscribeToEvents.mask | ua.EventNotifier.HistoryRead.mask


@dataclass
class KitAddressSpace:
    """Node ids the server needs at run time."""

    namespace_index: int
    folders: dict[tuple[str, ...], ua.NodeId] = field(default_factory=dict)
    tags: dict[str, ua.NodeId] = field(default_factory=dict)
    notifiers: list[ua.NodeId] = field(default_factory=list)
    simulation: ua.NodeId | None = None


def _text(text: str, locale: str) -> ua.LocalizedText:
    return ua.LocalizedText(text, locale) if text else ua.LocalizedText()


def _object(nid: ua.NodeId, name: str, idx: int, parent: ua.NodeId, ref: int,
            desc: ua.LocalizedText, notifier: bool) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = nid
    item.BrowseName = ua.QualifiedName(name, idx)
    item.NodeClass = ua.NodeClass.Object
    item.ParentNodeId = parent
    item.ReferenceTypeId = std_id(ref)
    item.TypeDefinition = std_id(ua.ObjectIds.BaseObjectType)
    attrs = ua.ObjectAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = desc
    attrs.EventNotifier = NOTIFIER if notifier else 0
    item.NodeAttributes = attrs
    return item


def _variable(nid: ua.NodeId, name: str, idx: int, parent: ua.NodeId, value: ua.Variant,
              datatype: int, *, prop: bool, desc: ua.LocalizedText,
              type_def: int) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = nid
    item.BrowseName = ua.QualifiedName(name, 0 if prop else idx)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = std_id(ua.ObjectIds.HasProperty if prop else ua.ObjectIds.HasComponent)
    item.TypeDefinition = std_id(type_def)
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.Description = desc
    attrs.DataType = std_id(datatype)
    attrs.Value = value
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.ArrayDimensions = []
    attrs.WriteMask = 0
    attrs.UserWriteMask = 0
    access = ua.AccessLevel.CurrentRead.mask
    if not prop:
        access |= ua.AccessLevel.HistoryRead.mask
    attrs.AccessLevel = access
    attrs.UserAccessLevel = access
    attrs.Historizing = not prop
    attrs.MinimumSamplingInterval = 0.0 if prop else 500.0
    item.NodeAttributes = attrs
    return item


def variant(tag: TagDef, value: float) -> ua.Variant:
    """The value of a tag as its data type."""
    if tag.data_type == "Boolean":
        return ua.Variant(bool(value >= 0.5), ua.VariantType.Boolean)
    return ua.Variant(float(value), ua.VariantType.Double)


def _tag_nodes(plant: PlantDef, ids: IdMaker, idx: int, tag: TagDef, parent: ua.NodeId,
               initial: float) -> list[ua.AddNodesItem]:
    analog = tag.data_type == "Double" and (tag.unit is not None or tag.show_range)
    datatype = ua.ObjectIds.Boolean if tag.data_type == "Boolean" else ua.ObjectIds.Double
    var = _variable(
        node_id(tag.node, idx), tag.browse_name, idx, parent, variant(tag, initial), datatype,
        prop=False, desc=_text(tag.description, plant.language),
        type_def=ua.ObjectIds.AnalogItemType if analog else ua.ObjectIds.BaseDataVariableType,
    )
    items = [var]
    if tag.unit is not None:
        unit = KIT_UNITS[tag.unit]
        eu = ua.EUInformation(NamespaceUri=UNECE_NAMESPACE, UnitId=unit.unit_id,
                              DisplayName=ua.LocalizedText(unit.symbol),
                              Description=ua.LocalizedText(unit.description))
        items.append(_variable(
            node_id(ids.prop(tag.node, "EngineeringUnits"), idx), "EngineeringUnits", idx,
            var.RequestedNewNodeId, ua.Variant(eu, ua.VariantType.ExtensionObject),
            ua.ObjectIds.EUInformation, prop=True, desc=ua.LocalizedText(),
            type_def=ua.ObjectIds.PropertyType))
    if tag.show_range and tag.data_type == "Double":
        items.append(_variable(
            node_id(ids.prop(tag.node, "EURange"), idx), "EURange", idx,
            var.RequestedNewNodeId,
            ua.Variant(ua.Range(Low=tag.low, High=tag.high), ua.VariantType.ExtensionObject),
            ua.ObjectIds.Range, prop=True, desc=ua.LocalizedText(),
            type_def=ua.ObjectIds.PropertyType))
    return items


def folder_paths(plant: PlantDef) -> list[tuple[str, ...]]:
    """Every folder path the tags and equipment need, parents first, in served order."""
    out: list[tuple[str, ...]] = []
    wanted = [t.folder for t in plant.tags] + [e.folder for e in plant.equipment if e.folder]
    for path in wanted:
        for i in range(1, len(path) + 1):
            if path[:i] not in out:
                out.append(path[:i])
    return out


async def build_address_space(server: Server, plant: PlantDef,
                              initial: dict[str, float]) -> KitAddressSpace:
    """Add every node of ``plant`` to ``server`` in one batch."""
    idx = await server.register_namespace(plant.namespace_uri)
    space = KitAddressSpace(namespace_index=idx)
    ids = IdMaker(plant)
    objects = std_id(ua.ObjectIds.ObjectsFolder)
    holders = {t.folder for t in plant.tags if t.alarm}
    items: list[ua.AddNodesItem] = []
    for path in folder_paths(plant):
        parent = space.folders.get(path[:-1], objects)
        ref = ua.ObjectIds.Organizes if len(path) == 1 else ua.ObjectIds.HasComponent
        desc = _text(plant.folder_descriptions.get(path, ""), plant.language)
        nid = node_id(ids.folder(path), idx)
        items.append(_object(nid, path[-1], idx, parent, ref, desc, path in holders))
        space.folders[path] = nid
        if path in holders:
            space.notifiers.append(nid)
    for tag in plant.tags:
        nodes = _tag_nodes(plant, ids, idx, tag, space.folders[tag.folder], initial[tag.key])
        items.extend(nodes)
        space.tags[tag.key] = nodes[0].RequestedNewNodeId
    sim = _object(node_id(SIMULATION if plant.numeric_base is None else ids.folder(()), idx),
                  SIMULATION, idx, objects, ua.ObjectIds.Organizes,
                  ua.LocalizedText("Simulator control: inject and clear fault modes"), False)
    items.append(sim)
    space.simulation = sim.RequestedNewNodeId
    results = await server.iserver.isession.add_nodes(items)
    for item, result in zip(items, results, strict=True):
        if not result.StatusCode.is_good():
            raise RuntimeError(f"could not add node {item.RequestedNewNodeId}: {result.StatusCode}")
    await _link_notifiers(server, space)
    return space


async def _link_notifiers(server: Server, space: KitAddressSpace) -> None:
    """Server -> alarm-holding objects HasNotifier; the Server object keeps event history."""
    refs = []
    for nid in space.notifiers:
        ref = ua.AddReferencesItem()
        ref.SourceNodeId = std_id(ua.ObjectIds.Server)
        ref.ReferenceTypeId = std_id(ua.ObjectIds.HasNotifier)
        ref.IsForward = True
        ref.TargetNodeId = nid
        ref.TargetNodeClass = ua.NodeClass.Object
        refs.append(ref)
    for status in await server.iserver.isession.add_references(refs):
        status.check()
    await server.get_node(ua.ObjectIds.Server).write_attribute(
        ua.AttributeIds.EventNotifier, ua.DataValue(ua.Variant(NOTIFIER, ua.VariantType.Byte)))
