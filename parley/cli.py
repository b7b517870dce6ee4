"""The ``parley`` command: serve the API, process a file, manage apps."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from parley.config import Settings

__all__ = ["main"]


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from parley.api.app import create_app

    updates: dict[str, Any] = {}
    if args.host:
        updates["host"] = args.host
    if args.port:
        updates["port"] = args.port
    settings = settings.model_copy(update=updates)
    if not (settings.app_id and settings.app_secret):
        logging.getLogger("parley").warning(
            "PARLEY_APP_ID/PARLEY_APP_SECRET are not set: create credentials with "
            "'parley apps create --name NAME'"
        )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    """A Celery worker: one job at a time per process; run more processes to scale."""
    from parley.jobs.celery_queue import make_celery, register_worker_tasks
    from parley.jobs.owners import new_worker_id
    from parley.services import build_storage, build_worker_runner

    build_storage(settings).dispose()  # migrations, before any job
    app = make_celery(settings)
    runner = build_worker_runner(settings, new_worker_id(args.hostname or "celery"))
    register_worker_tasks(app, runner)
    runner.warm()
    argv = ["worker", "--pool=solo", "--loglevel=INFO", "-Q", settings.celery_queue_name]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    app.worker_main(argv)
    return 0


def _apps_create(args: argparse.Namespace, settings: Settings) -> int:
    from parley.services import build_storage
    from parley.storage.apps import create_app

    storage = build_storage(settings)
    with storage.session() as session:
        app, secret = create_app(session=session, name=args.name)
        print(json.dumps({"appId": app.id, "appSecret": secret, "name": app.name}, indent=2))
    storage.dispose()
    return 0


def _options(extra: list[str]) -> dict[str, list[str]]:
    """``--languageCode en-US --customVocabulary a --customVocabulary b`` → raw options."""
    values: dict[str, list[str]] = {}
    key = None
    for token in extra:
        if token.startswith("--"):
            key, _, inline = token[2:].partition("=")
            values.setdefault(key, [])
            if inline:
                values[key].append(inline)
                key = None
        elif key is not None:
            values[key].append(token)
            key = None
        else:
            raise SystemExit(f"unexpected argument: {token}")
    return {k: v or ["true"] for k, v in values.items()}


def _process(args: argparse.Namespace, settings: Settings, extra: list[str]) -> int:
    """Run one file through the same job machinery as the server, in a scratch store."""
    from parley.api.present import message_json, transcript_lines
    from parley.errors import ParleyError
    from parley.options import parse_options
    from parley.pipeline.decode import probe
    from parley.services import build_models, build_runner, build_services
    from parley.storage import conversations as store
    from parley.storage import jobs as jobs_store
    from parley.storage.apps import create_app
    from parley.transcript import render

    source = Path(args.file)
    if not source.is_file():
        print(f"parley: no such file: {source}", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="parley-process-"))
    try:
        options = parse_options(_options(extra))
        probe(source)
        local = settings.model_copy(
            update={"data_dir": scratch, "database_url": None, "workers": 0, "queue": "local"}
        )
        services = build_services(local)
        runner = build_runner(local, services.storage, services.webhooks, build_models(settings))
        with services.storage.session() as session:
            app, _ = create_app(session=session, name="cli")
        upload, out = services.storage.audio.new_upload()
        with out, source.open("rb") as f:
            shutil.copyfileobj(f, out)
        kind = "video" if source.suffix.lower() in (".mp4", ".mov", ".mkv", ".webm") else "audio"
        submission = services.submitter.submit(
            app_id=app.id, kind=kind, source="file", options=options, upload=upload
        )
        with services.storage.session() as session:
            jobs_store.claim(session=session, job_id=submission.job_id, worker_id=runner.worker_id)
        runner.run(submission.job_id)
        with services.storage.session() as session:
            job = jobs_store.get_job(session=session, job_id=submission.job_id)
            assert job is not None
            if job.status != "completed":
                print(f"parley: processing failed: {job.reason}", file=sys.stderr)
                return 1
            conversation = store.get_conversation(
                session=session, conversation_id=submission.conversation_id, app_id=app.id
            )
            members = {
                m.id: m
                for m in store.list_members(session=session, conversation_id=conversation.id)
            }
            rows = store.list_messages(session=session, conversation_id=conversation.id)
            if args.format == "json":
                origin = rows[0].start if rows else 0.0
                body = {
                    "messages": [
                        message_json(
                            r, conversation, members, origin=origin, verbose=args.verbose_words
                        )
                        for r in rows
                    ]
                }
                print(json.dumps(body, indent=2, ensure_ascii=False))
            else:
                lines = transcript_lines(rows, members)
                content_type = {"srt": "text/srt", "vtt": "text/vtt"}.get(args.format)
                if content_type:
                    print(render(lines, content_type), end="")
                else:
                    for line in lines:
                        who = f"{line.speaker}: " if line.speaker else ""
                        print(f"[{line.start:7.2f} – {line.end:7.2f}] {who}{line.text}")
        services.storage.dispose()
        return 0
    except ParleyError as exc:
        print(f"parley: {exc.message}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server with in-process workers")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)

    worker = commands.add_parser(
        "worker", help="run a Celery worker for PARLEY_QUEUE=celery (needs Redis)"
    )
    worker.add_argument("--hostname", help="Celery node name, e.g. worker1@%%h")

    apps = commands.add_parser("apps", help="manage API credentials")
    apps_commands = apps.add_subparsers(dest="apps_command", required=True)
    create = apps_commands.add_parser("create", help="create an app; prints appId/appSecret")
    create.add_argument("--name", required=True)

    process = commands.add_parser(
        "process",
        help="process one file without a server; Symbl options as --name value",
        description="Any Async API option can follow, e.g. --enableSpeakerDiarization true "
        "--diarizationSpeakerCount 2 --languageCode en-US --customVocabulary Parley",
    )
    process.add_argument("file")
    process.add_argument("--format", choices=("text", "json", "srt", "vtt"), default="text")
    process.add_argument(
        "--words",
        dest="verbose_words",
        action="store_true",
        help="include per-word times in JSON output",
    )

    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "process":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _logging(args.verbose)
    if args.command == "process" and not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    settings = Settings()
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "worker":
        return _worker(args, settings)
    if args.command == "apps":
        return _apps_create(args, settings)
    return _process(args, settings, extra)


if __name__ == "__main__":
    sys.exit(main())
