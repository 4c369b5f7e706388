"""Helpers every tab uses: backend errors shown to the user as readable messages, and charts drawn off-screen."""

import functools
import html
import inspect
from collections.abc import Callable

import gradio as gr
import matplotlib

matplotlib.use("Agg")  # charts are drawn on the server, never in a window
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def user_error(error: ValueError) -> gr.Error:
    """A backend's message as the gr.Error the caller reads (escaped, no traceback in the log)."""
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
                raise user_error(error) from None

        return stream

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError as error:
            raise user_error(error) from None

    return call


def visible_token(token: str) -> str:
    """A token as a view shows it: spaces and line breaks made visible, an empty token as ∅."""
    return token.replace(" ", "␣").replace("\n", "↵") or "∅"


def new_chart(width: float, height: float) -> tuple[Figure, Axes]:
    """An empty chart of width x height inches, for a gr.Plot."""
    return plt.subplots(figsize=(width, height))


def finished(figure: Figure) -> Figure:
    """The chart laid out and released by pyplot, which would otherwise keep every chart ever drawn in memory."""
    figure.tight_layout()
    plt.close(figure)
    return figure
