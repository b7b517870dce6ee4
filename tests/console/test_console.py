"""The console in a real browser (Debian's headless Chromium through Playwright).

One walk through what a person does: sign in, upload the 2-speaker phone call, watch the
job, read the transcript, play from a word, rename a speaker, move a sentence, export,
search, share a page and open it signed out, delete. Screenshots of every page are kept
in the pytest tmp dir (its path is printed), and axe-core checks each page.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import APP_ID, APP_SECRET, Api, data_dir, start_server
from tests.console.conftest import expired_link, text_conversation
from tests.helpers import free_port

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _axe(page: Any, source: str) -> list[dict[str, Any]]:
    """Serious or critical axe-core violations on the current page."""
    page.evaluate(source)
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def _shoot(page: Any, artefacts: Path, name: str, *, full: bool = True) -> None:
    page.screenshot(path=str(artefacts / f"{name}.png"), full_page=full)


def _seconds(iso: str, origin: str) -> float:
    return (datetime.fromisoformat(iso[:-1]) - datetime.fromisoformat(origin[:-1])).total_seconds()


def _player_time(page: Any) -> float:
    return float(page.evaluate("document.getElementById('player').currentTime"))


def _sign_in(page: Any) -> None:
    page.fill("#appId", APP_ID)
    page.fill("#appSecret", APP_SECRET)
    page.click("#signin-app button[type=submit]")
    page.wait_for_selector("#conversations:not([aria-busy])", state="attached")


def test_a_person_processes_reads_edits_shares_and_deletes_a_call(
    api: Api, testdata: Path, browser: Any, axe_source: str, artefacts: Path
) -> None:
    context = browser.new_context(viewport=WIDE, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda dialog: dialog.accept())
    serious: dict[str, list[dict[str, Any]]] = {}

    # sign in
    page.goto(api.base_url + "/")
    page.wait_for_selector("#signin-app")
    _shoot(page, artefacts, "01-sign-in")
    serious["sign-in"] = _axe(page, axe_source)
    page.fill("#appId", APP_ID)
    page.fill("#appSecret", "wrong")
    page.click("#signin-app button[type=submit]")
    page.wait_for_selector("#signin-error:has-text('not valid')")
    _sign_in(page)

    # upload with options, then watch the job
    page.click("nav >> text=Upload")
    page.wait_for_selector("#upload")
    page.set_input_files("#file", str(testdata / "diarization" / "pyannote_sample" / "sample.wav"))
    page.fill("#name", "Browser phone call")
    page.fill("#speakers", "2")
    page.fill("#vocabulary", "Chicago, New Jersey")
    _shoot(page, artefacts, "02-upload")
    serious["upload"] = _axe(page, axe_source)
    page.click("#upload button[type=submit]")
    page.wait_for_url("**/#/jobs")
    row = page.locator("tr[data-job]:has-text('Browser phone call')")
    row.wait_for()
    assert row.get_attribute("data-status") in ("scheduled", "in_progress", "completed")
    _shoot(page, artefacts, "03-jobs-running")
    serious["jobs"] = _axe(page, axe_source)
    done = "tr[data-status=completed]:has-text('Browser phone call')"
    page.wait_for_selector(done, timeout=240_000)
    assert page.locator(f"{done} progress").get_attribute("value") == "100"
    _shoot(page, artefacts, "04-jobs-done")

    # the conversation: two speakers in two colours
    page.click(f"{done} a")
    page.wait_for_selector("body[data-ready=true]")
    conversation_id = page.url.split("#/c/")[1]
    colours = page.eval_on_selector_all(
        ".sentence", "els => [...new Set(els.map(e => getComputedStyle(e).borderLeftColor))]"
    )
    assert len(colours) == 2, colours
    assert page.locator("#speakers li").count() == 2
    _shoot(page, artefacts, "05-conversation")
    serious["conversation"] = _axe(page, axe_source)

    # click a word: the player seeks there and the word lights up
    body = api.get(f"/v1/conversations/{conversation_id}/messages?verbose=true").json()
    origin = api.get(f"/v1/conversations/{conversation_id}").json()["startTime"]
    words = [w for m in body["messages"] for w in m["words"]]
    target = len(words) // 2
    expected = _seconds(words[target]["startTime"], origin)
    assert expected > 5
    assert _player_time(page) == 0
    page.locator(".w").nth(target).click()
    page.wait_for_function(
        f"() => Math.abs(document.getElementById('player').currentTime - {expected}) < 1.0"
    )
    page.wait_for_selector(".w.now")
    page.evaluate("document.getElementById('player').pause()")
    assert abs(_player_time(page) - expected) < 1.5

    # rename the speaker the summary quotes; the summary follows
    summary = page.inner_text("#summary")
    speaker = "Speaker 1" if "Speaker 1" in summary else "Speaker 2"
    assert speaker in summary, summary
    page.get_by_role("button", name=f"Rename {speaker}").click()
    page.get_by_label(f"New name for {speaker}").fill("Sheila")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#summary:has-text('Sheila')")
    assert speaker not in page.inner_text("#summary")
    assert "Sheila" in page.inner_text("#speakers")
    members = api.get(f"/v1/conversations/{conversation_id}/members").json()["members"]
    assert "Sheila" in {m["name"] for m in members}

    # move the first sentence to the other speaker
    page.wait_for_selector("body[data-ready=true]")
    first = page.locator(".sentence").first
    before = first.get_attribute("data-member")
    other = next(m for m in members if m["id"] != before)
    first.locator(".more button").click()
    page.select_option("#move-to", other["id"])
    _shoot(page, artefacts, "06-move-dialog", full=False)
    page.get_by_role("button", name="Move", exact=True).click()
    page.wait_for_function(
        f"() => document.querySelector('.sentence').dataset.member === '{other['id']}'"
    )
    moved = api.get(f"/v1/conversations/{conversation_id}/messages").json()["messages"][0]
    assert moved["from"]["id"] == other["id"]

    # export SRT
    with page.expect_download() as download:
        page.get_by_role("button", name="SRT").click()
    srt = Path(download.value.path()).read_text()
    assert download.value.suggested_filename == "Browser phone call.srt"
    assert "-->" in srt and "Chicago" in srt

    # phone width: one column, nothing wider than the screen
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    _shoot(page, artefacts, "07-conversation-phone", full=False)
    page.set_viewport_size(WIDE)

    # search for a said word, and jump to the sentence
    page.click("nav >> text=Conversations")
    page.fill("#q", "chicago")
    page.click("form[role=search] button")
    page.wait_for_selector(f"#conversations li[data-id='{conversation_id}'] mark")
    assert page.inner_text(f"li[data-id='{conversation_id}'] mark").lower() == "chicago"
    _shoot(page, artefacts, "08-search")
    serious["search"] = _axe(page, axe_source)
    page.locator(f"li[data-id='{conversation_id}'] .match a").first.click()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("() => document.getElementById('player').currentTime > 5")

    # share a read-only page and open it signed out
    page.click("#share")
    page.fill("#share-days", "1")
    page.click("#share-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('share-url').value.includes('/experiences/')"
    )
    url = page.input_value("#share-url")
    page.keyboard.press("Escape")
    outsider = browser.new_context(viewport=WIDE).new_page()
    outsider.goto(url)
    outsider.wait_for_selector("body[data-ready=true]")
    assert outsider.inner_text("h1") == "Browser phone call"
    assert "Sheila" in outsider.inner_text("#speakers")
    assert outsider.locator("#speakers button").count() == 0  # read-only: no renaming
    assert outsider.locator("#delete").count() == 0 and outsider.locator("#nav").is_hidden()
    outsider.locator(".w").nth(3).click()
    outsider.wait_for_function("() => document.getElementById('player').currentTime > 0")
    _shoot(outsider, artefacts, "09-shared-page")
    serious["shared"] = _axe(outsider, axe_source)

    # delete: gone from the list, and the shared link is revoked
    page.goto(f"{api.base_url}/#/c/{conversation_id}")
    page.wait_for_selector("body[data-ready=true]")
    page.click("#delete")
    page.wait_for_url("**/#/conversations")
    page.wait_for_selector("#conversations:not([aria-busy])", state="attached")
    assert page.locator(f"li[data-id='{conversation_id}']").count() == 0
    outsider.reload()
    outsider.wait_for_selector("h1:has-text('not available')")
    assert "deleted" in outsider.inner_text("main")
    _shoot(outsider, artefacts, "10-shared-revoked")

    assert not errors, errors
    assert not any(serious.values()), serious
    outsider.context.close()
    context.close()


def test_keyboard_alone_signs_in_and_plays_from_a_sentence(
    api: Api, phone_call: dict[str, str], browser: Any
) -> None:
    page = browser.new_context(viewport=WIDE).new_page()
    page.goto(api.base_url + "/#/signin")
    page.wait_for_selector("#signin-app")
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "appId":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "appId"
    page.keyboard.type(APP_ID)
    page.keyboard.press("Tab")
    page.keyboard.type(APP_SECRET)
    page.keyboard.press("Enter")
    page.wait_for_selector("#conversations:not([aria-busy])", state="attached")
    page.goto(f"{api.base_url}/#/c/{phone_call['conversationId']}")
    page.wait_for_selector("body[data-ready=true]")
    for _ in range(80):
        if page.evaluate("!!document.activeElement.closest('.sentence:nth-child(3) .at')"):
            break
        page.keyboard.press("Tab")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert label and label.startswith("Play from")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('player').currentTime > 5")
    page.context.close()


def test_bookmarks_are_added_at_the_player_time_jumped_to_and_deleted(
    api: Api, browser: Any, phone_call: dict[str, str], axe_source: str, artefacts: Path
) -> None:
    """The conversation page's bookmarks: one added at the player's position with the
    app's default length, listed, jumped to, deleted; the API sees each step."""
    cid = phone_call["conversationId"]
    url = f"/v1/conversations/{cid}/bookmarks"
    setting = [{"op": "add", "path": "/intelligence/bookmarks/duration", "value": 7}]
    assert api.request("PATCH", "/v1/manage/settings", json=setting).status_code == 200
    page = browser.new_context(viewport=WIDE).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(api.base_url + "/")
        page.wait_for_selector("#signin-app")
        _sign_in(page)
        page.goto(f"{api.base_url}/#/c/{cid}")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#bookmarks li.empty")
        assert "0:07" in page.inner_text("#bookmark-form")  # the app's default length

        page.evaluate(
            """() => new Promise((done) => {
                 const p = document.getElementById('player');
                 p.addEventListener('seeked', done, { once: true });
                 p.currentTime = 12.4;
               })"""
        )
        page.fill("#bookmark-label", "Chicago")
        page.fill("#bookmark-description", "Where they are flying")
        page.click("#bookmark-form button[type=submit]")
        item = page.locator("#bookmark-list li[data-bookmark]")
        item.wait_for()
        [made] = api.get(url).json()["bookmarks"]
        assert item.get_attribute("data-bookmark") == made["id"]
        assert (made["label"], made["description"]) == ("Chicago", "Where they are flying")
        assert (made["beginTimeOffset"], made["duration"]) == (12, 7)
        assert made["messageRefs"], made
        _shoot(page, artefacts, "14-bookmarks")
        assert not _axe(page, axe_source)

        # back to the start, then the bookmark moves the player to its offset
        page.evaluate("document.getElementById('player').currentTime = 0")
        page.get_by_role("button", name="Go to bookmark Chicago at 0:12").click()
        page.wait_for_function(
            "() => Math.abs(document.getElementById('player').currentTime - 12) < 0.5"
        )
        page.evaluate("document.getElementById('player').pause()")

        page.get_by_role("button", name="Delete bookmark Chicago").click()
        page.wait_for_selector("#bookmarks li.empty")
        assert api.get(url).json() == {"bookmarks": []}
        assert not errors, errors
    finally:
        page.context.close()
        clear = [{"op": "remove", "path": "/intelligence"}]
        api.request("PATCH", "/v1/manage/settings", json=clear)
        for left in api.get(url).json()["bookmarks"]:
            api.request("DELETE", f"{url}/{left['id']}")


def test_errors_are_said_plainly(api: Api, browser: Any, tmp_path: Path, artefacts: Path) -> None:
    page = browser.new_context(viewport=WIDE).new_page()

    # an expired token (its exp is in the past): sign in again
    page.goto(api.base_url + "/")
    page.evaluate(
        "localStorage.setItem('parley.token', 'e30.' + btoa(JSON.stringify({exp: 1})) + '.x')"
    )
    page.goto(api.base_url + "/#/jobs")
    page.wait_for_selector("#notice:has-text('expired')")
    page.wait_for_selector("#signin-app")
    _shoot(page, artefacts, "11-expired-token")

    # a token the server refuses
    page.fill("#token", "not-a-token")
    page.click("#signin-token button[type=submit]")
    page.wait_for_selector("#signin-error:has-text('not valid')")

    # a failed job shows its reason
    failed = api.request(
        "POST", "/v1/process/audio/url", json={"url": f"http://127.0.0.1:{free_port()}/x.wav"}
    ).json()
    job = api.wait(failed["jobId"])
    assert job["status"] == "failed" and job["reason"]
    _sign_in(page)
    page.goto(api.base_url + "/#/jobs")
    row = page.locator(f"tr[data-job='{failed['jobId']}']")
    row.wait_for()
    assert row.get_attribute("data-status") == "failed"
    assert job["reason"] in row.inner_text()
    _shoot(page, artefacts, "12-failed-job")

    # an expired shared link
    conversation_id = text_conversation(api)
    made = api.request(
        "POST",
        f"/v1/conversations/{conversation_id}/experiences",
        json={"name": "verbose-text-summary", "summaryURLExpiresIn": 1},
    ).json()
    page.goto(expired_link(api, made["url"], 1))
    page.wait_for_selector("h1:has-text('expired')")

    # the server goes away
    from parley.api.app import create_app
    from parley.config import Settings
    from parley.services import build_services

    settings = Settings(
        data_dir=data_dir(tmp_path), app_id=APP_ID, app_secret=APP_SECRET, workers=0
    )
    server, thread, url = start_server(create_app(settings, services=build_services(settings)))
    page.goto(url + "/")
    _sign_in(page)
    server.should_exit = True
    thread.join(30)
    page.click("nav >> text=Jobs")
    page.wait_for_selector("#notice:has-text('cannot be reached')")
    _shoot(page, artefacts, "13-unreachable")
    page.context.close()


@pytest.mark.parametrize(
    "path", ["/console/app.js", "/console/bookmarks.js", "/console/app.css", "/"]
)
def test_console_files_are_served_without_a_cdn(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 200
    assert "://" not in response.text  # every URL the console loads is its own
    if path == "/":
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_unknown_console_file_is_a_json_404(api: Api) -> None:
    response = api.client.get("/console/..%2Fapi%2Fapp.py")
    assert response.status_code == 404
    assert set(response.json()) == {"message"}
    assert api.client.get("/console/missing.js").json() == {"message": "No such console file."}


def test_call_score_panel_shows_criteria_feedback_and_jumps_to_evidence(
    api: Api, browser: Any, axe_source: str, artefacts: Path
) -> None:
    from tests.insights.callscore_calls import messages

    body = {"messages": messages("next_steps"), "features": {"featureList": ["callScore"]}}
    submitted = api.request("POST", "/v1/process/text", json=body).json()
    assert api.wait(submitted["jobId"])["status"] == "completed"
    cid = submitted["conversationId"]
    score = api.get(f"/v1/conversations/{cid}/callscore").json()
    page = browser.new_context(viewport=WIDE).new_page()
    page.goto(api.base_url + "/#/signin")
    _sign_in(page)
    page.goto(f"{api.base_url}/#/c/{cid}")
    page.wait_for_selector("body[data-ready=true]")
    panel = page.locator("#call-score")
    assert f"{score['score']} / 100" in panel.inner_text()
    names = panel.locator("details.criterion summary").all_inner_texts()
    assert [n.split(":")[0] for n in names] == [c["name"] for c in score["criteria"]]
    forward = panel.locator("details.criterion").nth(2)
    forward.locator("summary").click()
    assert score["criteria"][2]["feedback"]["positive"]["summary"] in forward.inner_text()
    evidence = score["criteria"][2]["evidence"][0]["messageIds"][0]
    forward.locator(".evidence li button").first.click()
    page.wait_for_function(  # the evidence's sentence has the focus: it was jumped to
        "id => (document.activeElement.closest('.sentence') || {}).id === 'm-' + id",
        arg=evidence,
    )
    assert _axe(page, axe_source) == []
    _shoot(page, artefacts, "13-call-score")
    page.context.close()
