"""Where a model named by the user comes from: a local folder, the hub's local cache, or the hub itself.

Shared by the text and image backends, so that an unknown or unreachable hub id fails the same way
everywhere: fast (one metadata request with a short timeout instead of from_pretrained's retries)
and with one readable line.
"""

from playground import config


def hub_source(name: str, probe_file: str, offline_hint: str) -> dict:
    """from_pretrained arguments for a hub id: the local cache when it has probe_file, else the hub if reachable.

    offline_hint ends the message shown when the hub cannot be reached (what works offline instead).
    """
    from huggingface_hub import HfApi, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        raise ValueError(f"model must be a local model folder or a hub id like 'org/name', got {name!r}") from None
    if isinstance(try_to_load_from_cache(name, probe_file), str):
        return {"local_files_only": True}
    try:
        HfApi().model_info(name, timeout=config.HUB_TIMEOUT_S)
    except Exception as error:  # no network, DNS, timeout, HTTP status: all mean "cannot get it now"
        if "404" in str(error) or "401" in str(error):
            raise ValueError(f"model {name!r} is not a local folder and was not found on the Hugging Face hub") from None
        raise ValueError(
            f"model {name!r} is not on this machine and the Hugging Face hub cannot be reached (offline?); {offline_hint}"
        ) from None
    return {}


def first_line(error: Exception) -> str:
    """A loader's exception as one short line for the user."""
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
