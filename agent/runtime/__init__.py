"""The site runtime: the one composition root every face builds the site's parts with
(see README.md)."""

from agent.runtime.site_parts import PassphraseSource
from agent.runtime.site_runtime import SiteRuntime
from agent.runtime.stores import Knowledge, SiteBlobStore, TwinStores

__all__ = ["Knowledge", "PassphraseSource", "SiteBlobStore", "SiteRuntime", "TwinStores"]
