"""Text speed on this machine: the app's path for the embedded model against a bare fp32 `model.generate`
measured in the same run, so that noise on a shared machine cancels out in the ratios.

Prints load time (cold: GGUF conversion; warm: cached safetensors), time to first token, decode
tokens/s, and perplexity on a fixed text (any speed-up must stay within 2 % of fp32). With
llama-cpp-python installed, llama.cpp on the same GGUF is measured too; on this machine type build it
without the native CPU detection (the native build, which detects AMX here, crashed in its first decode):
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON \
        -DGGML_AVX512_VNNI=ON -DGGML_AVX_VNNI=ON" .venv/bin/pip install --no-deps llama-cpp-python==0.3.36 diskcache
Run: make bench
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
# llama.cpp on the same GGUF, measured earlier on this 2-core machine type: used when llama-cpp-python is absent.
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


def llama_cpp(gguf: Path, prompt_ids: list[int]) -> tuple[float, float] | None:
    """Time to first token and decode tokens/s of llama.cpp on the same GGUF, when llama-cpp-python is installed."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    llm = Llama(model_path=str(gguf), n_ctx=1024, n_threads=torch.get_num_threads(), verbose=False)
    firsts, rates = [], []
    for _ in range(REPEATS):
        llm.reset()
        begin = time.perf_counter()
        for count, _token in enumerate(llm.generate(prompt_ids, temp=0.0), start=1):
            if count == 1:
                first = time.perf_counter()
            if count == NEW_TOKENS:
                break
        end = time.perf_counter()
        firsts.append(first - begin)
        rates.append((NEW_TOKENS - 1) / (end - first))
    return statistics.median(firsts), statistics.median(rates)


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
    ids = local.input_ids(lm, local.chat_messages(PROMPT, ""))[None]
    bare_first, bare_rate = bare_generate(bare, ids)
    measured = llama_cpp(local.embedded_gguf(), ids[0].tolist())
    cpp_first, cpp_rate = measured or (LLAMA_CPP_FIRST_TOKEN_S, LLAMA_CPP_TOKENS_PER_S)
    cpp_note = "(measured in this run)" if measured else "(anchor measured earlier on this machine type; install llama-cpp-python to measure)"
    text_ids = lm.tokenizer((Path(__file__).parent / "perplexity.txt").read_text(), return_tensors="pt")["input_ids"]
    bare_ppl = perplexity(bare, text_ids)
    app_prompt_ppl, app_decode_ppl = perplexity(lm.model, text_ids), perplexity(lm.model, text_ids, one_token_at_a_time=True)

    print(f"\nload, cold (GGUF -> safetensors): {cold:6.2f} s")
    print(f"load, warm (cached safetensors):  {warm:6.2f} s   goal <= 2 s")
    print(f"\n{'':28}{'first token':>12}{'decode tok/s':>14}")
    print(f"{'app path (stream_text)':28}{app_first * 1000:9.0f} ms{app_rate:14.1f}   ({app_tokens} tokens)")
    print(f"{'bare fp32 model.generate':28}{bare_first * 1000:9.0f} ms{bare_rate:14.1f}")
    print(f"{'llama.cpp, same GGUF':28}{cpp_first * 1000:9.0f} ms{cpp_rate:14.1f}   {cpp_note}")
    print(f"\nratio app / bare fp32 decode:      {app_rate / bare_rate:5.2f}x")
    print(f"ratio app / llama.cpp decode:      {app_rate / cpp_rate:5.2f}x   goal >= 0.8x")
    print(f"first token:                       {app_first * 1000:5.0f} ms  goal <= 100 ms")
    print(f"\nperplexity on {text_ids.shape[1]} tokens, bare fp32: {bare_ppl:.3f}")
    for label, value in (("app, prompt pass", app_prompt_ppl), ("app, token by token", app_decode_ppl)):
        print(f"  {label:22}{value:8.3f}   change {100 * (value / bare_ppl - 1):+.2f} %  (limit 2 %)")


if __name__ == "__main__":
    main()
