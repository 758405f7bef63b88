"""The web page in a real browser: a writer chats an idea into an episode, then retakes a shot.

`inkreel serve` runs in a subprocess on a free port of 127.0.0.1 with a fresh project (offline
engine, 20 s episodes); Playwright drives the Debian `chromium` (never a downloaded browser).
Screenshots go to the test's tmp folder; with INKREEL_DOCS_SHOT=1 the last one is also
docs/web.png, the README's.
"""

from __future__ import annotations

import io
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import IDEA

CHROMIUM = Path("/usr/bin/chromium")
DOCS_SHOT = Path(__file__).resolve().parents[1] / "docs" / "web.png"
MAX_DOCS_BYTES = 300_000

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
expect = sync_api.expect

# Generous: a render of the offline engine takes 15-60 s on a shared CI machine.
TURN_MS = 60_000
RENDER_MS = 300_000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`inkreel serve` on a free port; its URL."""
    command = [sys.executable, "-m", "inkreel.cli", "serve", "-o", str(tmp_path / "series")]
    command += ["--port", "0", "--length", "12"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True
    ).start()
    try:
        first = lines.get(timeout=120)
    except queue.Empty:
        first = ""
    found = re.search(r"http://127\.0\.0\.1:\d+/", first)
    try:
        assert found, f"no URL from inkreel serve: {first!r} {process.poll()}"
        yield found.group(0)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def problems() -> list[str]:
    """The page's script errors and console errors (none expected)."""
    return []


@pytest.fixture
def page(server: str, problems: list[str]) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(TURN_MS)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on(
                "console", lambda m: m.type == "error" and problems.append(f"console: {m.text}")
            )
            page.goto(server)
            yield page
        finally:
            browser.close()


def say(page: Any, text: str, reply: str, timeout: int = TURN_MS) -> None:
    """Type a message, send it with Enter, and wait for the showrunner's reply to say `reply`."""
    before = page.locator("#messages .message.showrunner").count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    wait_reply(page, before, reply, timeout)


def wait_reply(page: Any, before: int, reply: str, timeout: int = TURN_MS) -> None:
    replies = page.locator("#messages .message.showrunner")
    expect(replies).not_to_have_count(before, timeout=timeout)
    expect(replies.last).to_contain_text(reply, timeout=timeout)
    expect(page.locator("#send")).to_be_enabled(timeout=timeout)


def shoot(page: Any, folder: Path, name: str) -> bytes:
    return bytes(page.screenshot(path=str(folder / f"{name}.png")))


def save_docs_shot(png: bytes, folder: Path) -> None:
    """The screenshot as a 256-colour PNG (small enough for the repository), in the test's
    folder; also as docs/web.png when INKREEL_DOCS_SHOT=1 (a run never changes the
    repository unless asked to)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < MAX_DOCS_BYTES, len(out.getvalue())
    (folder / "web.png").write_bytes(out.getvalue())
    if os.environ.get("INKREEL_DOCS_SHOT") == "1":
        DOCS_SHOT.write_bytes(out.getvalue())


def test_a_writer_chats_an_idea_into_an_episode(
    page: Any, problems: list[str], tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    expect(page.locator("#messages .hint")).to_be_visible()

    # The idea: three loglines, and the conversation is listed.
    say(page, IDEA, "Three loglines")
    expect(page.locator("#thread-list .thread.current")).to_contain_text("ep01")
    say(page, "logline 2", "Logline:")
    expect(page.locator("#tab-script .outline li")).not_to_have_count(0)
    shoot(page, shots, "1-outline")

    # The script, in the artifacts pane; a line edited in place.
    say(page, "approve", "approve")
    expect(page.locator("#tab-script")).to_be_visible()
    expect(page.locator("#tab-script .script-title")).not_to_be_empty()
    first = page.locator('#tab-script .line[data-line="1"]')
    first.locator("button.edit").click()
    first.locator("input.line-input").fill("The lamp is out again, Aiko.")
    before = page.locator("#messages .message.showrunner").count()
    first.locator("input.line-input").press("Enter")
    wait_reply(page, before, "Line 1 now says: The lamp is out again, Aiko.")
    expect(page.locator('#tab-script .line[data-line="1"] .words')).to_have_text(
        "The lamp is out again, Aiko."
    )
    expect(page.locator("#tab-script .badge.draft")).to_be_visible()
    shoot(page, shots, "2-script")

    # The storyboard: the shots as planned (drawn once it is approved).
    say(page, "approve", "storyboard")
    expect(page.locator("#tab-storyboard")).to_be_visible()
    expect(page.locator("#tab-storyboard .shot")).not_to_have_count(0)
    shoot(page, shots, "3-storyboard")

    # The render: progress streams in; a reload picks the stream up again.
    before = page.locator("#messages .message.showrunner").count()
    page.fill("#input", "approve")
    page.press("#input", "Enter")
    expect(page.locator("#progress #bars .bar").first).to_be_visible(timeout=TURN_MS)
    shoot(page, shots, "4-rendering")
    page.reload()
    expect(page.locator("#progress")).to_be_visible()
    wait_reply(page, before, "is ready", RENDER_MS)

    # The episode plays, and the storyboard has its keyframes.
    expect(page.locator("#tab-episode")).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.querySelector('#tab-episode video');"
        " return v && v.readyState >= 1 && v.duration > 0; }"
    )
    shoot(page, shots, "5-episode")
    page.click('#tabs [data-tab="continuity"]')
    expect(page.locator("#tab-continuity .verdict")).to_be_visible()
    expect(page.locator("#cost")).to_contain_text("$")
    shoot(page, shots, "5-continuity")
    page.click('#tabs [data-tab="storyboard"]')
    page.wait_for_function(
        "() => [...document.querySelectorAll('#tab-storyboard img.thumb')]"
        ".some(i => i.complete && i.naturalWidth > 0)"
    )
    expect(page.locator("#tab-storyboard .badge.status-passed").first).to_be_visible()

    # A retake: the shot's form, a close-up, then "render".
    shot = page.locator("#tab-storyboard .shot").nth(2)
    shot.locator("button.retake").click()
    shot.locator('select[name="framing"]').select_option("close_up")
    before = page.locator("#messages .message.showrunner").count()
    shot.locator('.retake-form button[type="submit"]').click()
    wait_reply(page, before, "To do: retake")
    expect(page.locator("#tab-storyboard .shot").nth(2).locator(".pending")).to_contain_text(
        "close up"
    )
    say(page, "render", "is ready", RENDER_MS)
    expect(page.locator("#messages .message.showrunner").last).to_contain_text("Done: retake")
    page.click('#tabs [data-tab="storyboard"]')
    expect(page.locator("#tab-storyboard .shot").nth(2)).to_contain_text("close up")
    retaken = page.locator("#tab-storyboard .shot").nth(2).locator("img.thumb")
    expect(retaken).to_be_visible()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=retaken.element_handle()
    )
    save_docs_shot(shoot(page, shots, "6-retaken"), shots)
    assert problems == []
