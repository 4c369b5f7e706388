"""The OpenAI client shared by the text and image backends, and its failures as short readable messages.

The key comes from the caller (one browser session) or from OPENAI_API_KEY; it is handed to the
client and never logged, stored or put into a message.
"""

import os
from urllib.parse import urlparse

import openai

from playground import config
from playground.validation import check_text

MAX_FIELD_CHARS = 300  # base URL, key and model name


def make_client(base_url: str, api_key: str) -> openai.OpenAI:
    """A client for the OpenAI API, or for the compatible server at base_url; the key is only handed to it."""
    base_url = check_text("base_url", base_url, MAX_FIELD_CHARS, required=False).strip()
    api_key = check_text("api_key", api_key, MAX_FIELD_CHARS, required=False).strip()
    if base_url and (urlparse(base_url).scheme not in ("http", "https") or not urlparse(base_url).netloc):
        raise ValueError(f"base_url must be an http:// or https:// address, got {base_url!r}")
    key = api_key or os.environ.get("OPENAI_API_KEY", "")
    if not key and not base_url:
        raise ValueError("api_key is missing: type your OpenAI API key, or set OPENAI_API_KEY on the server")
    return openai.OpenAI(
        api_key=key or "no-key",  # many local servers need none
        base_url=base_url or None,
        timeout=config.OPENAI_TIMEOUT_S,
        max_retries=config.OPENAI_MAX_RETRIES,
    )


def readable_error(error: openai.OpenAIError, model: str, base_url: str) -> ValueError:
    """A short message for an OpenAI client failure, without the server's raw text (it may quote the key)."""
    server = base_url or "the OpenAI API"
    if isinstance(error, openai.APITimeoutError):
        return ValueError(f"{server} did not answer within {config.OPENAI_TIMEOUT_S:g} s (timeout); try again")
    if isinstance(error, openai.APIConnectionError):
        return ValueError(f"could not connect to {server}: check the base URL and that the server is running")
    status = getattr(error, "status_code", None)
    messages = {
        400: "the server rejected the request (400 Bad Request): a setting may not be supported",
        401: "the API key was rejected (401 Unauthorized): check the key",
        403: f"this key may not use model {model!r} (403 Forbidden)",
        404: f"model {model!r} was not found on {server} (404 Not Found)",
        429: "too many requests or quota used up (429): wait a moment, or check the account's plan",
    }
    if status in messages:
        return ValueError(messages[status])
    if status is not None and status >= 500:
        return ValueError(f"{server} failed with an internal error ({status}); try again later")
    return ValueError(f"the request to {server} failed ({type(error).__name__})")
