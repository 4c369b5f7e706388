"""The Text tab's chat in a real browser (headless Chromium) against the real app serving the embedded model."""

import itertools
import time

import pytest
from playwright.sync_api import Page, expect
from test_text_tab import FIRST_OUTPUT_TIMEOUT_S, POLL_S, set_max_new_tokens

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/text_chat.png"


def messages(page: Page, role: str):
    return page.locator(f"#chat-conversation [data-testid={'bot' if role == 'assistant' else 'user'}]")


def busy(page: Page) -> bool:
    """Whether the conversation still waits for or receives a reply (its status tracker is shown)."""
    tracker = page.locator("#chat-conversation [data-testid=status-tracker]")
    return "hide" not in (tracker.get_attribute("class") or "").split()


def send(page: Page, message: str) -> list[str]:
    """Send a message and return the distinct texts the new reply showed while it streamed in, the whole reply last."""
    replies = messages(page, "assistant").count()
    page.locator("#chat-message textarea").fill(message)
    page.locator("#chat-send").click()
    return watch_reply(page, replies + 1)


def watch_reply(page: Page, count: int) -> list[str]:
    """The distinct texts of reply number count, polled every POLL_S until it is there and finished."""
    shown: list[str] = []
    deadline = time.monotonic() + FIRST_OUTPUT_TIMEOUT_S
    while not (shown and shown[-1].strip() and not busy(page)):
        assert time.monotonic() < deadline, f"gave up waiting for reply {count}; it showed {shown!r}"
        time.sleep(POLL_S)
        replies = messages(page, "assistant")
        if replies.count() == count:
            text = replies.nth(count - 1).inner_text()
            if not shown or text != shown[-1]:
                shown.append(text)
    return shown


@pytest.fixture
def chat(page: Page) -> Page:
    set_max_new_tokens(page, 24)  # enough tokens to watch them arrive, few enough to stay quick on a busy CPU
    page.get_by_role("tab", name="Chat").click()
    page.locator("#chat-message textarea").wait_for(state="visible")
    return page


def test_replies_stream_in_a_follow_up_keeps_the_conversation_and_clear_starts_a_new_one(chat):
    shown = [text for text in send(chat, "Tell me about cats.") if text.strip()]
    assert len(shown) >= 2, f"the reply did not stream in: it went {shown!r}"
    for earlier, later in itertools.pairwise(shown):
        assert later.startswith(earlier.rstrip()), f"the streamed reply was rewritten: {earlier!r} -> {later!r}"
    expect(chat.locator("#chat-message textarea")).to_have_value("")

    send(chat, "And dogs?")

    assert messages(chat, "user").all_inner_texts() == ["Tell me about cats.", "And dogs?"]
    expect(messages(chat, "assistant")).to_have_count(2)
    chat.screenshot(path=SCREENSHOT, full_page=True)

    chat.locator("#chat-clear").click()
    expect(messages(chat, "user")).to_have_count(0)
    expect(messages(chat, "assistant")).to_have_count(0)
    send(chat, "Hello again.")
    assert messages(chat, "user").all_inner_texts() == ["Hello again."], "the cleared turns came back"


def test_regenerate_draws_the_last_reply_again_with_the_next_seed(chat):
    seed = chat.get_by_label("Seed", exact=True).filter(visible=True)  # the Text tab's, in its open settings
    temperature = chat.locator("#text-temperature input[type=number]")
    temperature.fill("1.2")  # several likely replies, so that another seed gives another one
    temperature.press("Enter")
    first = send(chat, "Tell me about cats.")[-1]

    chat.locator("#chat-regenerate").click()

    expect(seed).to_have_value("1")
    again = watch_reply(chat, 1)[-1]
    assert again != first
    expect(messages(chat, "user")).to_have_count(1)
