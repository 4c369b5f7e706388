"""What every text backend shares: the conversation it is given and the stream it returns."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from playground import config
from playground.text.sampling import TokenStep
from playground.validation import check_text


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


def chat_messages(prompt: str, system_prompt: str) -> list[dict[str, str]]:
    """A one-turn conversation: the optional system prompt, then the user's prompt (both checked)."""
    prompt = check_text("prompt", prompt, config.MAX_PROMPT_CHARS)
    system_prompt = check_text("system_prompt", system_prompt, config.MAX_PROMPT_CHARS, required=False)
    return ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [{"role": "user", "content": prompt}]
