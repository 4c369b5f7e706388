"""Text speed on this machine: the app's path for the embedded model against a bare fp32 `model.generate`
measured in the same run, so that noise on a shared machine cancels out in the ratios.

Prints load time (cold: GGUF conversion; warm: cached safetensors), time to first token, decode
tokens/s, and perplexity on a fixed text (any speed-up must stay within 2 % of fp32).
Run: .venv/bin/python benchmarks/bench_text.py
"""

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, DynamicCache

sys.path.insert(0, str(Path(__file__).parents[1]))
from playground import config, registry
from playground.text import local
from playground.text.sampling import SamplingSettings

PROMPT = "Write a detailed story about a lighthouse keeper who finds a message in a bottle."
NEW_TOKENS = 128
REPEATS = 3
# Measured on this 2-core machine type with llama.cpp on the same GGUF (not re-measured here).
LLAMA_CPP_TOKENS_PER_S = 138.0
LLAMA_CPP_FIRST_TOKEN_S = 0.100


def timed(fn):
    begin = time.perf_counter()
    result = fn()
    return time.perf_counter() - begin, result


def load_times() -> tuple[float, float]:
    """Cold: convert the GGUF into an empty cache folder; warm: load the cached copy."""
    real_cache = config.CACHE_DIR
    with tempfile.TemporaryDirectory() as empty_cache:
        config.CACHE_DIR = Path(empty_cache)
        registry.clear()
        cold, _ = timed(lambda: local.load_model(config.DEFAULT_TEXT_MODEL))
    config.CACHE_DIR = real_cache
    local.load_model(config.DEFAULT_TEXT_MODEL)  # make sure the real cache holds a copy
    warm = []
    for _ in range(REPEATS):
        registry.clear()
        seconds, _ = timed(lambda: local.load_model(config.DEFAULT_TEXT_MODEL))
        warm.append(seconds)
    return cold, statistics.median(warm)


def app_path() -> tuple[float, float, int]:
    """Time to first piece and decode tokens/s of local.stream_text (greedy, no early stop counted)."""
    firsts, rates, tokens = [], [], 0
    settings = SamplingSettings(temperature=0, max_new_tokens=NEW_TOKENS)
    for _ in range(REPEATS):
        begin = time.perf_counter()
        stream = local.stream_text(PROMPT, config.DEFAULT_TEXT_MODEL, "", settings)
        pieces = iter(stream)
        next(pieces)
        first = time.perf_counter()
        for _ in pieces:
            pass
        end = time.perf_counter()
        firsts.append(first - begin)
        rates.append((stream.completion_tokens - 1) / (end - first))
        tokens = stream.completion_tokens
    return statistics.median(firsts), statistics.median(rates), tokens


def bare_generate(model, ids: torch.Tensor) -> tuple[float, float]:
    """Time to first token and decode tokens/s of a plain fp32 model.generate (greedy)."""
    with torch.inference_mode():
        first = statistics.median(timed(lambda: model.generate(ids, max_new_tokens=1, do_sample=False))[0] for _ in range(REPEATS))
        total = statistics.median(
            timed(lambda: model.generate(ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False))[0]
            for _ in range(REPEATS)
        )
    return first, (NEW_TOKENS - 1) / (total - first)


def perplexity(model, ids: torch.Tensor, one_token_at_a_time: bool = False) -> float:
    """exp(mean negative log-likelihood) of the fixed text: in one pass (as a prompt is read), or
    token by token through the cache (as generation runs)."""
    with torch.inference_mode():
        if one_token_at_a_time:
            cache = DynamicCache(config=model.config)
            logits = torch.stack([model(ids[:, i : i + 1], past_key_values=cache, use_cache=True).logits[0, -1] for i in range(ids.shape[1] - 1)])
        else:
            logits = model(ids).logits[0, :-1]
    return math.exp(torch.nn.functional.cross_entropy(logits.float(), ids[0, 1:]).item())


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, fast CPU decoder: {config.FAST_CPU}")
    cold, warm = load_times()
    lm = local.load_model(config.DEFAULT_TEXT_MODEL)
    app_first, app_rate, app_tokens = app_path()
    bare = AutoModelForCausalLM.from_pretrained(local.converted_gguf(local.embedded_gguf())).eval()
    ids = local._input_ids(lm, local.chat_messages(PROMPT, ""))[None]
    bare_first, bare_rate = bare_generate(bare, ids)
    text_ids = lm.tokenizer((Path(__file__).parent / "perplexity.txt").read_text(), return_tensors="pt")["input_ids"]
    bare_ppl = perplexity(bare, text_ids)
    app_prompt_ppl, app_decode_ppl = perplexity(lm.model, text_ids), perplexity(lm.model, text_ids, one_token_at_a_time=True)

    print(f"\nload, cold (GGUF -> safetensors): {cold:6.2f} s")
    print(f"load, warm (cached safetensors):  {warm:6.2f} s   goal <= 2 s")
    print(f"\n{'':28}{'first token':>12}{'decode tok/s':>14}")
    print(f"{'app path (stream_text)':28}{app_first * 1000:9.0f} ms{app_rate:14.1f}   ({app_tokens} tokens)")
    print(f"{'bare fp32 model.generate':28}{bare_first * 1000:9.0f} ms{bare_rate:14.1f}")
    print(f"{'llama.cpp anchor':28}{LLAMA_CPP_FIRST_TOKEN_S * 1000:9.0f} ms{LLAMA_CPP_TOKENS_PER_S:14.1f}   (measured earlier, same machine type)")
    print(f"\nratio app / bare fp32 decode:      {app_rate / bare_rate:5.2f}x")
    print(f"ratio app / llama.cpp decode:      {app_rate / LLAMA_CPP_TOKENS_PER_S:5.2f}x   goal >= 0.8x")
    print(f"first token:                       {app_first * 1000:5.0f} ms  goal <= 100 ms")
    print(f"\nperplexity on {text_ids.shape[1]} tokens, bare fp32: {bare_ppl:.3f}")
    for label, value in (("app, prompt pass", app_prompt_ppl), ("app, token by token", app_decode_ppl)):
        print(f"  {label:22}{value:8.3f}   change {100 * (value / bare_ppl - 1):+.2f} %  (limit 2 %)")


if __name__ == "__main__":
    main()
