"""The system's own sentence for a fact, used where the model's sentence could not be
grounded: "<tag> is <value> <unit> at <time> UTC", with the limit it is outside of, or
the statistics of a history, or the trend.

Each sentence states only fields of one fact, so it passes the grounding check by
construction (the tests check that it does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from agent.pipeline.grounding.facts import Fact, FactBook


def value_text(value: float) -> str:
    """A value as a gauge shows it: up to 4 significant digits, never scientific."""
    if value == 0 or abs(value) >= 1e4:
        return f"{value:.0f}" if abs(value) >= 1e4 else "0"
    text = f"{value:.4g}"
    if "e" in text:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text


def _unit(unit: str | None) -> str:
    return f" {unit}" if unit else ""


def _clock(moment: datetime | None) -> str:
    return f" at {moment.astimezone(UTC):%H:%M:%S} UTC" if moment is not None else ""


def reading_sentence(fact: Fact, label: str | None = None) -> str:
    """'<tag> is <value> <unit> at <time> UTC', with the limit when it is outside;
    ``label`` names the equipment when the tag's own name does not ('PLC.TT_2034.PV
    (RW PUMP 1)')."""
    name = f"{fact.tag} ({label})" if label else f"{fact.tag}"
    if fact.value is None:
        quality = fact.quality or "bad"
        return f"{name} has no usable value (quality {quality}){_clock(fact.when)}."
    text = f"{name} is {value_text(fact.value)}{_unit(fact.unit)}{_clock(fact.when)}"
    if fact.side == "high" and fact.high is not None:
        text += f", above its high limit of {value_text(fact.high)}{_unit(fact.unit)}"
    elif fact.side == "low" and fact.low is not None:
        text += f", below its low limit of {value_text(fact.low)}{_unit(fact.unit)}"
    if fact.stale:
        text += " (stale)"
    elif fact.quality and fact.quality != "good":
        text += f" (quality {fact.quality})"
    return text + "."


def past_value_sentence(book: FactBook, tag: str, at: datetime,
                        label: str | None = None) -> tuple[str, str] | None:
    """'<tag> was <value> <unit> at <time> UTC.', from the history sample nearest to
    ``at`` (None without samples of the tag)."""
    samples = [f for f in book.of_kind("stat", tags=[tag])
               if f.name == "sample" and f.when is not None and f.value is not None]
    if not samples:
        return None
    near = min(samples, key=lambda f: abs((f.when - at).total_seconds()))  # type: ignore[operator]
    name = f"{tag} ({label})" if label else tag
    # The time says when ("20 minutes ago" would be a duration no evidence states).
    text = f"{name} was {value_text(near.value or 0.0)}{_unit(near.unit)}{_clock(near.when)}."
    return text, near.source


def history_sentence(tag: str, stats: list[Fact]) -> str | None:
    """'<tag> over the cited window: min 1, max 3, mean 2 <unit>.'"""
    named = {f.name: f for f in stats if f.name in ("min", "max", "mean")}
    if not named:
        return None
    unit = next((f.unit for f in named.values() if f.unit), None)
    parts = [f"{k} {value_text(named[k].value or 0.0)}" for k in ("min", "max", "mean")
             if k in named]
    return f"{tag} over the cited window: {', '.join(parts)}{_unit(unit)}."


def trend_sentence(fact: Fact) -> str:
    """'<tag> is rising (2.1 <unit> per hour).'"""
    word = {"up": "rising", "down": "falling"}.get(fact.direction or "", "steady")
    return f"{fact.tag} is {word} ({value_text(fact.value or 0.0)}{_unit(fact.unit)} per hour)."


def facts_sentences(book: FactBook, tags: Iterable[str] | None,
                    labels: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(sentence, evidence id) for the facts about ``tags`` (None: every tag the
    evidence holds a reading of, and the outcome of a limit check); ``labels``: the
    equipment of tags whose names do not say it."""
    labels = labels or {}
    wanted = None if tags is None else list(dict.fromkeys(tags))
    out: list[tuple[str, str]] = []
    readings: dict[str, Fact] = {}
    for fact in book.of_kind("reading"):
        if fact.tag and (wanted is None or fact.tag in wanted) and fact.name != "last":
            readings[fact.tag] = fact  # the latest reading of each tag
    for fact in book.of_kind("reading"):
        if fact.tag and fact.tag not in readings and (wanted is None or fact.tag in wanted):
            readings[fact.tag] = fact  # else the last sample of a history
    order = wanted if wanted is not None else list(readings)
    for tag in order:
        if tag in readings:
            out.append((reading_sentence(readings[tag], labels.get(tag)),
                        readings[tag].source))
        stats = [f for f in book.of_kind("stat", tags=[tag]) if f.name != "sample"]
        line = history_sentence(tag, stats)
        if line and stats:
            out.append((line, stats[0].source))
        trend = next(iter(book.of_kind("trend", tags=[tag])), None)
        if trend is not None:
            out.append((trend_sentence(trend), trend.source))
    if wanted is None:
        for scope in book.scopes:
            if not scope.outside:
                out.append((f"None of the {scope.checked} checked tags is outside its normal "
                            "range.", scope.source))
    return out
