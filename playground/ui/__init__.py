"""The web app: the tabs (the only package that imports gradio) and the HTTP server around them."""

import gradio as gr
from fastapi import FastAPI

from playground import config, openai_server
from playground.ui.text import build_text_tab

TITLE = "Generative Playground"


def build_app() -> gr.Blocks:
    """The Blocks app with every tab, its queue bounded."""
    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"# {TITLE}\nType a prompt, move the settings, and see what a generative model does with them — and why.")
        with gr.Tab("Text"):
            build_text_tab()
    app.queue(max_size=config.QUEUE_MAX_SIZE, default_concurrency_limit=config.CONCURRENCY_LIMIT)
    return app


def build_server() -> FastAPI:
    """The whole HTTP server: the OpenAI-compatible /v1 routes, and the app at /."""
    server = FastAPI(title=TITLE)
    server.include_router(openai_server.router)
    return gr.mount_gradio_app(server, build_app(), path="/", show_error=False, footer_links=["api", "gradio"])
