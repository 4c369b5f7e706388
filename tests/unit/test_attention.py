"""Attention rows of the position that chose a reply token: on the tiny transformers model, on FastLlama, and on the
embedded model against transformers' own eager attention."""

import re

import pytest
import torch
from transformers import AutoModelForCausalLM, DynamicCache

from playground import config
from playground.text import local
from playground.text.attention import attention_weights
from playground.text.fast_llama import FastLlama
from test_fast_llama import on_int4_grid, tiny_llama

PROMPT, SYSTEM = "what colour is the sky?", "be brief"


def reply_ids(lm: local.LocalModel, text: str) -> list[int]:
    return lm.tokenizer(text, add_special_tokens=False)["input_ids"]


def eager_rows(model, ids: torch.Tensor) -> torch.Tensor:
    """[layers, heads, n]: the last query's attention row in every layer, from one whole pass with eager attention."""
    with torch.no_grad():
        attentions = model(ids[None], output_attentions=True).attentions
    return torch.stack([layer[0, :, -1] for layer in attentions]).float()


def test_rows_cover_the_visible_tokens_are_positive_and_sum_to_one(tiny_model_dir, one_torch_thread):
    lm = local.load_model(str(tiny_model_dir))
    reply = reply_ids(lm, "the sky is blue .")
    prompt_ids = local.input_ids(lm, local.chat_messages(PROMPT, SYSTEM))
    for index in (0, 3):
        attention = attention_weights(PROMPT, reply, index, str(tiny_model_dir), SYSTEM)
        n = len(prompt_ids) + index
        assert attention.weights.shape == (lm.model.config.num_hidden_layers, lm.model.config.num_attention_heads, n)
        assert attention.weights.dtype == torch.float32 and (attention.weights >= 0).all()
        assert torch.allclose(attention.weights.sum(-1), torch.ones(attention.weights.shape[:2]), atol=1e-5)
        assert attention.tokens == local.token_strip(lm, prompt_ids.tolist() + reply[:index])
        assert attention.token == lm.tokenizer.decode([reply[index]])


def test_rows_equal_transformers_eager_attention_of_the_whole_sequence(tiny_model_dir, one_torch_thread):
    lm = local.load_model(str(tiny_model_dir))
    reply = reply_ids(lm, "the sky is blue .")
    ids = torch.cat([local.input_ids(lm, local.chat_messages(PROMPT, SYSTEM)), torch.tensor(reply[:4])])
    eager = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="eager").eval()
    expected = eager_rows(eager, ids)
    assert torch.allclose(attention_weights(PROMPT, reply, 4, str(tiny_model_dir), SYSTEM).weights, expected, atol=1e-6)


def test_the_loaded_model_keeps_its_faster_attention_for_generation(tiny_model_dir, one_torch_thread):
    lm = local.load_model(str(tiny_model_dir))
    assert lm.model.config._attn_implementation == "sdpa"
    attention_weights(PROMPT, [8, 9], 1, str(tiny_model_dir))
    assert lm.model.config._attn_implementation == "sdpa"


def test_a_layer_and_a_head_or_the_mean_of_the_heads_are_chosen_by_number(tiny_model_dir, one_torch_thread):
    attention = attention_weights(PROMPT, [8, 9, 10], 2, str(tiny_model_dir))
    assert torch.equal(attention.row(2, 1), attention.weights[1, 0])
    assert torch.allclose(attention.row(1, -1), attention.weights[0].mean(0))
    assert float(attention.row(1, -1).sum()) == pytest.approx(1, abs=1e-5)
    with pytest.raises(ValueError, match=r"^layer must be between 1 and 2, got 3$"):
        attention.row(3, -1)
    with pytest.raises(ValueError, match=r"^head must be between 1 and 2, got 0; or -1 for the mean of all heads$"):
        attention.row(1, 0)
    with pytest.raises(ValueError, match=r"^head must be a number, got '1'; or -1 for the mean of all heads$"):
        attention.row(1, "1")


@pytest.mark.parametrize(
    ("reply", "index", "message"),
    [
        ("8 9", 0, "reply_token_ids must be a list of token ids, got str"),
        ([], 0, "reply_token_ids must not be empty"),
        ([8] * (config.MAX_NEW_TOKENS + 1), 0,
         f"reply_token_ids holds {config.MAX_NEW_TOKENS + 1} tokens, the limit is {config.MAX_NEW_TOKENS}"),
        ([8, -1], 0, "reply_token_ids[1] must be between 0 and {last}, got -1"),
        ([8, "{vocabulary}"], 0, "reply_token_ids[1] must be between 0 and {last}, got {vocabulary}"),
        ([8, 2.5], 0, "reply_token_ids[1] must be a whole number, got 2.5"),
        ([8, True], 0, "reply_token_ids[1] must be a number, got True"),
        ([8, 9], 2, "token_index must be between 0 and 1, got 2"),
        ([8, 9], None, "token_index must be a number, got None"),
    ],
)
def test_bad_reply_token_ids_or_index_are_refused_naming_them(tiny_model_dir, reply, index, message):
    vocabulary = local.load_model(str(tiny_model_dir)).model.config.vocab_size
    if isinstance(reply, list):
        reply = [vocabulary if token == "{vocabulary}" else token for token in reply]
    message = message.format(last=vocabulary - 1, vocabulary=vocabulary)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        attention_weights(PROMPT, reply, index, str(tiny_model_dir))


def test_a_reply_beyond_the_models_context_is_refused(tiny_model_dir):
    lm = local.load_model(str(tiny_model_dir))
    prompt_tokens = len(local.input_ids(lm, local.chat_messages(PROMPT, "")))
    reply = [8] * (lm.context_length - prompt_tokens + 1)
    message = f"{prompt_tokens} prompt tokens + {len(reply)} reply tokens exceed its context of {lm.context_length} tokens"
    with pytest.raises(ValueError, match=re.escape(message)):
        attention_weights(PROMPT, reply, 0, str(tiny_model_dir))


def test_fast_llama_rows_match_eager_attention_with_query_heads_grouped_per_kv_head(one_torch_thread):
    model = on_int4_grid(tiny_llama(num_attention_heads=4, num_key_value_heads=2))
    fast = FastLlama(model)
    ids = torch.randint(3, 40, (14,), generator=torch.Generator().manual_seed(2))
    cache, rows = DynamicCache(config=model.config), []
    fast(ids[None, :-1], past_key_values=cache)
    fast(ids[None, -1:], past_key_values=cache, attention_rows=rows)
    ours = torch.stack([row[0] for row in rows])
    model.set_attn_implementation("eager")
    expected = eager_rows(model, ids)
    assert ours.shape == expected.shape == (2, 4, 14)
    assert (ours - expected).abs().max() < 0.02
    assert torch.allclose(ours.sum(-1), torch.ones(2, 4), atol=1e-5)


def test_fast_llama_gives_attention_rows_for_one_token_calls_only():
    fast = FastLlama(tiny_llama())
    with pytest.raises(ValueError, match="one-token calls only"):
        fast(torch.tensor([[3, 4, 5]]), attention_rows=[])


@pytest.mark.embedded
def test_embedded_model_rows_match_transformers_eager_attention_of_its_weights(embedded_model):
    lm = local.load_model(embedded_model)
    assert isinstance(lm.model, FastLlama)
    prompt = "What is the capital of France?"
    reply = reply_ids(lm, "The capital of France is Paris.")
    attention = attention_weights(prompt, reply, 5, embedded_model)
    ids = torch.cat([local.input_ids(lm, local.chat_messages(prompt, "")), torch.tensor(reply[:5])])
    folder = local.converted_gguf(local.embedded_gguf())
    original = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager")
    expected = eager_rows(original.eval(), ids)
    assert attention.weights.shape == expected.shape == (30, 9, len(ids))
    assert torch.allclose(attention.weights.sum(-1), torch.ones(30, 9), atol=1e-4)
    for layer in (0, 7, 15, 29):
        for head in (0, 4, 8):
            assert (attention.weights[layer, head] - expected[layer, head]).abs().max() < 0.03, (layer, head)
