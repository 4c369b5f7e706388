"""The OpenAI client shared by the text and image backends, and its failures as short readable messages.

Whose key goes where: a key typed by a visitor goes with that visitor's request only; the server's own
OPENAI_API_KEY goes only to the server's own endpoint (the OpenAI API, or the operator's OPENAI_BASE_URL),
never to a base URL a visitor typed. Keys are never logged, stored or put into a message.

In public mode (config.PUBLIC) a visitor's base URL must be one the operator listed, and every address its
host resolves to must be a public one, checked again before every request (redirects included): the server
must not become a visitor's way into its own network.
"""

import ipaddress
import os
import socket

import httpx
import openai

from playground import config
from playground.validation import check_text

OPENAI_API_URL = "https://api.openai.com/v1"  # the OpenAI client's own default


class RefusedAddress(ValueError):
    """A request the public mode does not send: its host resolves to an internal address."""


def _normalized(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _operator_url() -> str:
    return config.OPENAI_BASE_URL or OPENAI_API_URL


def check_public_host(host: str, port: int) -> None:
    """Refuse a host unless every address it resolves to is a public one (no loopback, private, link-local,
    metadata or reserved address): a name that resolves to both is refused too."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        raise RefusedAddress(f"base_url's host {host!r} could not be resolved") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if not ip.is_global:
            raise RefusedAddress(
                f"base_url's host {host!r} resolves to an internal address, which a public server does not call"
            )


def check_request_address(request: httpx.Request) -> None:
    """Refuse a request (the first or a redirect) whose host resolves to an internal address."""
    check_public_host(request.url.host, request.url.port or (443 if request.url.scheme == "https" else 80))


def _check_base_url(base_url: str) -> str:
    """The visitor's base URL, checked: an http(s) address, and in public mode one the operator listed."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ValueError(f"base_url must be an http:// or https:// address, got {base_url!r}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an http:// or https:// address, got {base_url!r}")
    if config.PUBLIC and _normalized(base_url) not in {_normalized(u) for u in config.ALLOWED_BASE_URLS}:
        allowed = ", ".join(config.ALLOWED_BASE_URLS) or "none (leave it empty for the server's own endpoint)"
        raise ValueError(f"base_url {base_url!r} is not allowed on this public server; allowed: {allowed}")
    return base_url


def check_endpoint(base_url: object, api_key: object) -> tuple[str, str]:
    """The base URL and key a caller typed, as text (checked also where the backend does not use them)."""
    base_url = check_text("base_url", base_url, config.MAX_NAME_CHARS, required=False).strip()
    api_key = check_text("api_key", api_key, config.MAX_NAME_CHARS, required=False).strip()
    if not (api_key.isascii() and api_key.isprintable()):
        raise ValueError("api_key must be printable ASCII characters, as API keys are (the typed key is not shown)")
    return base_url, api_key


def make_client(base_url: str, api_key: str) -> openai.OpenAI:
    """A client for the server's own endpoint (base_url empty) or for the compatible server at base_url."""
    base_url, api_key = check_endpoint(base_url, api_key)
    visitor_url = bool(base_url) and _normalized(base_url) != _normalized(_operator_url())
    if visitor_url:
        base_url = _check_base_url(base_url)
    server_key = "" if visitor_url else os.environ.get("OPENAI_API_KEY", "")
    key = api_key or server_key
    if not key and not visitor_url:
        raise ValueError("api_key is missing: type your OpenAI API key, or set OPENAI_API_KEY on the server")
    hooks = {"request": [check_request_address]} if visitor_url and config.PUBLIC else {}
    if hooks:
        check_request_address(httpx.Request("GET", base_url))  # a clear refusal before the client is made
    return openai.OpenAI(
        api_key=key or "none",  # many local servers need none; the client insists on some text
        base_url=base_url if visitor_url else _operator_url(),
        timeout=config.OPENAI_TIMEOUT_S,
        max_retries=config.OPENAI_MAX_RETRIES,
        http_client=openai.DefaultHttpxClient(event_hooks=hooks) if hooks else None,
    )


def readable_error(error: openai.OpenAIError, model: str, base_url: str) -> ValueError:
    """A short message for an OpenAI client failure, without the server's raw text (it may quote the key)."""
    server = base_url or "the OpenAI API"
    if isinstance(error.__cause__, RefusedAddress):  # a redirect towards an internal address
        return ValueError(f"{server} redirected the request: {error.__cause__}")
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
