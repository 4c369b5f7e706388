"""Generative Playground: serves the app (also the entry point of the Hugging Face Space).

Host and port come from Gradio's own GRADIO_SERVER_NAME and GRADIO_SERVER_PORT.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home: the app works offline

import uvicorn

from playground.ui import build_server

if __name__ == "__main__":
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    print(f"Generative Playground: http://{host}:{port}  (OpenAI-compatible API at /v1)", flush=True)
    # a stop (Ctrl-C, a Space restart) waits at most 3 s for open connections such as the page's event stream
    uvicorn.run(build_server(), host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
