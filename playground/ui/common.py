"""Helpers every tab uses: backend errors shown to the user as readable messages."""

import functools
import html
import inspect
from collections.abc import Callable

import gradio as gr


def _user_error(error: ValueError) -> gr.Error:
    # gr.Error renders HTML: escape, since messages quote what the caller typed
    return gr.Error(html.escape(str(error), quote=False), print_exception=False)


def show_errors(fn: Callable) -> Callable:
    """Wrap an event handler so a backend's ValueError reaches the caller as gr.Error with the same message."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except ValueError as error:
                raise _user_error(error) from None

        return stream

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError as error:
            raise _user_error(error) from None

    return call
