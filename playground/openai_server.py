"""The playground's local models served in the OpenAI chat-completions and images formats, at /v1.

Any OpenAI SDK script can point its base URL here. With PLAYGROUND_API_KEY set, requests must carry
that key as a Bearer token. Errors use OpenAI's error shape, so clients raise their usual exceptions.
Request bodies are checked against the schemas below (every field error is a 400 naming the field),
and a generation stops as soon as its client goes away, so a dropped connection frees its slot.
"""

import asyncio
import base64
import hmac
import io
import json
import math
import re
import reprlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from PIL import Image
from pydantic import (
    AfterValidator, BaseModel, Discriminator, Field, StrictBool, StrictFloat, StrictInt, StrictStr, Tag, ValidationError,
)
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from playground import config, image
from playground.image import diffusion, gan
from playground.text import local
from playground.text.openai_api import SERVER_TOP_LOGPROBS
from playground.text.sampling import Candidate, SamplingSettings, TokenStep
from playground.text.stream import TextStream
from playground.validation import check_int, check_text, lone_surrogate

router = APIRouter(prefix="/v1")
_slots = threading.BoundedSemaphore(config.SERVER_MAX_CONCURRENT)
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
SMALLEST_PROBABILITY = 1e-45  # the smallest float32 above 0: the log-probability of a token float32 rounded to 0
MAX_IMAGE_SIDE = 1024  # the largest pictures we upscale to (dall-e-2's largest size)
DISCONNECT_POLL_S = 0.25  # how often a non-streamed request checks that its client is still there
T = TypeVar("T")
Schema = TypeVar("Schema", bound=BaseModel)


def _error(
    status: int, message: str, kind: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def _authorized(request: Request) -> bool:
    if not config.SERVER_API_KEY:
        return True
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), config.SERVER_API_KEY.encode())


def _unauthorized() -> JSONResponse:
    return _error(401, "missing or wrong API key for this server", code="invalid_api_key")


def _unicode(value: str) -> str:
    """Refuse lone surrogates (a JSON escape like \\ud800 alone): they are no text a model or a reply can hold."""
    at = lone_surrogate(value)
    if at is not None:
        raise PydanticCustomError("unicode", "must be Unicode text without lone surrogates (character {at} is one)",
                                  {"at": at})
    return value


# The request schemas: strict where OpenAI is (no "1" for 1, no 1.0 for n); the value limits (temperature range,
# number of images...) are checked once, by SamplingSettings and ImageSettings.
Text = Annotated[StrictStr, AfterValidator(_unicode)]
Int = Annotated[StrictInt, Field(ge=-(2**63), lt=2**63)]  # a 64-bit integer, as OpenAI's API takes
Number = StrictFloat  # a float or an int, never a string or a boolean


class _Request(BaseModel):
    def field_of(self, setting: str) -> str | None:
        """The field of this request that gave a setting the shared checks name (they use the app's names), or
        None when no field did."""
        return setting if setting in type(self).model_fields else None


class ContentPart(BaseModel):
    type: Literal["text"]  # this server reads text only
    text: Text


# A message's content is a string or a list of parts; the tags pick the branch, and leave the field paths
# of errors (see _field_path).
CONTENT_TAGS = ("string", "parts")
Content = Annotated[
    Annotated[Text, Tag("string")] | Annotated[list[ContentPart], Tag("parts")],
    Discriminator(lambda value: "parts" if isinstance(value, list) else "string"),
]


class Message(BaseModel):
    role: Literal[tuple(ROLES)]
    content: Content | None = None

    def text(self) -> str:
        content = self.content if not isinstance(self.content, list) else "".join(part.text for part in self.content)
        return check_text("content", content, config.MAX_PROMPT_CHARS, required=False)


class ChatRequest(_Request):
    """What /v1/chat/completions reads; other fields that OpenAI clients send are ignored."""

    model: Text
    messages: list[Message] = Field(min_length=1, max_length=config.MAX_CHAT_MESSAGES)
    temperature: Number | None = None
    top_p: Number | None = None
    top_k: Int | None = None  # extension
    repetition_penalty: Number | None = None  # extension
    max_tokens: Int | None = None
    max_completion_tokens: Int | None = None
    seed: Int | None = None
    n: Int | None = None
    stream: StrictBool | None = None
    logprobs: StrictBool | None = None
    top_logprobs: Int | None = None

    def conversation(self) -> list[dict[str, str]]:
        checked = [{"role": ROLES[message.role], "content": message.text()} for message in self.messages]
        if not any(message["content"].strip() for message in checked):
            raise ValueError("messages must not all be empty")
        return checked

    def settings(self) -> SamplingSettings:
        """OpenAI's defaults (temperature 1, top_p 1) for what the request leaves out."""
        max_tokens = _given(self.max_completion_tokens, _given(self.max_tokens, min(256, config.MAX_NEW_TOKENS)))
        return SamplingSettings(
            temperature=_given(self.temperature, 1.0),
            top_p=_given(self.top_p, 1.0),
            top_k=_given(self.top_k, 0),
            max_new_tokens=max_tokens,
            repetition_penalty=_given(self.repetition_penalty, 1.0),
            seed=_given(self.seed, 0),
        )

    def field_of(self, setting: str) -> str | None:
        if setting == "max_new_tokens":
            return "max_tokens" if self.max_completion_tokens is None else "max_completion_tokens"
        return super().field_of(setting)

    def top_logprobs_count(self) -> int | None:
        if not self.logprobs:
            return None
        return check_int("top_logprobs", _given(self.top_logprobs, 0), 0, SERVER_TOP_LOGPROBS)


class ImageRequest(_Request):
    """What /v1/images/generations reads; other fields that OpenAI clients send are ignored."""

    prompt: Text
    model: Text | None = None
    n: Int | None = None
    size: Text | None = None
    response_format: Literal["b64_json"] | None = None  # this server returns no URLs
    seed: Int | None = None  # extension

    def field_of(self, setting: str) -> str | None:
        return "n" if setting == "num_images" else super().field_of(setting)


def _given(value: T | None, default: T) -> T:
    return default if value is None else value


class _Refused(Exception):
    """A request answered with an OpenAI error before any work: its response says why."""

    def __init__(self, response: JSONResponse):
        super().__init__()
        self.response = response


def _bad_value(error: ValueError, body: _Request) -> JSONResponse:
    """400 for a value the shared checks refused. Their messages start with the setting's name, which becomes the
    name of the request's field that gave it (n, not num_images), so the client reads what it sent."""
    name, _, rest = str(error).partition(" ")
    field = body.field_of(name)
    return _error(400, f"{field} {rest}" if field else str(error), param=field)


def _field_path(location: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in location if part not in CONTENT_TAGS)


def _invalid(error: ValidationError) -> _Refused:
    """The first problem in the request as one 400: the field's path (e.g. messages.0.role), what it must be,
    and the value given."""
    first = error.errors(include_url=False)[0]
    path = _field_path(first["loc"])
    given = "" if first["type"] == "missing" else f", got {reprlib.repr(first['input'])}"
    return _Refused(_error(400, f"{path or 'the request body'}: {first['msg']}{given}", param=path or None))


async def _body(request: Request) -> bytes:
    """The raw body, refused with 413 past config.SERVER_MAX_BODY_BYTES, whether announced or only streamed."""
    limit = config.SERVER_MAX_BODY_BYTES
    too_large = _Refused(_error(413, f"the request body is larger than this server's limit of {limit} bytes",
                                code="request_too_large"))
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def _parse(request: Request, schema: type[Schema]) -> Schema:
    """The body checked against schema; _Refused with OpenAI's error when it is too large or does not fit.

    json.loads, not pydantic's own parser: that one refuses a lone surrogate escape without saying in which
    field, while json.loads keeps it for the schema to name. Its recursion limit stops a deeply nested body.
    """
    raw = await _body(request)
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _Refused(_error(400, "the request body is not valid JSON: it is nested too deeply")) from None
    except ValueError as error:  # also UnicodeDecodeError: bytes that are no text
        raise _Refused(_error(400, f"the request body is not valid JSON: {error}")) from None
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        raise _invalid(error) from None


async def _stopped_on_disconnect(request: Request, work: Callable[[], T], stop: threading.Event) -> T:
    """work() in a thread; if the client goes away meanwhile, stop is set so that work ends early (its result,
    then, goes nowhere) and the caller can free its slot at once."""
    running = asyncio.ensure_future(run_in_threadpool(work))
    while not stop.is_set():
        done, _ = await asyncio.wait([running], timeout=DISCONNECT_POLL_S)
        if done:
            break
        if await request.is_disconnected():
            stop.set()
    return await running


def _logprobs_json(steps: list[TokenStep], top: int) -> dict:
    """Each token's log-probability at T = 1 (after the repetition penalty) and its top alternatives, as OpenAI reports."""

    def item(candidate: Candidate) -> dict:
        logprob = math.log(max(candidate.probability, SMALLEST_PROBABILITY))  # float32 softmax may round to 0
        return {"token": candidate.token, "logprob": logprob, "bytes": list(candidate.token.encode())}

    return {"content": [item(s.token) | {"top_logprobs": [item(c) for c in s.candidates[:top]]} for s in steps]}


@router.get("/models")
def list_models(request: Request) -> JSONResponse:
    """The local models this server answers for."""
    if not _authorized(request):
        return _unauthorized()
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "generative-playground"} for name in config.TEXT_MODELS]
    return JSONResponse({"object": "list", "data": data})


@router.post("/chat/completions", response_model=None)
async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
    """Chat completions with a local model, streamed (server-sent events) or whole."""
    if not _authorized(request):
        return _unauthorized()
    try:
        body = await _parse(request, ChatRequest)
        if body.model not in config.TEXT_MODELS:
            return _error(404, f"model {body.model!r} does not exist here; see /v1/models", param="model",
                          code="model_not_found")
        messages, settings, top_logprobs = body.conversation(), body.settings(), body.top_logprobs_count()
        if _given(body.n, 1) != 1:
            raise ValueError(f"n must be 1: this server makes one choice per request, got {body.n}")
    except _Refused as refused:
        return refused.response
    except ValueError as error:
        return _bad_value(error, body)
    if not _slots.acquire(blocking=False):
        return _error(429, "the server is busy with other requests; retry shortly", "rate_limit_error")
    try:
        stream = await run_in_threadpool(local.stream_chat, messages, body.model, settings)
    except ValueError as error:
        _slots.release()
        return _bad_value(error, body)
    except BaseException:
        _slots.release()
        raise
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        return _EventStream(_events(stream, reply_id, created, body.model, top_logprobs), stream)
    try:
        text = await _stopped_on_disconnect(request, stream.text, stream.stopped)
    finally:
        _slots.release()
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": text},
        "logprobs": None if top_logprobs is None else _logprobs_json(stream.steps, top_logprobs),
        "finish_reason": stream.finish_reason,
    }
    usage = {
        "prompt_tokens": stream.prompt_tokens,
        "completion_tokens": stream.completion_tokens,
        "total_tokens": stream.prompt_tokens + stream.completion_tokens,
    }
    return JSONResponse({
        "id": reply_id, "object": "chat.completion", "created": created, "model": body.model, "choices": [choice],
        "usage": usage,
    })


def _events(stream: TextStream, reply_id: str, created: int, model: str, top_logprobs: int | None) -> Iterator[str]:
    """Server-sent events in OpenAI's chunk format."""

    def chunk(delta: dict, finish_reason: str | None = None, steps: list[TokenStep] | None = None) -> str:
        logprobs = None if steps is None else _logprobs_json(steps, top_logprobs)
        choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
        body = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [choice]}
        return f"data: {json.dumps(body)}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        reported = 0
        for piece in stream:
            new_steps = None if top_logprobs is None else stream.steps[reported:]
            reported += len(new_steps or [])
            yield chunk({"content": piece}, steps=new_steps)
        yield chunk({}, stream.finish_reason)
        yield "data: [DONE]\n\n"
    except ValueError as error:
        yield f"data: {json.dumps({'error': {'message': str(error), 'type': 'server_error'}})}\n\n"


class _EventStream(StreamingResponse):
    """The events of one streamed generation, which holds a slot: however the response ends (finished, dropped
    by the client, failed), the generation is stopped and the slot freed right then.

    Starlette runs the events iterator in its thread pool and, when the client goes away, stops pulling from it
    without closing it, so a cleanup inside the iterator would wait for the garbage collector.
    """

    def __init__(self, events: Iterator[str], stream: TextStream):
        super().__init__(events, media_type="text/event-stream")
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.stream.stop()
            _slots.release()


IMAGE_MODELS = {"emoji-gan": "gan", config.OWN_DIFFUSION_MODEL: "diffusion"}  # served model name -> backend


class _ClientGone(Exception):
    """Raised from a denoising step to end the work of a client that went away."""


def _native_side(backend: str) -> int:
    """Pixels per side of the pictures our model for backend makes (loading it, once)."""
    if backend == "gan":
        return gan.load_gan().config.image_size
    return diffusion.load_pipeline(config.OWN_DIFFUSION_MODEL).pipeline.image_size


def _side(size: str | None, native: int) -> int:
    """Pixels per side for the size asked: the model's own, or a multiple of it (upscaled) up to MAX_IMAGE_SIDE."""
    if size in (None, "auto"):
        return native
    match = re.fullmatch(r"([1-9][0-9]*)x\1", size)
    side = int(match[1]) if match else 0
    if side % native or not native <= side <= MAX_IMAGE_SIDE:
        raise ValueError(f"size must be 'auto' or a square whose side is a multiple of {native} pixels up to "
                         f"{MAX_IMAGE_SIDE}, like '{native}x{native}' or '{native * 2}x{native * 2}', got {size!r}")
    return side


def _png_base64(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@router.post("/images/generations")
async def image_generations(request: Request) -> JSONResponse:
    """OpenAI's Images API with our own models (b64_json only), at their own size or upscaled (Lanczos)."""
    if not _authorized(request):
        return _unauthorized()
    try:
        body = await _parse(request, ImageRequest)
        model = body.model or config.OWN_DIFFUSION_MODEL
        if model not in IMAGE_MODELS:
            return _error(404, f"model {model!r} does not exist here; image models: {', '.join(IMAGE_MODELS)}",
                          param="model", code="model_not_found")
        settings = image.ImageSettings(
            prompt=check_text("prompt", body.prompt, config.MAX_PROMPT_CHARS),
            backend=IMAGE_MODELS[model],
            num_images=_given(body.n, 1),
            seed=_given(body.seed, 0),
        )
        side = _side(body.size, await run_in_threadpool(_native_side, settings.backend))
    except _Refused as refused:
        return refused.response
    except ValueError as error:
        return _bad_value(error, body)
    if not _slots.acquire(blocking=False):
        return _error(429, "the server is busy with other requests; retry shortly", "rate_limit_error")
    stop = threading.Event()

    def on_step(done: int, total: int) -> None:
        if stop.is_set():
            raise _ClientGone("the client went away")

    try:
        result = await _stopped_on_disconnect(request, lambda: image.generate_image(settings, on_step), stop)
    except ValueError as error:  # also a generation ended by _ClientGone: this answer goes nowhere
        return _bad_value(error, body)
    finally:
        _slots.release()
    pictures = [p if p.width == side else p.resize((side, side), Image.Resampling.LANCZOS) for p in result.images]
    return JSONResponse({"created": int(time.time()), "data": [{"b64_json": _png_base64(p)} for p in pictures]})
