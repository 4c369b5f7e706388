"""A conversation of several turns: its checks, the local backend on the tiny model (a follow-up sees the turns
before), and the OpenAI backend sending every turn to a real local server."""

import json
import re

import pytest
from conftest import OPERATOR_OPENAI_KEY

from playground import config, text
from playground.text import local
from playground.text.sampling import SamplingSettings
from playground.text.stream import ROLES, TextStream, chat_messages, check_messages

CONVERSATION = [
    {"role": "system", "content": "the cat sat on the mat"},
    {"role": "user", "content": "hello world"},
    {"role": "assistant", "content": "the red apple"},
    {"role": "user", "content": "what colour is the sky?"},
]


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def test_a_valid_conversation_is_returned_as_given():
    assert check_messages(CONVERSATION) == CONVERSATION


def test_a_reply_may_be_empty_but_a_message_may_not():
    assert check_messages([user("hi"), {"role": "assistant", "content": ""}, user("again")])[1]["content"] == ""
    with pytest.raises(ValueError, match=r"^messages\[0\]\.content must not be empty$"):
        check_messages([user("  "), {"role": "assistant", "content": "x"}, user("again")])


def test_the_one_turn_conversation_of_a_prompt_passes_the_checks():
    assert check_messages(chat_messages("hello", "be brief")) == [{"role": "system", "content": "be brief"}, user("hello")]
    assert chat_messages("hello", "   ") == [user("hello")]  # a blank system prompt sends no system message


def too_long_in_all() -> list[dict[str, str]]:
    """Messages each within MAX_PROMPT_CHARS that exceed MAX_CHAT_CHARS together."""
    count = config.MAX_CHAT_CHARS // config.MAX_PROMPT_CHARS + 1
    roles = ["user" if (count - 1 - i) % 2 == 0 else "assistant" for i in range(count)]
    return [{"role": role, "content": "a" * config.MAX_PROMPT_CHARS} for role in roles]


REFUSALS = {
    "not a list": ("hello", 'messages must be a list of {"role": ..., "content": ...} objects, got str'),
    "an object": ({"role": "user", "content": "hi"}, "messages must be a list of .* objects, got an object"),
    "empty": ([], "messages must not be empty"),
    "too many": ([user("hi")] * (config.MAX_CHAT_MESSAGES + 1),
                 f"messages holds too many messages: {config.MAX_CHAT_MESSAGES + 1}, the limit is {config.MAX_CHAT_MESSAGES}"),
    "a message not an object": ([user("hi"), "hi"], r'messages\[1\] must be an object with the keys "role" and "content" only, got str'),
    "a key too many": ([user("hi") | {"name": "x"}],
                       r"messages\[0\] must be an object .* only, got \['content', 'name', 'role'\]"),
    "no content": ([{"role": "user"}], r"messages\[0\] must be an object .* only, got \['role'\]"),
    "a bad role": ([user("hi"), {"role": "bot", "content": "x"}, user("hi")],
                   rf"messages\[1\]\.role must be one of {', '.join(map(repr, ROLES))}, got 'bot'"),
    "a system message later": ([user("hi"), {"role": "system", "content": "x"}, user("hi")],
                               r"messages\[1\]\.role is 'system', which only the first message may be"),
    "content not text": ([user(5)], r"messages\[0\]\.content must be text, got a number"),
    "content too long": ([user("a" * (config.MAX_PROMPT_CHARS + 1))],
                         rf"messages\[0\]\.content is too long: {config.MAX_PROMPT_CHARS + 1} characters, the limit is {config.MAX_PROMPT_CHARS}"),
    "a lone surrogate": ([user("x\ud800")], r"messages\[0\]\.content holds invalid text"),
    "the reply last": (CONVERSATION[:3], r"messages\[2\]\.role must be 'user' in the last message .*, got 'assistant'"),
    "too long in all": (too_long_in_all(),
                        f"messages are too long: {len(too_long_in_all()) * config.MAX_PROMPT_CHARS} characters in all, "
                        f"the limit is {config.MAX_CHAT_CHARS}"),
}


@pytest.mark.parametrize(("messages", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_bad_conversation_is_refused_naming_the_message(messages, message):
    with pytest.raises(ValueError, match=f"^{message}") as error:
        check_messages(messages)
    assert str(error.value).startswith("messages")


def test_the_dispatcher_checks_the_conversation_before_any_backend():
    with pytest.raises(ValueError, match=r"^messages\[0\]\.role must be one of"):
        text.stream_chat([{"role": "bot", "content": "hi"}], "openai", "m", SamplingSettings(), "http://127.0.0.1:9/v1", "")


def test_a_follow_up_on_the_local_backend_reads_the_turns_before(tiny_model_dir, one_torch_thread):
    settings = SamplingSettings(temperature=1.0, seed=3, max_new_tokens=8)
    stream = text.stream_chat(CONVERSATION, "local", str(tiny_model_dir), settings)
    reply = stream.text()
    lm = local.load_model(str(tiny_model_dir))
    ids = local.input_ids(lm, CONVERSATION)
    assert stream.prompt_tokens == len(ids) > len(local.input_ids(lm, [CONVERSATION[-1]]))
    read = lm.tokenizer.decode(ids)
    assert [read.index(m["content"]) for m in CONVERSATION] == sorted(read.index(m["content"]) for m in CONVERSATION)
    assert reply == local.stream_chat(CONVERSATION, str(tiny_model_dir), settings).text()


def test_the_openai_backend_sends_every_turn_in_order(recorder, monkeypatch):
    monkeypatch.setattr(config, "OPENAI_MAX_RETRIES", 0)
    monkeypatch.setenv("OPENAI_API_KEY", OPERATOR_OPENAI_KEY)
    with pytest.raises(ValueError, match=re.escape("API key was rejected (401")):
        text.stream_chat(CONVERSATION, "openai", "m", SamplingSettings(seed=4), recorder.url, "sk-visitor")
    sent = json.loads(recorder.bodies[0])
    assert sent["messages"] == CONVERSATION and sent["seed"] == 4 and sent["stream"] is True


def test_a_stream_shown_so_far_starts_empty_and_grows_to_the_whole_text():
    assert list(TextStream(iter(["Hel", "lo", "!"])).so_far()) == ["", "Hel", "Hello", "Hello!"]
