"""PNG files that carry their own settings, and reading the settings back ("PNG info").

Every saved picture has a `parameters` text chunk (JSON: prompt, seed, model, steps, ...) and is
marked as AI-generated twice: a plain `ai_generated` chunk and the IPTC digital source type
"trainedAlgorithmicMedia" in XMP, which photo tools and content-credential checkers read.
Files go to config.OUTPUT_DIR, which is pruned on every write (age and count limits).
"""

import io
import json
import time
import uuid
from pathlib import Path

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from playground import config

SOFTWARE = "Generative Playground"
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
    f'Iptc4xmpExt:DigitalSourceType="{DIGITAL_SOURCE_TYPE}"/></rdf:RDF></x:xmpmeta>'
)
PARAMETERS_KEY = "parameters"


def png_info(settings: dict) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text(PARAMETERS_KEY, json.dumps(settings, ensure_ascii=False, sort_keys=True))
    info.add_text("ai_generated", "true")
    info.add_text("Software", SOFTWARE)
    info.add_itxt("XML:com.adobe.xmp", XMP)
    return info


def prune_outputs(folder: Path, keep: int | None = None) -> None:
    """Delete files older than OUTPUT_MAX_AGE_S, then the oldest beyond keep (default OUTPUT_MAX_FILES)."""
    files = []
    now = time.time()
    for path in folder.glob("*"):
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:  # removed by another request meanwhile
            continue
        if age > config.OUTPUT_MAX_AGE_S:
            path.unlink(missing_ok=True)
        else:
            files.append((age, path))
    for _, path in sorted(files)[config.OUTPUT_MAX_FILES if keep is None else keep :]:
        path.unlink(missing_ok=True)


def output_path(suffix: str) -> Path:
    """A new file name in the output folder (pruned first)."""
    folder = config.OUTPUT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    prune_outputs(folder, keep=config.OUTPUT_MAX_FILES - 1)  # room for the new file
    return folder / f"{uuid.uuid4().hex}{suffix}"


def save_png(image: Image.Image, settings: dict) -> Path:
    """Write image as a PNG carrying settings and the AI-generated marks; returns its path."""
    path = output_path(".png")
    image.save(path, format="PNG", pnginfo=png_info(settings))
    return path


def read_upload(data: bytes | Path | str) -> Image.Image:
    """An uploaded picture (bytes or a file path), loaded only after its byte and pixel counts pass the limits."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise ValueError(f"no such file: {path.name!r}")
        size = path.stat().st_size
        if size > config.MAX_UPLOAD_BYTES:
            raise ValueError(f"file is too large: {size} bytes, the limit is {config.MAX_UPLOAD_BYTES}")
        data = path.read_bytes()
    if len(data) > config.MAX_UPLOAD_BYTES:
        raise ValueError(f"file is too large: {len(data)} bytes, the limit is {config.MAX_UPLOAD_BYTES}")
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > config.MAX_UPLOAD_PIXELS:
            raise ValueError(f"picture is too large: {image.width}x{image.height} pixels, the limit is "
                             f"{config.MAX_UPLOAD_PIXELS} pixels")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise ValueError("file is not a picture (PNG, JPEG, WebP or GIF)") from None
    return image


def read_settings(data: bytes | Path | str) -> dict:
    """The settings stored in a PNG written by save_png; ValueError for anything else."""
    image = read_upload(data)
    if image.format != "PNG":
        raise ValueError(f"file must be a PNG made by this app, got a {image.format} picture")
    text = image.text.get(PARAMETERS_KEY)  # type: ignore[attr-defined]
    if not text:
        raise ValueError("this PNG carries no settings: only pictures made by this app can be read back")
    try:
        settings = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("this PNG's settings are not readable JSON") from None
    if not isinstance(settings, dict):
        raise ValueError("this PNG's settings are not readable JSON")
    return settings
