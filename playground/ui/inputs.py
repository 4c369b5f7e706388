"""Every event's raw inputs checked before Gradio acts on them: enough values, and files only from the upload folder.

Gradio copies every file named in a request into its cache before an event handler runs, and its own check
that such a file was uploaded is skipped in an app mounted on FastAPI (it runs only after `launch()`).
A request could name any path on the server (or a URL, which Gradio would download). So every file a request
names must already lie in Gradio's upload folder, as a regular file within the upload size limit, or the request
is refused with a message naming the parameter, before anything is opened, copied or hashed.
"""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from playground import config
from playground.ui.common import user_error
from playground.validation import json_type

FILE_COMPONENTS = (gr.Image, gr.File)  # inputs whose value is one file (or nothing)


def _file_data(value: object) -> Iterator[dict]:
    """Every object in value that names a file: a FileData ("path" and meta._type), or any object with a "path"."""
    if isinstance(value, dict):
        meta = value.get("meta")
        if "path" in value or isinstance(meta, dict) and meta.get("_type") == "gradio.FileData":
            yield value
        else:
            for item in value.values():
                yield from _file_data(item)
    elif isinstance(value, list):
        for item in value:
            yield from _file_data(item)


def uploaded_file(name: str, file: dict) -> Path:
    """The file a FileData names, when it is one the client uploaded; ValueError naming the parameter otherwise."""
    refusal = f"{name} must be a file uploaded to this app"
    path = file.get("path")
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ValueError(f"{refusal}; its path is missing")
    meta = file.get("meta")
    if not (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData"):
        raise ValueError(f"{refusal} (a FileData object, meta {{'_type': 'gradio.FileData'}})")
    folder = Path(get_upload_folder()).resolve()
    try:
        resolved = Path(os.path.abspath(path)).resolve(strict=True)  # symlinks and ".." followed, then compared
        info = resolved.stat()
    except (OSError, RuntimeError):
        raise ValueError(f"{refusal}; {Path(path).name!r} is not one") from None
    if not resolved.is_relative_to(folder) or not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{refusal}; {Path(path).name!r} is not one")
    if info.st_size > config.MAX_UPLOAD_BYTES:
        raise ValueError(f"{name} is too large: {info.st_size} bytes, the limit is {config.MAX_UPLOAD_BYTES}")
    return resolved


def check_event_inputs(names: list[str | None], components: list, values: list) -> None:
    """Refuse a request with too few values, a file input that is not a file, or a file not uploaded here."""
    names = [name or f"value {i + 1}" for i, name in enumerate(names + [None] * (len(components) - len(names)))]
    if len(values) < len(components):
        missing = ", ".join(names[len(values) : len(components)])
        raise ValueError(f"this endpoint takes {len(components)} values ({', '.join(names[: len(components)])}), "
                         f"got {len(values)}: missing {missing}")
    for name, component, value in zip(names, components, values):
        if isinstance(component, FILE_COMPONENTS) and value is not None and not (isinstance(value, dict) and "path" in value):
            raise ValueError(f"{name} must be a file uploaded to this app (a FileData object) or null, got {json_type(value)}")
        for file in _file_data(value):
            uploaded_file(name, file)


class CheckedBlocks(gr.Blocks):
    """Blocks that check every event's raw inputs (check_event_inputs) before Gradio copies or preprocesses them."""

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        if not block_fn.is_validator_function:
            try:
                check_event_inputs(list(block_fn.input_parameter_names or []), list(block_fn.inputs), list(inputs))
            except ValueError as error:
                raise user_error(error) from None
        return await super().preprocess_data(block_fn, inputs, state, explicit_call)
