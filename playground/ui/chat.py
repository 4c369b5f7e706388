"""The Text tab's chat: a conversation of several turns with the tab's backend, model, system prompt and sampling
settings, since a playground user follows up on a reply; and /chat, the same for API callers, taking OpenAI-style
messages."""

from collections.abc import Iterator

import gradio as gr

from playground import config, text
from playground.text.sampling import SamplingSettings
from playground.text.stream import system_turn
from playground.ui.common import show_errors
from playground.validation import check_int, check_text

DEFAULTS = SamplingSettings()

HOW_IT_WORKS = """
The model has no memory: every turn sends it the whole conversation — the system prompt above first, then every
message and reply so far — and it writes the next reply. It uses the backend, model and sampling settings above.
**Regenerate** draws the last reply again with the next seed (shown in the Seed box; at temperature 0 the reply is
always the same). **Clear** starts a new conversation.
"""


@show_errors
def chat(
    messages: list[dict[str, str]],
    backend: str = "local",
    model: str = "",
    temperature: float = DEFAULTS.temperature,
    top_p: float = DEFAULTS.top_p,
    top_k: int = DEFAULTS.top_k,
    max_new_tokens: int = DEFAULTS.max_new_tokens,
    repetition_penalty: float = DEFAULTS.repetition_penalty,
    seed: int = DEFAULTS.seed,
    base_url: str = "",
    api_key: str = "",
) -> Iterator[str]:
    """Stream the assistant's next reply to an OpenAI-style conversation ([{"role": "system" | "user" | "assistant",
    "content": "..."}], the user's message last); each value is the reply so far, the last one the whole reply."""
    settings = SamplingSettings(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed)
    yield from text.stream_chat(messages, backend, model, settings, base_url, api_key).so_far()


@show_errors
def _add_message(history: list[dict[str, str]], message: str):
    """The user's message appended to the conversation, shown, and the box emptied."""
    history = history + [{"role": "user", "content": check_text("message", message, config.MAX_PROMPT_CHARS)}]
    return history, history, ""


@show_errors
def _drop_reply(history: list[dict[str, str]], seed: int):
    """The conversation without its last reply, and the next seed, so that the reply is drawn again differently."""
    if not history:
        raise ValueError("there is no reply to regenerate yet: send a message first")
    seed = check_int("seed", seed, 0, config.MAX_SEED)
    history = history[:-1] if history[-1]["role"] == "assistant" else history
    return history, history, (seed + 1) % (config.MAX_SEED + 1)


@show_errors
def _reply(history: list[dict[str, str]], system_prompt: str, *settings) -> Iterator[tuple[list, list]]:
    """Stream the next reply into the conversation; a reply stopped halfway stays, as the model will see it."""
    for reply in chat(system_turn(system_prompt) + history, *settings):
        shown = history + [{"role": "assistant", "content": reply}]
        yield shown, shown


def build_chat(
    backend: gr.Radio,
    model: gr.Dropdown,
    system_prompt: gr.Textbox,
    temperature: gr.Slider,
    top_p: gr.Slider,
    top_k: gr.Slider,
    max_new_tokens: gr.Slider,
    repetition_penalty: gr.Slider,
    seed: gr.Number,
    base_url: gr.Textbox,
    api_key: gr.Textbox,
) -> None:
    """Lay out the chat inside the current Blocks context, using the Text tab's settings, and wire its events."""
    gr.Markdown(HOW_IT_WORKS)
    conversation = gr.Chatbot(label="Conversation", height=360, buttons=["copy", "copy_all"], elem_id="chat-conversation")
    message = gr.Textbox("", label="Message", lines=2, placeholder="Say something, then follow up…", elem_id="chat-message")
    with gr.Row():
        send = gr.Button("Send", variant="primary", elem_id="chat-send")
        regenerate = gr.Button("Regenerate", elem_id="chat-regenerate")
        stop = gr.Button("Stop", variant="stop", elem_id="chat-stop")
        clear = gr.Button("Clear", elem_id="chat-clear")
    history = gr.State([])  # the conversation as the model reads it (the Chatbot's own value is reformatted)

    settings = [backend, model, temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, base_url, api_key]
    sending = gr.on(
        [send.click, message.submit], _add_message, [history, message], [history, conversation, message],
        api_visibility="private",
    ).success(_reply, [history, system_prompt, *settings], [conversation, history], api_visibility="private")
    regenerating = regenerate.click(_drop_reply, [history, seed], [history, conversation, seed], api_visibility="private").success(
        _reply, [history, system_prompt, *settings], [conversation, history], api_visibility="private"
    )
    stop.click(None, cancels=[sending, regenerating])
    gr.on([clear.click, conversation.clear], lambda: ([], [], ""), None, [history, conversation, message],
          cancels=[sending, regenerating], api_visibility="private")
    gr.api(chat, api_name="chat")
