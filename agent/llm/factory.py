"""build_chat_model: the one place a ChatModel is built from settings."""

from __future__ import annotations

from agent.errors import ConfigError, ModelError
from agent.llm.base import BlobStore, ChatModel
from agent.llm.registry import ModelManifest, load_manifest
from agent.llm.verify import VerificationCache
from agent.settings import Settings


def build_chat_model(
    settings: Settings,
    blob_store: BlobStore | None,
    *,
    verification: VerificationCache | None = None,
    manifest: ModelManifest | None = None,
) -> ChatModel:
    """The chat model ``settings.model`` describes.

    ``backend = "llama_cpp"``: the manifest entry ``model.name``, its file verified in
    ``settings.models_dir`` (``model.directory`` if set), ``model.threads`` and
    ``model.context_tokens``; its prefix state goes to ``blob_store`` (pass the vault's
    encrypted store; None keeps it in memory only). ``verification`` lets a process that
    builds several models hash each file once. ``backend = "openai"``: the on-site server
    at ``model.openai_base_url``, serving ``model.name``, constrained the way
    ``model.server_flavor`` says (``auto``: asked of the server at the first step).
    """
    cfg = settings.model
    manifest = manifest or load_manifest(settings)
    if cfg.backend == "openai":
        from agent.llm.openai_backend import OpenAIChatModel

        if not cfg.openai_base_url:
            raise ConfigError(
                "model.backend is \"openai\" but model.openai_base_url is not set",
                fix="set model.openai_base_url (e.g. http://10.0.0.5:8080/v1) in plantagent.toml",
            )
        sha = manifest.get(cfg.name).sha256 if cfg.name in manifest.names() else ""
        return OpenAIChatModel(
            cfg.openai_base_url, cfg.name, context_tokens=cfg.context_tokens, sha256=sha,
            timeout_s=cfg.server_timeout_s, flavor=cfg.server_flavor, slot=cfg.server_slot,
        )  # fmt: skip
    entry = manifest.get(cfg.name)
    if entry.role != "chat":
        raise ModelError(
            f"model {entry.name!r} is an {entry.role} model, not a chat model",
            fix="set model.name to a chat model (`plantagent models list`)",
        )
    require_llama_cpp()
    from agent.llm.llama_runtime import LlamaChatModel

    return LlamaChatModel(
        entry,
        entry.path_in(settings.models_dir),
        context_tokens=cfg.context_tokens,
        threads=cfg.threads,
        blob_store=blob_store,
        verification=verification,
    )


def expected_model(settings: Settings) -> tuple[str, str]:
    """(name, sha256) of the chat model ``settings`` names, from the manifest, without
    loading it ("" when an on-site server serves a model the manifest does not list)."""
    manifest = load_manifest(settings)
    name = settings.model.name
    return name, manifest.get(name).sha256 if name in manifest.names() else ""


def require_llama_cpp() -> None:
    """ModelError naming the install command when llama-cpp-python (the ``llm`` extra) is
    not installed: checked before anything imports it."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelError(
            "the local model runtime is not installed (llama-cpp-python, the `llm` extra)",
            fix="install it with `pip install 'plantagent[llm]'`, point model.backend at an "
            "on-site server (openai), or run without the model (e.g. --no-model)",
        )
