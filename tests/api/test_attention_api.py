"""The attention view's endpoint over real HTTP, with the embedded model."""

import re

import pytest
from gradio_client import Client

from playground.text import local
from playground.text.attention import attention_weights

pytestmark = pytest.mark.embedded
PROMPT = "What is the capital of France?"


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


@pytest.fixture(scope="module")
def reply(embedded_model) -> list[int]:
    tokenizer = local.load_model(embedded_model).tokenizer
    return tokenizer("The capital of France is Paris.", add_special_tokens=False)["input_ids"]


def attention(client: Client, reply: list[int], **kwargs):
    inputs = {"prompt": PROMPT, "reply_token_ids": reply, "token_index": 5, "layer": 30, "head": -1,
              "system_prompt": ""}
    return client.predict(**(inputs | kwargs), api_name="/attention")


@pytest.mark.parametrize("head", [-1, 4])
def test_attention_returns_one_layers_weights_over_the_tokens_before_the_chosen_one(
    client, embedded_model, reply, head
):
    strip, summary, data = attention(client, reply, layer=12, head=head)
    expected = attention_weights(PROMPT, reply, 5, embedded_model)
    assert data["tokens"] == [text for text, _ in expected.tokens]
    assert data["weights"] == pytest.approx(expected.row(12, head).tolist(), abs=1e-4)
    assert sum(data["weights"]) == pytest.approx(1, abs=1e-4)
    assert (data["layer"], data["head"], data["layers"], data["heads"]) == (12, head, 30, 9)
    scores = [span["class_or_confidence"] for span in strip]
    assert max(scores[:-1]) == 1 and min(scores[:-1]) >= 0  # the strongest token fully coloured
    assert scores[-1] is None and strip[-1]["token"].endswith("Paris")  # the chosen token, uncoloured
    assert f"{max(data['weights']):.3f}" in summary


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token_index": 7}, "token_index must be between 0 and 6, got 7"),
        ({"reply_token_ids": [504, 10**6]}, "reply_token_ids[1] must be between 0 and {last}, got 1000000"),
        ({"layer": 31}, "layer must be between 1 and 30, got 31"),
        ({"head": 0}, "head must be between 1 and 9, got 0; or -1 for the mean of all heads"),
    ],
)
def test_bad_input_gets_a_message_naming_the_parameter(client, embedded_model, reply, kwargs, message):
    message = message.format(last=local.load_model(embedded_model).model.config.vocab_size - 1)
    with pytest.raises(Exception, match=re.escape(message)):
        attention(client, reply, **kwargs)
