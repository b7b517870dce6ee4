"""What a short recording costs: worker seconds per job for a 2 s clip, models warm.

    .venv/bin/python bench/short.py                 # 20 jobs per variant
    .venv/bin/python bench/short.py --jobs 50 --source /path/to/an/older/checkout

Starts one embedded ``parley serve`` (SQLite, local audio, one in-process worker) and
submits the clip one job at a time, so no job waits for another. Per variant it prints:

* worker s/job: ``parley_job_seconds`` (start of the job to its stored result, as the
  worker measures it), the mean over the jobs, from ``/metrics`` before and after;
* the same split by stage (``parley_job_stage_seconds``: decode, speech, speakers,
  insights); what is left is the database reads and the final write;
* client s/job: the median from the POST to the first poll (every 20 ms) that sees
  ``completed``, which adds the queue hand-over and the HTTP round trips.

Variants: the default (the language detected), ``languageCode=en-US`` (no detection),
and diarization on. Goal (issue 8): ≤ 0.5 s of worker time for a 2 s clip.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
from common import testdata_dir
from load import base_env, free_port, load, processes, wait_token

CLIP = "read/librispeech/1089-134691-0000.flac"  # 2.08 s
VARIANTS = {
    "default (language detected)": {},
    "languageCode=en-US": {"languageCode": "en-US"},
    "en-US + diarization": {"languageCode": "en-US", "enableSpeakerDiarization": "true"},
}
_SAMPLE = re.compile(
    r'^(parley_job(?:_stage)?_seconds_(?:sum|count))\{(\w+)="(\w+)"\} (\S+)$', re.M
)


def scrape(client: httpx.Client) -> dict[tuple[str, str], float]:
    """``(metric, label value) -> value`` for the job and stage seconds."""
    return {
        (name, value): float(number)
        for name, _, value, number in _SAMPLE.findall(client.get("/metrics").text)
    }


def run_variant(client: httpx.Client, audio: bytes, params: dict[str, str], jobs: int) -> dict:
    before = scrape(client)
    walls = []
    for _ in range(jobs):
        started = time.perf_counter()
        job = client.post("/v1/process/audio", params=params, content=audio).json()
        while (status := client.get(f"/v1/job/{job['jobId']}").json()["status"]) not in (
            "completed",
            "failed",
        ):
            time.sleep(0.02)
        if status != "completed":
            sys.exit(f"job {job['jobId']} failed")
        walls.append(time.perf_counter() - started)
    after = scrape(client)
    delta: dict[tuple[str, str], float] = defaultdict(float)
    for key, value in after.items():
        delta[key] = value - before.get(key, 0.0)
    count = delta[("parley_job_seconds_count", "completed")]
    stages = {
        stage: delta[("parley_job_stage_seconds_sum", stage)] / count
        for stage in ("decode", "speech", "speakers", "insights")
    }
    return {
        "worker": delta[("parley_job_seconds_sum", "completed")] / count,
        "stages": stages,
        "client": statistics.median(walls),
        "jobs": int(count),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--source", help="run another checkout's parley package")
    args = parser.parse_args()
    args.server_workers = 1
    audio = (testdata_dir() / CLIP).read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="parley-short-"))
    env = base_env(args, tmp, port := free_port())
    with processes(tmp, env, {"api": ["serve"]}) as running:
        base = f"http://127.0.0.1:{port}"
        token = wait_token(base, running["api"], tmp / "api.log")
        client = httpx.Client(base_url=base, headers={"x-api-key": token}, timeout=120)
        for params in VARIANTS.values():  # warm-up: models loaded, caches filled
            run_variant(client, audio, params, 2)
        print(f"load average before: {load()}", file=sys.stderr)
        results = {name: run_variant(client, audio, p, args.jobs) for name, p in VARIANTS.items()}
    print(f"\n2.08 s clip ({CLIP}), {args.jobs} jobs per variant, one at a time; load {load()}\n")
    print(
        "| variant | worker s/job | decode | speech | speakers | insights | rest | client s/job |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        s = r["stages"]
        rest = r["worker"] - sum(s.values())
        print(
            f"| {name} | {r['worker']:.3f} | {s['decode']:.3f} | {s['speech']:.3f} | "
            f"{s['speakers']:.3f} | {s['insights']:.3f} | {rest:.3f} | {r['client']:.3f} |"
        )


if __name__ == "__main__":
    main()
