"""Text generation: one entry point per capability, dispatching to the local or the OpenAI backend."""

from collections.abc import Sequence

from playground import config
from playground.openai_client import check_endpoint
from playground.text import local, openai_api
from playground.text.sampling import NextTokenScores, SamplingSettings
from playground.text.stream import TextStream, chat_messages, check_messages
from playground.validation import check_choice, check_text

BACKENDS = ("local", "openai")


def default_model(backend: str) -> str:
    """The model a backend uses when the caller names none."""
    return config.DEFAULT_TEXT_MODEL if backend == "local" else config.DEFAULT_OPENAI_MODEL


def chosen_model(backend: str, model: object) -> str:
    """The model named by the caller (checked: text, not too long), or the backend's default when it is empty."""
    return check_text("model", model, config.MAX_NAME_CHARS, required=False).strip() or default_model(backend)


def stream_text(
    prompt: str,
    backend: str = "local",
    model: str = "",
    system_prompt: str = "",
    settings: SamplingSettings = SamplingSettings(),
    base_url: str = "",
    api_key: str = "",
    reply_token_ids: Sequence[int] = (),
) -> TextStream:
    """Start generating a reply with the chosen backend; iterate the result for the text. With reply_token_ids
    (local models), continue that reply instead: the stream holds the new text, drawn as Generate would have."""
    return stream_chat(chat_messages(prompt, system_prompt), backend, model, settings, base_url, api_key, reply_token_ids)


def stream_chat(
    messages: list[dict[str, str]],
    backend: str = "local",
    model: str = "",
    settings: SamplingSettings = SamplingSettings(),
    base_url: str = "",
    api_key: str = "",
    reply_token_ids: Sequence[int] = (),
) -> TextStream:
    """Start generating the next turn of an OpenAI-style conversation (checked by check_messages) with the chosen
    backend: a playground user follows up on a reply, and the model must see the turns before."""
    messages = check_messages(messages)
    backend = check_choice("backend", backend, BACKENDS)
    model = chosen_model(backend, model)
    base_url, api_key = check_endpoint(base_url, api_key)
    if backend == "local":
        return local.stream_chat(messages, model, settings, reply_token_ids)
    if reply_token_ids:
        raise ValueError("reply_token_ids: continuing a reply from one of its tokens needs the local backend")
    return openai_api.stream_chat(messages, model, settings, base_url, api_key)


def step(
    prompt: str,
    model: str = "",
    system_prompt: str = "",
    settings: SamplingSettings = SamplingSettings(),
    reply_token_ids: Sequence[int] = (),
    chosen: int | None = None,
) -> local.ReplyStep:
    """One turn of the generation loop after the reply so far, on a local model (a server does not show its
    scores for the whole vocabulary): the same step Generate takes there, or the chosen token instead."""
    return local.step(chat_messages(prompt, system_prompt), chosen_model("local", model), settings, reply_token_ids, chosen)


def next_token_scores(
    prompt: str, backend: str = "local", model: str = "", system_prompt: str = "", base_url: str = "", api_key: str = ""
) -> NextTokenScores:
    """The scores of the first token of the reply, which the temperature then reshapes."""
    backend = check_choice("backend", backend, BACKENDS)
    model = chosen_model(backend, model)
    base_url, api_key = check_endpoint(base_url, api_key)
    if backend == "local":
        return local.next_token_scores(prompt, model, system_prompt)
    return openai_api.next_token_scores(prompt, model, system_prompt, base_url, api_key)
