"""The real embedding model decides a tag the rules could not (words they do not know),
only with a margin, and says so in the reason; noise stays unresolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import load_settings
from agent.twin.embeddings.runtime import load_embedder
from agent.twin.semantics.embedded import resolve_with_embeddings
from agent.twin.semantics.infer import infer
from tests.support.models import shared_model_dir
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo

pytestmark = pytest.mark.model


def test_embedding_fallback_decides_with_a_margin(tmp_path: Path) -> None:
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    texts = [("X2", "Amount of liquid passing through per hour"),
             ("X3", "Heat of the bearing housing in degrees"),
             ("X5", "Zzz qqq")]
    tags = [TagInfo(name=f"Unit9.{n}", equipment="Unit9", browse_path=["Unit9", n],
                    node_id=f"nsu=urn:x;s={n}", namespace_uri="urn:x", description=d)
            for n, d in texts]
    catalog.add(EquipmentInfo(name="Unit9", browse_path=["Unit9"], node_id="u9"), tags)
    semantics = infer(catalog)
    assert len(semantics.unresolved()) == 3  # no word the rules know
    settings = load_settings(home=tmp_path, model={"directory": shared_model_dir(),
                                                   "threads": 1})
    embedder = load_embedder(settings, assemble=False)
    try:
        assert resolve_with_embeddings(semantics, catalog, embedder) == 2
    finally:
        embedder.close()
    flow, heat, noise = (semantics.tags[f"Unit9.{n}"] for n, _ in texts)
    assert (flow.quantity, heat.quantity) == ("flow", "temperature")
    assert "nearest prototype flow" in flow.reasons[-1] and flow.confidence <= 0.7
    assert noise.quantity is None and "too close to decide" in noise.reasons[-1]
