"""The playground's local models served in the OpenAI chat-completions and images formats, at /v1.

Any OpenAI SDK script can point its base URL here. With PLAYGROUND_API_KEY set, requests must carry
that key as a Bearer token. Errors use OpenAI's error shape, so clients raise their usual exceptions.
"""

import base64
import hmac
import io
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from PIL import Image
from starlette.concurrency import run_in_threadpool

from playground import config, image
from playground.text import local
from playground.text.openai_api import SERVER_TOP_LOGPROBS
from playground.text.sampling import SamplingSettings
from playground.text.stream import TextStream, TokenLogprob
from playground.validation import check_int, check_text

router = APIRouter(prefix="/v1")
_slots = threading.BoundedSemaphore(config.SERVER_MAX_CONCURRENT)
MAX_MESSAGES = 64
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def _error(status: int, message: str, kind: str, code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


def _authorized(request: Request) -> bool:
    if not config.SERVER_API_KEY:
        return True
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), config.SERVER_API_KEY.encode())


def _unauthorized() -> JSONResponse:
    return _error(401, "missing or wrong API key for this server", "invalid_request_error", "invalid_api_key")


def _content(message: object) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")
    return check_text("content", content, config.MAX_PROMPT_CHARS, required=False)


def _messages(body: dict) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise ValueError(f"messages must be a list of 1 to {MAX_MESSAGES} messages")
    checked = []
    for message in messages:
        role = ROLES.get(message.get("role") if isinstance(message, dict) else None)
        if role is None:
            raise ValueError(f"each message's role must be one of {', '.join(ROLES)}")
        checked.append({"role": role, "content": _content(message)})
    if not any(message["content"].strip() for message in checked):
        raise ValueError("messages must not all be empty")
    return checked


async def _json_object(request: Request) -> dict:
    """The request's JSON body; ValueError (answered with 400) when it is not a JSON object."""
    body = await request.json()  # malformed JSON raises json.JSONDecodeError, a ValueError
    if not isinstance(body, dict):
        raise ValueError("the request body must be a JSON object")
    return body


def _given(body: dict, name: str, default: object) -> object:
    value = body.get(name)
    return default if value is None else value


def _settings(body: dict) -> SamplingSettings:
    """OpenAI's defaults (temperature 1, top_p 1) for what the request leaves out."""
    max_tokens = _given(body, "max_completion_tokens", _given(body, "max_tokens", min(256, config.MAX_NEW_TOKENS)))
    return SamplingSettings(
        temperature=_given(body, "temperature", 1.0),
        top_p=_given(body, "top_p", 1.0),
        top_k=_given(body, "top_k", 0),
        max_new_tokens=max_tokens,
        repetition_penalty=_given(body, "repetition_penalty", 1.0),
        seed=_given(body, "seed", 0),
    )


def _top_logprobs(body: dict) -> int | None:
    if not body.get("logprobs"):
        return None
    return check_int("top_logprobs", _given(body, "top_logprobs", 0), 0, SERVER_TOP_LOGPROBS)


def _logprobs_json(entries: list[TokenLogprob]) -> dict:
    def item(token: str, logprob: float) -> dict:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    return {
        "content": [
            item(entry.token, entry.logprob) | {"top_logprobs": [item(t, lp) for t, lp in entry.top_logprobs]}
            for entry in entries
        ]
    }


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
        body = await _json_object(request)
        model = body.get("model")
        if model not in config.TEXT_MODELS:
            return _error(404, f"model {model!r} does not exist here; see /v1/models", "invalid_request_error", "model_not_found")
        messages, settings, top_logprobs = _messages(body), _settings(body), _top_logprobs(body)
        if body.get("n", 1) != 1:
            raise ValueError("n must be 1: this server makes one choice per request")
    except ValueError as error:
        return _error(400, str(error), "invalid_request_error")
    if not _slots.acquire(blocking=False):
        return _error(429, "the server is busy with other requests; retry shortly", "rate_limit_error")
    try:
        stream = await run_in_threadpool(local.stream_chat, messages, model, settings, top_logprobs)
    except ValueError as error:
        _slots.release()
        return _error(400, str(error), "invalid_request_error")
    except BaseException:
        _slots.release()
        raise
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.get("stream"):
        events = _events(stream, reply_id, created, model)
        first = next(events)  # started, so that closing it (also on a dropped connection) frees the slot
        return StreamingResponse(itertools.chain([first], events), media_type="text/event-stream")
    try:
        text = await run_in_threadpool(stream.text)
    finally:
        _slots.release()
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": text},
        "logprobs": None if stream.logprobs is None else _logprobs_json(stream.logprobs),
        "finish_reason": stream.finish_reason,
    }
    usage = {
        "prompt_tokens": stream.prompt_tokens,
        "completion_tokens": stream.completion_tokens,
        "total_tokens": stream.prompt_tokens + stream.completion_tokens,
    }
    return JSONResponse(
        {"id": reply_id, "object": "chat.completion", "created": created, "model": model, "choices": [choice], "usage": usage}
    )


def _events(stream: TextStream, reply_id: str, created: int, model: str) -> Iterator[str]:
    """Server-sent events in OpenAI's chunk format; frees the request's slot when done or abandoned."""

    def chunk(delta: dict, finish_reason: str | None = None, logprobs: list[TokenLogprob] | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None if logprobs is None else _logprobs_json(logprobs), "finish_reason": finish_reason}
        body = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [choice]}
        return f"data: {json.dumps(body)}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        reported = 0
        for piece in stream:
            new_logprobs = None if stream.logprobs is None else stream.logprobs[reported:]
            reported += len(new_logprobs or [])
            yield chunk({"content": piece}, logprobs=new_logprobs)
        yield chunk({}, stream.finish_reason)
        yield "data: [DONE]\n\n"
    except ValueError as error:
        yield f"data: {json.dumps({'error': {'message': str(error), 'type': 'server_error'}})}\n\n"
    finally:
        _slots.release()


IMAGE_MODELS = {"emoji-gan": "gan", config.OWN_DIFFUSION_MODEL: "diffusion"}  # served model name -> backend


def _png_base64(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@router.post("/images/generations")
async def image_generations(request: Request) -> JSONResponse:
    """OpenAI's Images API with our own models (b64_json only; the size is the model's own)."""
    if not _authorized(request):
        return _unauthorized()
    try:
        body = await _json_object(request)
        model = body.get("model") or config.OWN_DIFFUSION_MODEL
        if model not in IMAGE_MODELS:
            return _error(404, f"model {model!r} does not exist here; image models: {', '.join(IMAGE_MODELS)}",
                          "invalid_request_error", "model_not_found")
        if _given(body, "response_format", "b64_json") != "b64_json":
            raise ValueError("response_format must be 'b64_json': this server returns no URLs")
        settings = image.ImageSettings(
            prompt=check_text("prompt", body.get("prompt"), config.MAX_PROMPT_CHARS),
            backend=IMAGE_MODELS[model],
            num_images=_given(body, "n", 1),
            seed=_given(body, "seed", 0),
        )
    except ValueError as error:
        return _error(400, str(error), "invalid_request_error")
    if not _slots.acquire(blocking=False):
        return _error(429, "the server is busy with other requests; retry shortly", "rate_limit_error")
    try:
        result = await run_in_threadpool(image.generate_image, settings)
    except ValueError as error:
        return _error(400, str(error), "invalid_request_error")
    finally:
        _slots.release()
    data = [{"b64_json": _png_base64(picture)} for picture in result.images]
    return JSONResponse({"created": int(time.time()), "data": data})
