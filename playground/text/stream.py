"""What every text backend shares: the conversation it is given and the stream it returns."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from playground import config
from playground.text.sampling import TokenStep
from playground.validation import check_choice, check_text, json_type


@dataclass
class TextStream:
    """Iterate to receive the generated text piece by piece; once finished, the counts say how it went.

    Backends check inputs and reach the model before returning a stream, so errors surface on the
    call, not halfway through the text. stop() ends a local generation before its next token, from any
    thread: a server whose client went away frees the model at once instead of generating for nobody.
    """

    pieces: Iterator[str] = field(repr=False)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None  # "stop" (end of text), "length" (max_new_tokens reached), None if stopped
    steps: list[TokenStep] = field(default_factory=list)  # each token's step, filled while streaming (local models)
    stopped: threading.Event = field(default_factory=threading.Event, repr=False)  # set by stop()

    def __iter__(self) -> Iterator[str]:
        return self.pieces

    def stop(self) -> None:
        """Ask the generation to end before its next token (the text so far stays valid)."""
        self.stopped.set()

    def text(self) -> str:
        """Run the stream to its end and return the whole text."""
        return "".join(self.pieces)

    def so_far(self) -> Iterator[str]:
        """Run the stream, yielding the whole text so far: "" at once (a page clears its last reply), then one value
        per piece, the last one the whole text."""
        text = ""
        yield text
        for piece in self.pieces:
            text += piece
            yield text


ROLES = ("system", "user", "assistant")


def system_turn(system_prompt: str) -> list[dict[str, str]]:
    """The system prompt as a conversation's first message (checked), or no message when it is blank."""
    system_prompt = check_text("system_prompt", system_prompt, config.MAX_PROMPT_CHARS, required=False)
    return [{"role": "system", "content": system_prompt}] if system_prompt.strip() else []


def chat_messages(prompt: str, system_prompt: str) -> list[dict[str, str]]:
    """A one-turn conversation: the optional system prompt, then the user's prompt (both checked)."""
    prompt = check_text("prompt", prompt, config.MAX_PROMPT_CHARS)
    return system_turn(system_prompt) + [{"role": "user", "content": prompt}]


def check_messages(messages: object) -> list[dict[str, str]]:
    """An OpenAI-style conversation for the model to answer, checked: a list of {"role", "content"} objects, at most
    one system message and only first, the user's message last; a reply (assistant) may be empty, other messages
    not. Each refusal names the message, e.g. messages[3].role."""
    if not isinstance(messages, list):
        raise ValueError(f'messages must be a list of {{"role": ..., "content": ...}} objects, got {json_type(messages)}')
    if not messages:
        raise ValueError("messages must not be empty: the conversation ends with the user's message")
    if len(messages) > config.MAX_CHAT_MESSAGES:
        raise ValueError(f"messages holds too many messages: {len(messages)}, the limit is {config.MAX_CHAT_MESSAGES}")
    checked = []
    for i, message in enumerate(messages):
        name = f"messages[{i}]"
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            given = sorted(map(str, message)) if isinstance(message, dict) else json_type(message)
            raise ValueError(f'{name} must be an object with the keys "role" and "content" only, got {given}')
        role = check_choice(f"{name}.role", message["role"], ROLES)
        if role == "system" and i > 0:
            raise ValueError(f"{name}.role is 'system', which only the first message may be")
        content = check_text(f"{name}.content", message["content"], config.MAX_PROMPT_CHARS, required=role != "assistant")
        checked.append({"role": role, "content": content})
    if checked[-1]["role"] != "user":
        raise ValueError(f"messages[{len(checked) - 1}].role must be 'user' in the last message (the one the model "
                         f"answers), got {checked[-1]['role']!r}")
    total = sum(len(message["content"]) for message in checked)
    if total > config.MAX_CHAT_CHARS:
        raise ValueError(f"messages are too long: {total} characters in all, the limit is {config.MAX_CHAT_CHARS}")
    return checked
