"""The web page in Debian's headless Chromium: paste, highlight, filter, download."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

SENTENCE = "Mutations in BRCA1 cause breast cancer and ataxia telangiectasia in children."


def test_the_page_highlights_what_the_api_answers_and_downloads_it(url: str, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: scripts/setup.sh installs it"
    api = httpx.post(f"{url}/annotate", json={"text": SENTENCE}).json()["documents"][0]["entities"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(url)
            page.fill("#text", SENTENCE)
            page.click("#annotate")
            page.wait_for_function("document.getElementById('status').textContent.includes('entities')")
            marks = page.eval_on_selector_all(
                "mark", "ms => ms.map(m => [Number(m.dataset.start), Number(m.dataset.end), m.dataset.label, m.title])"
            )
            shown = [(start, end, label) for start, end, label, _ in marks]
            assert shown == [(e["start"], e["end"], e["label"]) for e in api]  # the tiny model tags no nested spans
            assert all(title.startswith(label) for _, _, label, title in marks)
            if marks:  # a label filter hides its highlights
                label = marks[0][2]
                page.uncheck(f"#legend input[value='{label}']")
                hidden = page.eval_on_selector_all("mark.hidden", "ms => ms.map(m => m.dataset.label)")
                assert hidden == [m[2] for m in marks if m[2] == label]
            with page.expect_download() as download:
                page.click("#download-jsonl")
            saved = tmp_path / "page.jsonl"
            download.value.save_as(saved)
            record = json.loads(saved.read_text(encoding="utf-8").splitlines()[0])
            assert record["text"] == SENTENCE and record["entities"] == api
            with page.expect_download() as bioc:
                page.click("#download-bioc")
            bioc.value.save_as(tmp_path / "page.bioc.xml")
            assert SENTENCE in (tmp_path / "page.bioc.xml").read_text(encoding="utf-8")
        finally:
            browser.close()
