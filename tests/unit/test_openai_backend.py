"""The OpenAI backend (the official client) over real HTTP: against the playground's own /v1 endpoint
serving a tiny model, and against small local servers that fail the ways real servers do."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest
import torch
import uvicorn
from conftest import free_port
from fastapi import FastAPI

from playground import config, openai_server
from playground.text import local, openai_api
from playground.text.sampling import SamplingSettings
from playground.text.stream import chat_messages

KEY = "sk-test-server-key-123"
SECRET = "sk-user-secret-key-456"


@pytest.fixture(scope="module")
def v1_url(tiny_model_dir):
    """The /v1 routes on a real uvicorn server in this process, serving the tiny model, key required."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "TEXT_MODELS", [str(tiny_model_dir)])
        patch.setattr(config, "SERVER_API_KEY", KEY)
        app = FastAPI()
        app.include_router(openai_server.router)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
        server.should_exit = True
        thread.join()


@pytest.fixture(autouse=True)
def _fast_failures(monkeypatch):
    monkeypatch.setattr(config, "OPENAI_MAX_RETRIES", 0)
    monkeypatch.setattr(config, "OPENAI_TIMEOUT_S", 5.0)


class FakeServer:
    """An HTTP server that answers every POST with a fixed status and JSON body."""

    def __init__(self, status: int, body: dict):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self):
        self.server.shutdown()


@pytest.fixture
def fail_with():
    """Start a FakeServer answering with a status (and body); all are shut down after the test."""
    servers = []

    def start(status: int, body: dict | None = None) -> str:
        servers.append(FakeServer(status, body or {"error": {"message": f"failure {status}", "type": "error"}}))
        return servers[-1].url

    yield start
    for server in servers:
        server.close()


def test_streamed_text_from_the_server_equals_the_local_backend(v1_url, tiny_model_dir):
    settings = SamplingSettings(temperature=1.0, seed=11, max_new_tokens=12)
    remote = openai_api.stream_chat(chat_messages("hello the cat", ""), str(tiny_model_dir), settings, v1_url, KEY)
    pieces = list(remote)
    expected = local.stream_text("hello the cat", str(tiny_model_dir), "", settings).text()
    assert "".join(pieces) == expected
    assert len(pieces) > 1
    assert remote.finish_reason in ("stop", "length")


def test_each_token_of_a_server_reply_carries_the_servers_probabilities(v1_url, tiny_model_dir):
    settings = SamplingSettings(temperature=1.0, seed=5, max_new_tokens=10, repetition_penalty=1.3)
    remote = openai_api.stream_chat(chat_messages("hello the cat", ""), str(tiny_model_dir), settings, v1_url, KEY)
    remote.text()
    here = local.stream_text("hello the cat", str(tiny_model_dir), "", settings)
    here.text()

    assert [s.token.token for s in remote.steps] == [s.token.token for s in here.steps]
    assert [s.probability for s in remote.steps] == pytest.approx([s.token.probability for s in here.steps], rel=1e-5)
    assert [c.token for c in remote.steps[0].candidates] == [c.token for c in here.steps[0].candidates][: openai_api.SERVER_TOP_LOGPROBS]
    assert all(s.number is None for s in remote.steps)  # a server does not say what drew its tokens


def test_a_server_that_refuses_logprobs_still_answers_and_the_token_view_says_so(v1_url, tiny_model_dir, monkeypatch):
    from playground.ui.text import Reply, show_reply

    def refuse(request):
        if request.logprobs:
            raise ValueError("logprobs are not supported here")

    monkeypatch.setattr(openai_server.ChatRequest, "top_logprobs_count", refuse)
    settings = SamplingSettings(temperature=1.0, seed=5, max_new_tokens=6)
    remote = openai_api.stream_chat(chat_messages("hello the cat", ""), str(tiny_model_dir), settings, v1_url, KEY)

    assert remote.text() == local.stream_text("hello the cat", str(tiny_model_dir), "", settings).text()
    assert remote.steps == []
    [(note, _)] = show_reply(Reply("hello the cat", "", "openai", str(tiny_model_dir), settings, remote.steps))
    assert "returned no log-probabilities" in note


def test_a_conversation_through_the_server_gets_the_local_backends_reply(v1_url, tiny_model_dir):
    conversation = [{"role": "user", "content": "hello the cat"}, {"role": "assistant", "content": "the red apple"},
                    {"role": "user", "content": "what colour is the sky?"}]
    settings = SamplingSettings(temperature=1.0, seed=5, max_new_tokens=10)
    remote = openai_api.stream_chat(conversation, str(tiny_model_dir), settings, v1_url, KEY).text()
    assert remote == local.stream_chat(conversation, str(tiny_model_dir), settings).text()


def test_official_client_gets_a_whole_completion_and_the_model_list(v1_url, tiny_model_dir):
    client = openai.OpenAI(base_url=v1_url, api_key=KEY)
    assert [m.id for m in client.models.list()] == [str(tiny_model_dir)]
    reply = client.chat.completions.create(
        model=str(tiny_model_dir), messages=[{"role": "user", "content": "the red apple"}], max_tokens=5, temperature=0
    )
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.completion_tokens <= 5
    assert reply.choices[0].message.content == local.stream_text(
        "the red apple", str(tiny_model_dir), "", SamplingSettings(temperature=0, max_new_tokens=5)
    ).text()


def test_bad_settings_get_a_400_that_names_the_parameter(v1_url, tiny_model_dir):
    client = openai.OpenAI(base_url=v1_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="temperature must be between 0 and 2"):
        client.chat.completions.create(model=str(tiny_model_dir), messages=[{"role": "user", "content": "hi"}], temperature=5)


def test_a_wrong_key_is_rejected_with_401_and_never_repeated(v1_url, tiny_model_dir):
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=v1_url, api_key="wrong", max_retries=0).models.list()
    with pytest.raises(ValueError, match=r"API key was rejected \(401") as error:
        openai_api.stream_chat(chat_messages("hi", ""), str(tiny_model_dir), SamplingSettings(), v1_url, SECRET)
    assert SECRET not in str(error.value)


def test_an_unknown_model_is_a_404(v1_url):
    with pytest.raises(ValueError, match=r"model 'no-such-model' was not found .*\(404"):
        openai_api.stream_chat(chat_messages("hi", ""), "no-such-model", SamplingSettings(), v1_url, KEY)


def test_a_server_that_is_gone_gives_a_connection_error():
    gone = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ValueError, match="could not connect to http://127.0.0.1"):
        openai_api.stream_chat(chat_messages("hi", ""), "m", SamplingSettings(), gone, "")


def test_a_server_that_never_answers_times_out(monkeypatch):
    monkeypatch.setattr(config, "OPENAI_TIMEOUT_S", 0.5)
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        begin = time.monotonic()
        with pytest.raises(ValueError, match=r"did not answer within 0.5 s \(timeout\)"):
            openai_api.stream_chat(chat_messages("hi", ""), "m", SamplingSettings(), f"http://127.0.0.1:{silent.getsockname()[1]}/v1", "")
        assert time.monotonic() - begin < 5


@pytest.mark.parametrize(
    ("status", "message"),
    [(429, r"too many requests or quota used up \(429\)"), (500, r"failed with an internal error \(500\)"), (503, r"\(503\)")],
)
def test_server_failures_become_short_messages(fail_with, status, message):
    with pytest.raises(ValueError, match=message) as error:
        openai_api.stream_chat(chat_messages("hi", ""), "m", SamplingSettings(), fail_with(status), SECRET)
    assert SECRET not in str(error.value) and len(str(error.value)) < 200


def test_missing_key_for_openai_itself_is_explained(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="api_key is missing"):
        openai_api.stream_chat(chat_messages("hi", ""), "gpt-4o-mini", SamplingSettings(), "", "")


def test_base_url_must_be_http():
    with pytest.raises(ValueError, match="base_url must be an http:// or https:// address"):
        openai_api.stream_chat(chat_messages("hi", ""), "m", SamplingSettings(), "file:///etc/passwd", "")


def test_next_token_scores_from_server_logprobs_match_the_model(v1_url, tiny_model_dir):
    scores = openai_api.next_token_scores("what colour is the sky?", str(tiny_model_dir), "", v1_url, KEY)
    assert not scores.complete and len(scores.tokens) == openai_api.SERVER_TOP_LOGPROBS
    lm = local.load_model(str(tiny_model_dir))
    ids = local.input_ids(lm, local.chat_messages("what colour is the sky?", ""))
    with torch.no_grad():
        expected = torch.softmax(lm.model(ids[None]).logits[0, -1], -1).sort(descending=True).values
    assert scores.logits.exp().tolist() == pytest.approx(expected[: len(scores.tokens)].tolist(), abs=1e-5)


def test_a_server_without_logprobs_is_said_clearly(fail_with):
    reply = {
        "id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "length"}],
    }
    with pytest.raises(ValueError, match="did not return log-probabilities"):
        openai_api.next_token_scores("hi", "m", "", fail_with(200, reply), "")
