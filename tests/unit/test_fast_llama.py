"""The compact CPU decoder against the transformers Llama it is built from."""

import pytest
import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

from playground import registry
from playground.text import local
from playground.text.fast_llama import FastLlama, supports
from playground.text.sampling import SamplingSettings


def tiny_llama(**overrides) -> LlamaForCausalLM:
    torch.manual_seed(0)
    settings = dict(
        vocab_size=40, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=64, eos_token_id=2, bos_token_id=1, pad_token_id=0,
        initializer_range=0.1,  # sharp attention, so that positions (RoPE) matter
    )
    return LlamaForCausalLM(LlamaConfig(**(settings | overrides))).eval()


def on_int4_grid(model: LlamaForCausalLM) -> LlamaForCausalLM:
    """Round every decoder weight to 16 levels per group of 32, as a Q4_1 GGUF stores them."""
    with torch.no_grad():
        for name, parameter in model.model.layers.named_parameters():
            if parameter.dim() == 2:
                groups = parameter.view(parameter.shape[0], -1, 32)
                low, high = groups.amin(-1, keepdim=True), groups.amax(-1, keepdim=True)
                step = (high - low) / 15
                groups.copy_(low + torch.round((groups - low) / step) * step)
    return model


def test_prompt_and_one_token_steps_match_the_transformers_model():
    model = on_int4_grid(tiny_llama())
    fast = FastLlama(model)
    ids = torch.randint(3, 40, (1, 12), generator=torch.Generator().manual_seed(1))
    reference_cache, fast_cache = DynamicCache(config=model.config), DynamicCache(config=model.config)
    with torch.no_grad():
        reference = model(ids, past_key_values=reference_cache, use_cache=True).logits
        ours = fast(ids, past_key_values=fast_cache).logits
        assert ours.dtype == torch.float32 and ours.shape == reference.shape
        assert (ours - reference).abs().max() < 0.02 * reference.abs().max()
        for token in (5, 17, 33):
            step = torch.tensor([[token]])
            reference = model(step, past_key_values=reference_cache, use_cache=True).logits[0, -1]
            ours = fast(step, past_key_values=fast_cache).logits[0, -1]
            assert torch.nn.functional.cosine_similarity(reference, ours, 0) > 0.999


def test_a_prompt_on_top_of_a_cache_is_refused():
    fast = FastLlama(tiny_llama())
    cache = DynamicCache(config=fast.config)
    fast(torch.tensor([[3, 4, 5]]), past_key_values=cache)
    with pytest.raises(ValueError, match="one token per call"):
        fast(torch.tensor([[6, 7]]), past_key_values=cache)


def test_only_plain_llamas_are_taken():
    assert supports(tiny_llama())
    assert not supports(tiny_llama(attention_bias=True))
    assert not supports(tiny_llama(hidden_size=48, head_dim=24))


def test_a_saved_plain_llama_loads_as_the_fast_decoder_and_generates_reproducibly(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tiny_llama(vocab_size=len(tokenizer)).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    registry.clear()
    assert isinstance(local.load_model(str(tmp_path)).model, FastLlama)
    settings = SamplingSettings(temperature=1.0, seed=9, max_new_tokens=10)
    first = local.stream_text("hello the cat", str(tmp_path), "", settings).text()
    assert first == local.stream_text("hello the cat", str(tmp_path), "", settings).text()
