"""Text generation through the OpenAI API or any OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio).

The key comes from the caller (one browser session) or from OPENAI_API_KEY; it is handed to the
client and never logged, stored or put into a message. Failures become short readable ValueErrors.
"""

import os
from collections.abc import Iterator
from urllib.parse import urlparse

import openai
import torch

from playground import config
from playground.text.sampling import NextTokenScores, SamplingSettings
from playground.text.stream import TextStream, chat_messages
from playground.validation import check_text

MAX_FIELD_CHARS = 300
SERVER_TOP_LOGPROBS = 20  # the most candidates the OpenAI API returns per token


def _client(base_url: str, api_key: str) -> openai.OpenAI:
    base_url = check_text("base_url", base_url, MAX_FIELD_CHARS, required=False).strip()
    api_key = check_text("api_key", api_key, MAX_FIELD_CHARS, required=False).strip()
    if base_url and (urlparse(base_url).scheme not in ("http", "https") or not urlparse(base_url).netloc):
        raise ValueError(f"base_url must be an http:// or https:// address, got {base_url!r}")
    key = api_key or os.environ.get("OPENAI_API_KEY", "")
    if not key and not base_url:
        raise ValueError("api_key is missing: type your OpenAI API key, or set OPENAI_API_KEY on the server")
    return openai.OpenAI(
        api_key=key or "no-key",  # many local servers need none
        base_url=base_url or None,
        timeout=config.OPENAI_TIMEOUT_S,
        max_retries=config.OPENAI_MAX_RETRIES,
    )


def readable_error(error: openai.OpenAIError, model: str, base_url: str) -> ValueError:
    """A short message for an OpenAI client failure, without the server's raw text (it may quote the key)."""
    server = base_url or "the OpenAI API"
    if isinstance(error, openai.APITimeoutError):
        return ValueError(f"{server} did not answer within {config.OPENAI_TIMEOUT_S:g} s (timeout); try again")
    if isinstance(error, openai.APIConnectionError):
        return ValueError(f"could not connect to {server}: check the base URL and that the server is running")
    status = getattr(error, "status_code", None)
    messages = {
        400: "the server rejected the request (400 Bad Request): a setting may not be supported",
        401: "the API key was rejected (401 Unauthorized): check the key",
        403: f"this key may not use model {model!r} (403 Forbidden)",
        404: f"model {model!r} was not found on {server} (404 Not Found)",
        429: "too many requests or quota used up (429): wait a moment, or check the account's plan",
    }
    if status in messages:
        return ValueError(messages[status])
    if status is not None and status >= 500:
        return ValueError(f"{server} failed with an internal error ({status}); try again later")
    return ValueError(f"the request to {server} failed ({type(error).__name__})")


def stream_text(
    prompt: str,
    model: str = config.DEFAULT_OPENAI_MODEL,
    system_prompt: str = "",
    settings: SamplingSettings = SamplingSettings(),
    base_url: str = "",
    api_key: str = "",
) -> TextStream:
    """Stream a chat completion; top_k and repetition_penalty reach only compatible servers (a base URL)."""
    messages = chat_messages(prompt, system_prompt)
    model = check_text("model", model, MAX_FIELD_CHARS).strip()
    client = _client(base_url, api_key)
    extra = {}
    if base_url and base_url.strip():  # a compatible server; the OpenAI API itself rejects these settings
        if settings.top_k:
            extra["top_k"] = settings.top_k
        if settings.repetition_penalty != 1.0:
            extra["repetition_penalty"] = settings.repetition_penalty
    try:
        chunks = client.chat.completions.create(
            model=model,
            messages=messages,
            temperature=settings.temperature,
            top_p=settings.top_p,
            max_tokens=settings.max_new_tokens,
            seed=settings.seed,
            stream=True,
            extra_body=extra or None,
        )
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
                yield choice.delta.content
    except openai.OpenAIError as error:
        raise readable_error(error, model, base_url) from None
    finally:
        chunks.close()


def next_token_scores(
    prompt: str, model: str = config.DEFAULT_OPENAI_MODEL, system_prompt: str = "", base_url: str = "", api_key: str = ""
) -> NextTokenScores:
    """The server's most likely first tokens of the reply, from logprobs/top_logprobs (at most 20 of them)."""
    messages = chat_messages(prompt, system_prompt)
    model = check_text("model", model, MAX_FIELD_CHARS).strip()
    client = _client(base_url, api_key)
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
