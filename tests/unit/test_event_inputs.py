"""The check every event's raw inputs pass before Gradio acts on them (playground/ui/inputs.py)."""

import gradio as gr
import pytest

from playground import config
from playground.ui.inputs import check_event_inputs

REFUSAL = "must be a file uploaded to this app"


@pytest.fixture
def upload_folder(tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def file_data(path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def check(values: list) -> None:
    check_event_inputs(["prompt", "image"], [gr.Textbox(), gr.Image()], values)


def test_an_uploaded_file_and_no_file_pass(upload_folder):
    picture = upload_folder / "abc" / "start.png"
    picture.parent.mkdir()
    picture.write_bytes(b"png")
    check(["a red apple", file_data(picture)])
    check(["a red apple", None])


def test_too_few_values_name_what_is_missing(upload_folder):
    with pytest.raises(ValueError, match=r"^this endpoint takes 2 values \(prompt, image\), got 1: missing image$"):
        check(["a red apple"])


@pytest.mark.parametrize(("value", "kind"), [(5, "a number"), ("/etc/passwd", "str"), ([], "a list"), ({}, "an object")])
def test_a_file_input_that_names_no_file_is_refused(upload_folder, value, kind):
    with pytest.raises(ValueError, match=f"^image {REFUSAL} \\(a FileData object\\) or null, got {kind}$"):
        check(["", value])


def test_files_outside_the_upload_folder_are_refused_wherever_they_are_named(upload_folder, tmp_path):
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"png")
    link = upload_folder / "link.png"
    link.symlink_to(outside)
    for path in ("/etc/passwd", "/dev/zero", outside, link, f"{upload_folder}/../secret.png", "http://127.0.0.1/x.png"):
        with pytest.raises(ValueError, match=f"^image {REFUSAL}"):
            check(["", file_data(path)])
        with pytest.raises(ValueError, match=f"^prompt {REFUSAL}"):  # a file hidden in any other value
            check([[{"image": file_data(path), "caption": None}], None])


def test_a_file_object_without_gradios_meta_is_refused(upload_folder):
    picture = upload_folder / "start.png"
    picture.write_bytes(b"png")
    with pytest.raises(ValueError, match=f"^image {REFUSAL} \\(a FileData object"):
        check(["", {"path": str(picture)}])


def test_an_uploaded_file_over_the_size_limit_is_refused(upload_folder, monkeypatch):
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", 10)
    picture = upload_folder / "big.png"
    picture.write_bytes(b"x" * 11)
    with pytest.raises(ValueError, match="^image is too large: 11 bytes, the limit is 10$"):
        check(["", file_data(picture)])
