"""The web app: the tabs (the only package that imports gradio) and the HTTP server around them."""

import gradio as gr
from fastapi import FastAPI

from playground import config, memory, openai_server
from playground.ui.compare import CSS as COMPARE_CSS
from playground.ui.compare import build_compare_tab
from playground.ui.image import CSS as IMAGE_CSS
from playground.ui.image import build_image_tab
from playground.ui.inputs import CheckedBlocks
from playground.ui.text import build_text_tab
from playground.ui.video import CSS as VIDEO_CSS
from playground.ui.video import build_video_tab

TITLE = "Generative Playground"


def build_app() -> gr.Blocks:
    """The Blocks app with every tab, its queue bounded."""
    # Gradio keeps copies of every input and output file: delete those older than an hour, every 10 minutes
    with CheckedBlocks(title=TITLE, delete_cache=(600, 3600)) as app:
        gr.Markdown(f"# {TITLE}\nType a prompt, move the settings, and see what a generative model does with them — and why.")
        with gr.Tab("Text"):
            build_text_tab()
        with gr.Tab("Image"):
            image_gallery = build_image_tab()
        with gr.Tab("Video"):
            build_video_tab(image_gallery)
        with gr.Tab("Compare"):
            build_compare_tab()
    app.queue(max_size=config.QUEUE_MAX_SIZE, default_concurrency_limit=config.CONCURRENCY_LIMIT)
    app.state_session_capacity = config.MAX_SESSIONS  # what launch(state_session_capacity=...) sets; mounting reads it
    # Gradio has no setting for how often its idle queue looks for work: its own attributes, checked by a unit test
    app._queue.sleep_when_free = app._queue.progress_update_sleep_when_free = config.QUEUE_POLL_S
    return app


def build_server() -> FastAPI:
    """The whole HTTP server: the OpenAI-compatible /v1 routes, and the app at /."""
    memory.map_large_blocks(config.MALLOC_MMAP_THRESHOLD)
    server = FastAPI(title=TITLE, lifespan=lambda _: memory.trimming(config.MALLOC_TRIM_INTERVAL_S))
    server.include_router(openai_server.router)
    app = build_app()
    server = gr.mount_gradio_app(
        server, app, path="/", show_error=False, footer_links=["api", "gradio"], allowed_paths=[str(config.OUTPUT_DIR)],
        max_file_size=config.MAX_UPLOAD_BYTES, css=IMAGE_CSS + VIDEO_CSS + COMPARE_CSS,
    )
    app.has_launched = True  # what launch() sets: turns on Gradio's own upload-folder check, skipped when mounted
    return server
