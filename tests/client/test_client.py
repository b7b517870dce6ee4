"""``parley_client`` against a running server: submit, wait with progress, typed results."""

from __future__ import annotations

from pathlib import Path

import pytest

import parley_client as c
from parley_client import wire
from tests.conftest import APP_ID, APP_SECRET, Api
from tests.helpers import free_port


@pytest.fixture()
def parley(api: Api) -> c.Parley:
    with c.Parley(api.base_url, app_id=APP_ID, app_secret=APP_SECRET) as client:
        yield client


def test_submit_wait_and_read_typed_results(parley: c.Parley, testdata: Path) -> None:
    source = testdata / "diarization" / "pyannote_sample" / "sample.wav"
    sent: list[tuple[int, int]] = []
    job = parley.submit(
        source,
        name="Client call",
        enableSpeakerDiarization=True,
        diarizationSpeakerCount=2,
        customVocabulary=["Chicago"],
        on_upload=lambda done, total: sent.append((done, total)),
    )
    assert job.status == "scheduled" and job.conversation_id
    assert sent[-1] == (source.stat().st_size, source.stat().st_size)
    seen: list[c.Job] = []
    done = parley.wait(job, on_progress=seen.append, interval=0.2, timeout=240)
    assert done.status == "completed" and done.progress == 100
    assert seen[-1] == done and len(seen) >= 2
    assert [j.progress for j in seen] == sorted(j.progress for j in seen)

    cid = done.conversation_id
    conversation = parley.conversation(cid)
    assert conversation.name == "Client call" and len(conversation.members) == 2
    messages = parley.messages(cid)
    assert all(isinstance(m, c.Message) and m.words for m in messages)
    assert {m.speaker.name for m in messages if m.speaker} == {"Speaker 1", "Speaker 2"}
    assert messages[0].words[0].start_time is not None
    speaker = conversation.members[0]
    parley.update_member(cid, speaker.id or "", "Sheila")
    assert "Sheila" in {m.name for m in parley.members(cid)}
    assert any(item.text.startswith(("Sheila:", "Speaker")) for item in parley.summary(cid))
    assert isinstance(parley.action_items(cid), list)
    assert isinstance(parley.questions(cid), list) and isinstance(parley.topics(cid), list)
    assert "-->" in parley.transcript(cid, "text/srt")
    assert parley.analytics(cid)["members"]
    [hit] = [h for h in parley.search("Chicago") if h.id == cid]
    assert hit.matches and "Chicago" in hit.matches[0].text
    assert any(j.id == job.id for j in parley.jobs())
    share = parley.experience(cid, "audio-summary", readOnly=True)
    assert "/experiences/" in share.url
    [media] = parley.media(cid)
    target = parley.download_media(cid, media["jobId"], source.parent.parent / "unused")
    target.unlink()  # never left behind in the test data
    parley.delete(cid)
    with pytest.raises(c.NotFoundError):
        parley.conversation(cid)


def test_action_items_come_back_as_wire_models(parley: c.Parley) -> None:
    job = parley.submit_text(
        [{"payload": {"content": "John will send the report by Friday."}, "from": {"name": "Ann"}}]
    )
    parley.wait(job, interval=0.2, timeout=60)
    [item] = parley.action_items(job.conversation_id)
    assert isinstance(item, c.ActionItem) and isinstance(item, wire.ActionItem)
    assert "report" in item.text and item.raw["text"] == item.text
    assert item.assignee is not None and item.assignee.name == "John"
    assert item.due_by is not None and item.due_by.tzinfo is not None and item.message_ids
    assert item.speaker is not None and item.speaker.name == "Ann"


def test_errors_say_what_went_wrong(api: Api, parley: c.Parley, tmp_path: Path) -> None:
    failing = parley.submit_url(f"http://127.0.0.1:{free_port()}/missing.wav")
    with pytest.raises(c.JobFailed) as failed:
        parley.wait(failing, interval=0.2, timeout=60)
    assert failed.value.job.status == "failed" and failed.value.job.reason
    assert parley.wait(failing, raise_on_failure=False).status == "failed"

    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    with pytest.raises(c.BadRequestError) as refused:
        parley.submit(bad)
    assert refused.value.status == 400 and "decoded" in refused.value.message
    with pytest.raises(c.BadRequestError):
        parley.submit(tmp_path / "absent.wav")
    with (
        c.Parley(api.base_url, app_id=APP_ID, app_secret="wrong") as wrong,
        pytest.raises(c.AuthError),
    ):
        wrong.jobs()
    with c.Parley(api.base_url, token="garbage") as garbage, pytest.raises(c.AuthError):
        garbage.jobs()
    with (
        c.Parley(f"http://127.0.0.1:{free_port()}", token="t") as nowhere,
        pytest.raises(c.Unreachable),
    ):
        nowhere.jobs()


def test_config_file_and_environment(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "client.toml"
    config.write_text(f'server = "{api.base_url}"\napp_id = "{APP_ID}"\napp_secret = "nope"\n')
    for key in ("PARLEY_SERVER", "PARLEY_APP_ID", "PARLEY_APP_SECRET", "PARLEY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    assert c.load_config(config)["app_secret"] == "nope"
    monkeypatch.setenv("PARLEY_APP_SECRET", APP_SECRET)  # the environment wins
    with c.Parley.from_config(config=config) as client:
        assert isinstance(client.jobs(limit=1), list)


def test_scripts_importing_parley_client_the_old_way_get_the_same_names() -> None:
    from parley import client as old

    assert old.__all__ == c.__all__
    assert all(getattr(old, name) is getattr(c, name) for name in c.__all__)
