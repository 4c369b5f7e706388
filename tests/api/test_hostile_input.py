"""What a hostile visitor sends over raw HTTP, against the real app: files outside the upload folder, values of
the wrong type, invalid text, too few values, and base URLs that would receive the server's OpenAI key."""

import json
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import IMAGE_INPUTS, OPERATOR_OPENAI_KEY, TEXT_INPUTS, call_raw, error_of
from gradio_client import Client
from PIL import Image

pytestmark = pytest.mark.embedded

FILE_REFUSAL = "must be a file uploaded to this app"


@pytest.fixture(scope="module")
def upload_folder(app) -> Path:
    folder = Path(app.env["GRADIO_TEMP_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def outside_picture(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "secret.png"
    Image.new("RGB", (40, 40), (200, 30, 30)).save(path)
    return path


def file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def files_in(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def hostile_paths(upload_folder: Path, outside_picture: Path) -> dict[str, str]:
    link = upload_folder / f"link-{uuid.uuid4().hex}.png"
    link.symlink_to(outside_picture)
    return {
        "/etc/passwd": "/etc/passwd",
        "a picture outside the upload folder": str(outside_picture),
        "/dev/zero": "/dev/zero",
        "a symlink out of the upload folder": str(link),
        "a path with ..": f"{upload_folder}/../../../..{outside_picture}",
    }


VIDEO_INPUTS = ["", None, "bounce", 8, 8, 0, "gan"]  # prompt, image, motion, num_frames, fps, seed, image_backend


def test_the_video_start_picture_accepts_no_file_outside_the_upload_folder(app, upload_folder, outside_picture):
    for label, path in hostile_paths(upload_folder, outside_picture).items():
        before = files_in(upload_folder)
        inputs = [*VIDEO_INPUTS[:1], file_data(path), *VIDEO_INPUTS[2:]]
        message = error_of(call_raw(app, "generate_video", json.dumps({"data": inputs})))
        assert message is not None and message.startswith(f"image {FILE_REFUSAL}"), label
        assert files_in(upload_folder) == before, f"{label}: a file was copied into the upload folder"


def test_a_url_as_a_file_is_refused_and_never_fetched(app, recorder):
    inputs = [*VIDEO_INPUTS[:1], file_data(f"{recorder.url}/picture.png"), *VIDEO_INPUTS[2:]]
    assert error_of(call_raw(app, "generate_video", json.dumps({"data": inputs}))).startswith(f"image {FILE_REFUSAL}")
    assert recorder.headers == []


@pytest.mark.parametrize(("value", "kind"), [(5, "a number"), ("/etc/passwd", "str"), ([1], "a list")])
def test_a_video_start_that_is_not_a_file_is_refused_naming_image(app, value, kind):
    inputs = [*VIDEO_INPUTS[:1], value, *VIDEO_INPUTS[2:]]
    message = error_of(call_raw(app, "generate_video", json.dumps({"data": inputs})))
    assert message == f"image {FILE_REFUSAL} (a FileData object) or null, got {kind}"


def test_too_few_values_name_the_missing_parameters(app):
    message = error_of(call_raw(app, "generate_video", json.dumps({"data": ["a red apple", None]})))
    assert "this endpoint takes 7 values" in message and "got 2: missing motion, num_frames, fps, seed, image_backend" in message


def test_optional_parameters_have_defaults_for_the_python_client(app):
    client = Client(app.url, verbose=False)
    _, frames, *_ = client.predict("a red apple", num_frames=4, image_backend="gan", api_name="/generate_video")
    assert len(frames) == 4


ENDPOINTS = {"generate_text": TEXT_INPUTS, "generate_image": IMAGE_INPUTS}


def call(app, endpoint: str, **changes) -> str | None:
    values = list((ENDPOINTS[endpoint] | changes).values())
    return error_of(call_raw(app, endpoint, json.dumps({"data": values})))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("value", "kind"), [(0, "a number"), (None, "null"), ([], "a list"), ({}, "an object")])
def test_a_model_that_is_not_text_is_refused(app, endpoint, value, kind):
    assert call(app, endpoint, model=value) == f"model must be text, got {kind}"


def test_a_picture_prompt_of_null_is_refused(app):
    assert call(app, "generate_image", prompt=None) == "prompt must be text, got null"


@pytest.mark.parametrize(("endpoint", "parameter"), [("generate_text", "prompt"), ("generate_text", "system_prompt"),
                                                     ("generate_image", "prompt")])
def test_a_lone_surrogate_is_refused_naming_the_parameter(app, endpoint, parameter):
    values = json.dumps({"data": list((ENDPOINTS[endpoint] | {parameter: "x@y"}).values())}).replace("@", "\\ud800")
    message = error_of(call_raw(app, endpoint, values))
    assert message.startswith(f"{parameter} holds invalid text: a lone surrogate")
    assert "Traceback" not in app.log()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_key_that_is_not_ascii_is_refused_naming_api_key(app, endpoint):
    assert call(app, endpoint, backend="openai", base_url="http://127.0.0.1:9/v1", api_key="clé").startswith(
        "api_key must be printable ASCII characters")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_servers_openai_key_never_reaches_a_base_url_a_visitor_typed(app, recorder, endpoint):
    message = call(app, endpoint, backend="openai", model="m", base_url=recorder.url, api_key="")
    assert "API key was rejected (401" in message
    assert len(recorder.headers) == 1
    assert not any(OPERATOR_OPENAI_KEY in value for value in recorder.headers[0].values())


def queue_call(app, elem_id: str, trigger: str, data: list) -> dict:
    """A private event (no api_name) as the page calls it: joined to the queue by its index, read from the stream."""
    config = json.load(urllib.request.urlopen(f"{app.url}/config", timeout=30))
    component = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    event = next(d["id"] for d in config["dependencies"] if [component, trigger] in d["targets"])
    session = uuid.uuid4().hex
    body = {"data": data, "fn_index": event, "trigger_id": component, "session_hash": session, "event_data": None}
    request = urllib.request.Request(f"{app.url}/gradio_api/queue/join", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()
    with urllib.request.urlopen(f"{app.url}/gradio_api/queue/data?session_hash={session}", timeout=60) as stream:
        for line in stream:
            message = json.loads(line.decode().removeprefix("data: ")) if line.startswith(b"data: ") else {}
            if message.get("msg") == "process_completed":
                return message["output"]
    raise AssertionError("the event never completed")


def test_png_info_accepts_no_file_outside_the_upload_folder(app, upload_folder, outside_picture):
    for label, path in hostile_paths(upload_folder, outside_picture).items():
        output = queue_call(app, "image-png-info", "upload", [file_data(path)])
        assert (output.get("error") or "").startswith(f"file {FILE_REFUSAL}"), (label, output)


def test_the_picture_to_judge_accepts_no_file_outside_the_upload_folder(app, upload_folder, outside_picture):
    for label, path in hostile_paths(upload_folder, outside_picture).items():
        before = files_in(upload_folder)
        message = error_of(call_raw(app, "judge_image", json.dumps({"data": ["a red apple", file_data(path)]})))
        assert message is not None and message.startswith(f"image {FILE_REFUSAL}"), label
        assert files_in(upload_folder) == before, f"{label}: a file was copied into the upload folder"


def test_the_image_tabs_gallery_as_a_video_start_accepts_no_file_outside_the_upload_folder(app, upload_folder, outside_picture):
    for label, path in hostile_paths(upload_folder, outside_picture).items():
        output = queue_call(app, "video-from-image-tab", "click", [[{"image": file_data(path), "caption": None}]])
        assert (output.get("error") or "").startswith(f"gallery {FILE_REFUSAL}"), (label, output)


def test_the_app_still_serves_after_hostile_requests(app):
    assert call(app, "generate_image") is None
    assert "Traceback" not in app.log()
