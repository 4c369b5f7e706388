import threading
import time

import pytest

from playground import config, registry


@pytest.fixture(autouse=True)
def _empty_registry():
    registry.clear()
    yield
    registry.clear()


def test_simultaneous_first_requests_load_the_model_once():
    calls = []

    def slow_loader():
        calls.append(1)
        time.sleep(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(registry.load("m", slow_loader))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({id(r) for r in results}) == 1


def test_a_slow_load_does_not_block_a_model_already_loaded():
    registry.load("fast", lambda: "ready")
    started = threading.Event()

    def slow_loader():
        started.set()
        time.sleep(1.0)
        return "slow"

    thread = threading.Thread(target=registry.load, args=("slow", slow_loader))
    thread.start()
    started.wait()
    begin = time.monotonic()
    assert registry.load("fast", lambda: "reloaded") == "ready"
    assert time.monotonic() - begin < 0.5
    thread.join()


def test_failed_loads_are_not_cached():
    def failing():
        raise ValueError("no such model")

    with pytest.raises(ValueError):
        registry.load("bad", failing)
    assert registry.load("bad", lambda: "fixed") == "fixed"


def test_least_recently_used_model_is_dropped_beyond_the_limit(monkeypatch):
    monkeypatch.setattr(config, "MAX_LOADED_MODELS", 2)
    registry.load("a", lambda: "a1")
    registry.load("b", lambda: "b1")
    registry.load("a", lambda: "a2")  # touch a: b is now the oldest
    registry.load("c", lambda: "c1")
    assert registry.load("a", lambda: "a3") == "a1"
    assert registry.load("b", lambda: "b2") == "b2"
