"""/v1 over raw HTTP: malformed bodies get one 4xx in OpenAI's error shape (never a 500), and a client that
drops its connection frees its slot within a second or so. Raw HTTP, because the openai client refuses to send some of these."""

import base64
import http.client
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import SERVER_API_KEY, require
from PIL import Image

from playground import config, openai_server

pytestmark = pytest.mark.embedded
HEADERS = {"authorization": f"Bearer {SERVER_API_KEY}", "content-type": "application/json"}
CHAT, IMAGES = "/chat/completions", "/images/generations"
SHORT_CHAT = {"model": config.DEFAULT_TEXT_MODEL, "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 2}
LONG_CHAT = {"messages": [{"role": "user", "content": "Write a very long story about a dragon."}], "max_tokens": 1024}


def chat_body(**fields) -> dict:
    """A short chat request, with fields added or replaced."""
    return SHORT_CHAT | fields


def post(app, path: str, body: bytes | dict) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{app.url}/v1{path}", content=content, headers=HEADERS, timeout=120)


def send(app, path: str, body: dict) -> http.client.HTTPConnection:
    """A request sent without waiting for its answer, so that the test can drop the connection."""
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=120)
    connection.request("POST", f"/v1{path}", json.dumps(body), HEADERS)
    return connection


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    return error


@pytest.fixture
def new_log(app):
    """What the app logs during the test."""
    start = len(app.log())
    return lambda: app.log()[start:]


def said(role: object = "user", content: object = "hi") -> dict:
    """A chat request of one message."""
    return chat_body(messages=[{"role": role, "content": content}])


MALFORMED = {  # what, (path, body, the field the error must name)
    "role as a list": (CHAT, said(role=["user"]), "messages.0.role"),
    "role as a dict": (CHAT, said(role={"a": 1}), "messages.0.role"),
    "text part of 5": (CHAT, said(content=[{"type": "text", "text": 5}]), "messages.0.content.0.text"),
    "text part of null": (CHAT, said(content=[{"type": "text", "text": None}]), "messages.0.content.0.text"),
    "content with a lone surrogate": (CHAT, said(content="x\ud800y"), "messages.0.content"),
    "n of 1.0": (CHAT, chat_body(n=1.0), "n"),
    "stream of 'yes'": (CHAT, chat_body(stream="yes"), "stream"),
    "image model as a list": (IMAGES, {"model": ["emoji-gan"], "prompt": "a cat"}, "model"),
    "image model as a dict": (IMAGES, {"model": {"name": "emoji-gan"}, "prompt": "a cat"}, "model"),
    "image prompt with a lone surrogate": (IMAGES, {"model": "emoji-gan", "prompt": "a \udc00"}, "prompt"),
    "image size it cannot make": (IMAGES, {"model": "emoji-gan", "prompt": "a cat", "size": "100x100"}, "size"),
}


@pytest.mark.parametrize(("path", "body", "field"), MALFORMED.values(), ids=MALFORMED)
def test_a_malformed_field_gets_a_400_naming_it_and_the_server_keeps_serving(app, new_log, path, body, field):
    error = error_of(post(app, path, body), 400)  # json.dumps writes a lone surrogate as its \u escape
    assert error["param"] == field and error["message"].startswith(field) and "got " in error["message"]
    assert post(app, CHAT, chat_body()).status_code == 200
    assert "Traceback" not in new_log()


OUT_OF_RANGE = {  # what, (path, body, the field the error must name, the limit it must give)
    "n of 99 pictures": (IMAGES, {"model": "emoji-gan", "prompt": "a cat", "n": 99}, "n", config.MAX_NUM_IMAGES),
    "max_tokens too many": (CHAT, chat_body(max_tokens=10**6), "max_tokens", config.MAX_NEW_TOKENS),
    "max_completion_tokens too many": (CHAT, chat_body(max_tokens=5, max_completion_tokens=10**6),
                                       "max_completion_tokens", config.MAX_NEW_TOKENS),
}


@pytest.mark.parametrize(("path", "body", "field", "limit"), OUT_OF_RANGE.values(), ids=OUT_OF_RANGE)
def test_a_value_out_of_range_is_named_by_the_field_the_client_sent(app, path, body, field, limit):
    error = error_of(post(app, path, body), 400)
    assert error["param"] == field and error["message"].startswith(f"{field} must be") and str(limit) in error["message"]


def test_a_role_error_lists_the_roles_allowed(app):
    message = error_of(post(app, CHAT, said(role=["user"])), 400)["message"]
    assert all(repr(role) in message for role in openai_server.ROLES)


def test_a_lone_surrogate_is_named_as_such(app):
    message = error_of(post(app, CHAT, said(content="x\ud800")), 400)["message"]
    assert "lone surrogate" in message


def test_a_body_of_100000_nested_brackets_gets_a_400_and_the_server_keeps_serving(app, new_log):
    error = error_of(post(app, CHAT, b"[" * 100_000), 400)
    assert error["param"] is None and "nested too deeply" in error["message"]
    assert post(app, CHAT, chat_body()).status_code == 200
    assert "Traceback" not in new_log()


def test_a_body_over_the_limit_gets_a_413_whether_announced_or_streamed(app, new_log):
    padding = "x" * (config.SERVER_MAX_BODY_BYTES + 1)
    announced = json.dumps(chat_body(padding=padding)).encode()

    def streamed():  # no Content-Length: the server must count what arrives
        yield announced[:1000]
        yield announced[1000:]

    for body in (announced, b"x" * 10_000_000, streamed()):
        response = httpx.post(f"{app.url}/v1{CHAT}", content=body, headers=HEADERS, timeout=60)
        error = error_of(response, 413)
        assert error["code"] == "request_too_large" and str(config.SERVER_MAX_BODY_BYTES) in error["message"]
    assert post(app, CHAT, chat_body()).status_code == 200
    assert "Traceback" not in new_log()


def test_unknown_extra_fields_are_ignored(app):
    body = chat_body(user="someone", stream_options=None, metadata={"a": [1, {"b": None}]}, frequency_penalty=0)
    assert post(app, CHAT, body).status_code == 200


def test_images_come_at_the_model_size_or_a_whole_multiple_of_it(app):
    def sizes(**fields) -> list[tuple[int, int]]:
        response = post(app, IMAGES, {"model": "emoji-gan", "prompt": "a cat", "n": 2} | fields)
        assert response.status_code == 200, response.text
        return [Image.open(io.BytesIO(base64.b64decode(item["b64_json"]))).size for item in response.json()["data"]]

    native = sizes()[0][0]
    assert sizes(size="auto") == [(native, native)] * 2
    assert sizes(size=f"{native * 8}x{native * 8}") == [(native * 8, native * 8)] * 2
    too_large = openai_server.MAX_IMAGE_SIDE + native
    body = {"model": "emoji-gan", "prompt": "a cat", "size": f"{too_large}x{too_large}"}
    error = error_of(post(app, IMAGES, body), 400)
    assert error["param"] == "size" and str(openai_server.MAX_IMAGE_SIDE) in error["message"]


def assert_every_slot_frees_within(app, seconds: float) -> None:
    """Within seconds, all config.SERVER_MAX_CONCURRENT slots take requests again: as many short chats sent at once
    all get 200 (none gets 429). Short chats, so that the probes themselves hold the slots as briefly as they can:
    a probe is refused until the dropped work has let its slot go."""
    deadline = time.monotonic() + seconds
    with ThreadPoolExecutor(config.SERVER_MAX_CONCURRENT) as pool:
        while True:
            answers = pool.map(lambda _: post(app, CHAT, chat_body()).status_code, range(config.SERVER_MAX_CONCURRENT))
            if all(status == 200 for status in answers):
                return
            assert time.monotonic() < deadline, f"the slots were still busy {seconds} s after the clients went away"
            time.sleep(0.1)


def assert_dropping_frees_every_slot(app, new_log, path: str, body: dict) -> None:
    """Fill every slot with body's long work, drop the connections after 1 s: within 2 s all slots are free."""
    connections = [send(app, path, body) for _ in range(config.SERVER_MAX_CONCURRENT)]
    time.sleep(1)
    assert post(app, CHAT, chat_body()).status_code == 429  # all still working
    for connection in connections:
        connection.close()
    assert_every_slot_frees_within(app, 2)
    assert "Traceback" not in new_log()


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_dropped_chats_free_their_slots_within_2_s(app, new_log, stream):
    assert post(app, CHAT, chat_body()).status_code == 200  # loaded: the drop comes mid-generation, not mid-load
    assert_dropping_frees_every_slot(app, new_log, CHAT, chat_body(**LONG_CHAT, stream=stream))


def test_dropped_image_generations_free_their_slots_within_2_s(app, new_log):
    require((config.DIFFUSION_MODEL_DIR / "model_index.json").is_file(), "the shipped diffusion model is missing")
    body = {"model": config.OWN_DIFFUSION_MODEL, "prompt": "a red apple", "n": config.MAX_NUM_IMAGES}
    assert post(app, IMAGES, body | {"n": 1}).status_code == 200  # loaded: the drop comes mid-denoising
    assert_dropping_frees_every_slot(app, new_log, IMAGES, body)
