"""The queue has a bounded size: past it, requests are refused at once instead of piling up."""

import os
import time

import pytest
from conftest import RunningApp
from gradio_client import Client
from gradio_client.utils import QueueError, Status

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def small_queue_app(embedded_model, tmp_path_factory):
    env = dict(os.environ) | {
        "PLAYGROUND_QUEUE_SIZE": "1",
        "PLAYGROUND_CONCURRENCY": "1",
        "PLAYGROUND_TEST_LOG": str(tmp_path_factory.mktemp("queue") / "app.log"),
    }
    running = RunningApp(env)
    yield running
    running.stop()


def wait_for(job, code: Status) -> None:
    deadline = time.monotonic() + 120
    while job.status().code != code:
        assert time.monotonic() < deadline, f"job never reached {code}: {job.status()}"
        time.sleep(0.1)


def test_requests_beyond_the_queue_size_are_refused_and_the_server_recovers(small_queue_app):
    client = Client(small_queue_app.url, verbose=False)
    long_story = {"prompt": "Tell me a very long story about a dragon.", "max_new_tokens": 1024, "temperature": 1.0}
    running = client.submit(**long_story, api_name="/generate_text")
    wait_for(running, Status.ITERATING)
    waiting = client.submit(**long_story, api_name="/generate_text")
    wait_for(waiting, Status.IN_QUEUE)
    refused = client.submit(**long_story, api_name="/generate_text")
    with pytest.raises(QueueError, match="Queue is full"):
        refused.result(timeout=60)
    running.cancel()
    waiting.cancel()
    assert client.predict(prompt="Hi", max_new_tokens=3, temperature=0, api_name="/generate_text")
