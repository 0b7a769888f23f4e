"""The prefix measure: each part counted is the text the product puts in the prompt."""

from __future__ import annotations

from harness.bench.prefix_size import measure, plant_parts, table


async def test_the_parts_are_the_prefix_a_test_plant_gets() -> None:
    (whole, rules, tools, catalog), tags, equipment = await plant_parts("waterworks")
    assert tags > 0 and equipment > 0
    assert "read_tags(" in tools and tools in whole
    assert catalog.strip() and catalog in whole
    # The rules are the prefix without the tool and catalog lines.
    assert len(rules) + len(tools) + len(catalog) == len(whole)


def test_each_part_is_counted_with_the_tokenizer_given() -> None:
    words = lambda text: len(text.split())  # noqa: E731
    size = measure("p", ("a b c d e f", "a b", "c d e", "f"), tags=3, equipment=1, count=words)
    assert (size.rules, size.tools, size.catalog, size.total) == (2, 3, 1, 6)
    assert "| p | 3 | 1 | 2 | 3 | 1 | 6 |" in table([size])
