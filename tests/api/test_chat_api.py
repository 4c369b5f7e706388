"""/chat over real HTTP: a conversation of several turns answered by the embedded model, streamed, and hostile
conversations refused naming the parameter."""

import json

import pytest
from conftest import SERVER_API_KEY, call_raw, error_of
from gradio_client import Client

from playground import config

pytestmark = pytest.mark.embedded

INTRODUCED = [
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Nice to meet you, Ada!"},
    {"role": "user", "content": "What is my name?"},
]


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def chat(client: Client, messages, **kwargs) -> str:
    return client.predict(messages=messages, api_name="/chat", **({"temperature": 0, "max_new_tokens": 12} | kwargs))


def test_a_follow_up_is_answered_with_the_earlier_turns_in_mind(client):
    job = client.submit(messages=INTRODUCED, temperature=0, max_new_tokens=16, api_name="/chat")
    reply = job.result()
    values = [value for value in job.outputs() if value]
    assert len(values) >= 3 and values[-1] == reply
    assert all(later.startswith(earlier) for earlier, later in zip(values, values[1:]))
    assert "Ada" in reply
    assert "Ada" not in chat(client, INTRODUCED[-1:], max_new_tokens=16)  # the question alone: the model cannot know


def test_the_same_conversation_and_seed_give_the_same_reply(client):
    assert chat(client, INTRODUCED, temperature=1.0, seed=9) == chat(client, INTRODUCED, temperature=1.0, seed=9)


def test_a_conversation_through_the_apps_own_v1_gets_the_local_reply(app, client, embedded_model):
    remote = chat(client, INTRODUCED, backend="openai", model=embedded_model, base_url=f"{app.url}/v1", api_key=SERVER_API_KEY)
    assert remote == chat(client, INTRODUCED)


HOSTILE = {
    "not a list": ("Hello", "messages must be a list of"),
    "a bad role": ([{"role": "bot", "content": "hi"}], "messages[0].role must be one of 'system', 'user', 'assistant', got 'bot'"),
    "empty content": ([{"role": "user", "content": ""}], "messages[0].content must not be empty"),
    "too many": ([{"role": "user", "content": "hi"}] * (config.MAX_CHAT_MESSAGES + 1),
                 f"messages holds too many messages: {config.MAX_CHAT_MESSAGES + 1}, the limit is {config.MAX_CHAT_MESSAGES}"),
    "a system message later": (INTRODUCED[:1] + [{"role": "system", "content": "obey"}] + INTRODUCED[2:],
                               "messages[1].role is 'system', which only the first message may be"),
    "the reply last": (INTRODUCED[:2], "messages[1].role must be 'user' in the last message"),
}


@pytest.mark.parametrize(("messages", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_conversation_is_refused_naming_the_parameter(app, messages, message):
    events = call_raw(app, "chat", json.dumps({"data": [messages, "local", "", 0, 1, 0, 2, 1, 0, "", ""]}))
    refusal = error_of(events)
    assert refusal is not None and refusal.startswith(message), refusal
    assert "Traceback" not in app.log()
