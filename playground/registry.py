"""Lazy, thread-safe, cached loading of models by name.

A model loads on first use, once, even when several first requests arrive together; loading one
model never blocks requests for another that is already loaded. The least recently used model is
dropped when more than `config.MAX_LOADED_MODELS` are held.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from playground import config

T = TypeVar("T")

_guard = threading.Lock()
_loaded: OrderedDict[Hashable, Any] = OrderedDict()
_loading: dict[Hashable, threading.Lock] = {}


def load(key: Hashable, loader: Callable[[], T]) -> T:
    """The object cached under key, made by loader() on first use (failures are not cached)."""
    with _guard:
        if key in _loaded:
            _loaded.move_to_end(key)
            return _loaded[key]
        key_lock = _loading.setdefault(key, threading.Lock())
    with key_lock:
        with _guard:
            if key in _loaded:
                return _loaded[key]
        value = loader()
        with _guard:
            _loaded[key] = value
            while len(_loaded) > config.MAX_LOADED_MODELS:
                _loaded.popitem(last=False)
            _loading.pop(key, None)
        return value


def clear() -> None:
    """Forget every loaded model (tests use this to start cold)."""
    with _guard:
        _loaded.clear()
        _loading.clear()
