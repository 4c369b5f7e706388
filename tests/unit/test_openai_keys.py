"""Whose key goes where, and what a public deployment lets a visitor's base URL reach: the real client code
against a real local server that records the headers it receives."""

import socket

import httpx
import pytest
from conftest import OPERATOR_OPENAI_KEY

from playground import config, openai_client
from playground.image import openai_images
from playground.text import openai_api
from playground.text.sampling import SamplingSettings
from playground.text.stream import chat_messages

VISITOR_KEY = "sk-visitor-key-123"


@pytest.fixture(autouse=True)
def _operator_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPERATOR_OPENAI_KEY)
    monkeypatch.setattr(config, "OPENAI_MAX_RETRIES", 0)


CALLS = {
    "text": lambda url, key: openai_api.stream_chat(chat_messages("hi", ""), "m", SamplingSettings(), url, key),
    "next token": lambda url, key: openai_api.next_token_scores("hi", "m", "", url, key),
    "image": lambda url, key: openai_images.generate_pictures("a red apple", 1, "m", url, key),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_the_servers_key_never_goes_to_a_base_url_a_visitor_typed(recorder, call):
    with pytest.raises(ValueError, match="API key was rejected"):
        call(recorder.url, "")
    assert len(recorder.headers) == 1
    assert not any(OPERATOR_OPENAI_KEY in value for headers in recorder.headers for value in headers.values())


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_visitors_key_goes_with_the_visitors_request(recorder, call):
    with pytest.raises(ValueError, match="API key was rejected"):
        call(recorder.url, VISITOR_KEY)
    assert recorder.authorizations() == [f"Bearer {VISITOR_KEY}"]


def test_the_servers_key_goes_to_the_operators_own_base_url(recorder, monkeypatch):
    monkeypatch.setattr(config, "OPENAI_BASE_URL", recorder.url)
    for typed in ("", recorder.url + "/"):  # empty, or the operator's own address typed out
        with pytest.raises(ValueError, match="API key was rejected"):
            CALLS["text"](typed, "")
    assert recorder.authorizations() == [f"Bearer {OPERATOR_OPENAI_KEY}"] * 2


def test_a_key_that_is_not_ascii_is_refused_naming_api_key(recorder):
    with pytest.raises(ValueError, match="^api_key must be printable ASCII characters"):
        CALLS["text"](recorder.url, "sk-clé")
    assert recorder.headers == []


@pytest.fixture
def public(monkeypatch):
    monkeypatch.setattr(config, "PUBLIC", True)
    monkeypatch.setattr(config, "ALLOWED_BASE_URLS", [])


def test_public_mode_refuses_a_base_url_the_operator_did_not_list(recorder, public):
    with pytest.raises(ValueError, match=f"^base_url '{recorder.url}' is not allowed on this public server"):
        CALLS["text"](recorder.url, VISITOR_KEY)
    assert recorder.headers == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_public_mode_refuses_a_listed_base_url_on_an_internal_address(recorder, public, monkeypatch, host):
    url = recorder.url.replace("127.0.0.1", host)
    monkeypatch.setattr(config, "ALLOWED_BASE_URLS", [url])
    with pytest.raises(ValueError, match=f"base_url's host '{host}' resolves to an internal address"):
        CALLS["text"](url, VISITOR_KEY)
    assert recorder.headers == []


ADDRESSES = {"public.test": ["93.184.216.34"], "mixed.test": ["93.184.216.34", "10.0.0.7"],
             "metadata.test": ["169.254.169.254"], "mapped.test": ["::ffff:127.0.0.1"], "private6.test": ["fd00::1"]}


@pytest.fixture
def fake_dns(monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        if host not in ADDRESSES:
            raise socket.gaierror("unknown host")
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in ADDRESSES[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_only_hosts_whose_every_address_is_public_pass(fake_dns):
    openai_client.check_public_host("public.test", 443)
    for host in ("mixed.test", "metadata.test", "mapped.test", "private6.test"):
        with pytest.raises(openai_client.RefusedAddress, match=f"'{host}' resolves to an internal address"):
            openai_client.check_public_host(host, 443)
    with pytest.raises(openai_client.RefusedAddress, match="'nowhere.test' could not be resolved"):
        openai_client.check_public_host("nowhere.test", 443)


def test_a_redirect_to_an_internal_address_is_checked_and_never_sent(fake_dns):
    sent = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.host)
        return httpx.Response(302, headers={"location": "http://metadata.test/latest/meta-data/"})

    client = httpx.Client(transport=httpx.MockTransport(answer), follow_redirects=True,
                          event_hooks={"request": [openai_client.check_request_address]})
    with pytest.raises(openai_client.RefusedAddress, match="'metadata.test' resolves to an internal address"):
        client.post("http://public.test/v1/chat/completions")
    assert sent == ["public.test"]
