"""The review backend of a pane: ``service.review``, or a clear error when it is missing."""

from __future__ import annotations

from typing import Protocol

from agent.errors import UsageError
from agent.service.review import ReviewService
from agent.site_time import SiteTime


class ReviewHost(Protocol):
    """What the review panes need of the agent service: its review backend."""

    review: ReviewService | None


def review_of(service: ReviewHost) -> ReviewService:
    """``service.review``; UsageError when the service was opened without it."""
    if service.review is None:
        raise UsageError("this agent service has no review backend",
                         fix="open it with agent.service.open_service, which sets one")
    return service.review


def site_time_of(service: ReviewHost) -> SiteTime:
    """How the pane shows times: the site's clock, or UTC without a review backend."""
    return service.review.site_time if service.review is not None else SiteTime()
