"""The delivery log over HTTP: list an app's deliveries, read the last error, replay."""

from __future__ import annotations

from tests.conftest import Api
from tests.receiver import receiver
from tests.waiting import until

MESSAGE = {"payload": {"content": "Please send the report by Friday."}}


def test_delivery_log_lists_errors_and_replays(api: Api) -> None:
    with receiver(fail_first=100) as hook:  # every attempt fails
        submitted = api.request(
            "POST", "/v1/process/text", json={"messages": [MESSAGE], "webhookUrl": hook.url}
        ).json()
        job_id = submitted["jobId"]
        assert api.wait(job_id)["status"] == "completed"

        def failed() -> list[dict]:
            found = api.get(
                "/v1/webhooks/deliveries", params={"jobId": job_id, "state": "failed"}
            ).json()["deliveries"]
            return found

        until(lambda: len(failed()) == 3, timeout=30, what="3 failed deliveries")
        deliveries = failed()
        assert {d["status"] for d in deliveries} == {"scheduled", "in_progress", "completed"}
        assert all(d["lastError"] == "HTTP 500" and d["attempts"] == 4 for d in deliveries)
        assert all(d["url"] == hook.url and d["eventId"].startswith("msg_") for d in deliveries)
        completed = next(d for d in deliveries if d["status"] == "completed")
        one = api.get(f"/v1/webhooks/deliveries/{completed['id']}").json()["delivery"]
        assert one == completed

        hook.fail_first = 0  # the receiver is fixed: replay the completed event
        replay = api.request("POST", f"/v1/webhooks/deliveries/{completed['id']}/replay")
        assert replay.status_code == 202
        again = replay.json()["delivery"]
        assert again["id"] != completed["id"] and again["eventId"] == completed["eventId"]
        hook.wait_for(1)
        headers, body = hook.calls[0]
        assert body["status"] == "completed" and headers["webhook-id"] == completed["eventId"]
        state = api.get(f"/v1/webhooks/deliveries/{again['id']}").json()["delivery"]["state"]
        until(
            lambda: (
                api.get(f"/v1/webhooks/deliveries/{again['id']}").json()["delivery"]["state"]
                == "delivered"
            ),
            timeout=30,
            what=f"the replay delivered (was {state})",
        )


def test_unknown_delivery_ids_are_404(api: Api) -> None:
    for path in ("/v1/webhooks/deliveries/999999999", "/v1/webhooks/deliveries/abc"):
        response = api.get(path)
        assert response.status_code == 404 and "delivery" in response.json()["message"]
    response = api.request("POST", "/v1/webhooks/deliveries/999999999/replay")
    assert response.status_code == 404
    bad = api.get("/v1/webhooks/deliveries", params={"state": "lost"})
    assert bad.status_code == 400 and "state" in bad.json()["message"]
