"""Text generation through the OpenAI API or any OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio).

The key comes from the caller (one browser session) or from OPENAI_API_KEY; it is handed to the
client and never logged, stored or put into a message. Failures become short readable ValueErrors.
"""

import math
from collections.abc import Iterator

import openai
import torch

from playground import config
from playground.openai_client import make_client, readable_error
from playground.text.sampling import Candidate, NextTokenScores, SamplingSettings, TokenStep
from playground.text.stream import TextStream, chat_messages
from playground.validation import check_text

SERVER_TOP_LOGPROBS = 20  # the most candidates the OpenAI API returns per token


def stream_chat(
    messages: list[dict[str, str]],
    model: str = config.DEFAULT_OPENAI_MODEL,
    settings: SamplingSettings = SamplingSettings(),
    base_url: str = "",
    api_key: str = "",
) -> TextStream:
    """Stream the next turn of a checked conversation as a chat completion; top_k and repetition_penalty reach
    only compatible servers (a base URL)."""
    model = check_text("model", model, config.MAX_NAME_CHARS).strip()
    client = make_client(base_url, api_key)
    extra = {}
    if base_url and base_url.strip():  # a compatible server; the OpenAI API itself rejects these settings
        if settings.top_k:
            extra["top_k"] = settings.top_k
        if settings.repetition_penalty != 1.0:
            extra["repetition_penalty"] = settings.repetition_penalty
    request = dict(
        model=model, messages=messages, temperature=settings.temperature, top_p=settings.top_p,
        max_tokens=settings.max_new_tokens, seed=settings.seed, stream=True, extra_body=extra or None,
    )
    try:
        try:  # each token's probabilities for the token view; some models and servers refuse logprobs
            chunks = client.chat.completions.create(**request, logprobs=True, top_logprobs=SERVER_TOP_LOGPROBS)
        except openai.BadRequestError:
            chunks = client.chat.completions.create(**request)
    except openai.OpenAIError as error:
        raise readable_error(error, model, base_url) from None
    stream = TextStream(iter(()))
    stream.pieces = _pieces(chunks, stream, model, base_url)
    return stream


def _pieces(chunks: Iterator, stream: TextStream, model: str, base_url: str) -> Iterator[str]:
    try:
        for chunk in chunks:
            if not chunk.choices:
                continue
            choice = chunk.choices[0]
            stream.finish_reason = choice.finish_reason or stream.finish_reason
            if choice.delta and choice.delta.content:
                stream.completion_tokens += 1
                stream.steps += [_server_step(entry) for entry in (choice.logprobs.content or [])] if choice.logprobs else []
                yield choice.delta.content
    except openai.OpenAIError as error:
        raise readable_error(error, model, base_url) from None
    finally:
        chunks.close()


def _server_step(entry) -> TokenStep:
    """A token as a server reports it: its probability and alternatives at T = 1 (what it drew with is not reported)."""
    top = sorted(entry.top_logprobs or [], key=lambda candidate: candidate.logprob, reverse=True)
    candidates = [Candidate(c.token, math.exp(c.logprob), math.exp(c.logprob), True) for c in top]
    probability = math.exp(entry.logprob)
    return TokenStep(Candidate(entry.token, probability, probability, True), probability, None, candidates)


def next_token_scores(
    prompt: str, model: str = config.DEFAULT_OPENAI_MODEL, system_prompt: str = "", base_url: str = "", api_key: str = ""
) -> NextTokenScores:
    """The server's most likely first tokens of the reply, from logprobs/top_logprobs (at most 20 of them)."""
    messages = chat_messages(prompt, system_prompt)
    model = check_text("model", model, config.MAX_NAME_CHARS).strip()
    client = make_client(base_url, api_key)
    try:
        reply = client.chat.completions.create(
            model=model, messages=messages, max_tokens=1, temperature=1.0, logprobs=True, top_logprobs=SERVER_TOP_LOGPROBS
        )
    except openai.OpenAIError as error:
        raise readable_error(error, model, base_url) from None
    logprobs = reply.choices[0].logprobs if reply.choices else None
    top = logprobs.content[0].top_logprobs if logprobs and logprobs.content else None
    if not top:
        raise ValueError(
            f"{base_url or 'the OpenAI API'} did not return log-probabilities for {model!r}, so its next-token "
            "distribution cannot be shown (servers that support logprobs/top_logprobs can)"
        )
    top = sorted(top, key=lambda candidate: candidate.logprob, reverse=True)
    return NextTokenScores(
        prompt_tokens=[],
        tokens=[candidate.token for candidate in top],
        logits=torch.tensor([candidate.logprob for candidate in top]),
        complete=False,
    )
