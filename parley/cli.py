"""The ``parley`` command: serve the API, process a file, manage apps, use a remote server."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from parley.config import Settings
from parley.errors import ParleyError as ParleyErrorBase

__all__ = ["main"]


def _level(args: argparse.Namespace, settings: Settings) -> str:
    return "DEBUG" if args.verbose else settings.log_level.upper()


def _metrics_dir(settings: Settings) -> None:
    """Metrics in multiprocess mode for this process and its children (uvicorn workers,
    job processes), unless PROMETHEUS_MULTIPROC_DIR is set. Runs before
    prometheus_client is first imported, which is when it reads the variable."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only
        path = settings.data_dir.resolve() / "metrics"
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from parley import logs

    updates: dict[str, Any] = {}
    if args.host:
        updates["host"] = args.host
    if args.port:
        updates["port"] = args.port
    if args.workers:
        updates["server_workers"] = args.workers
    settings = settings.model_copy(update=updates)
    if not (settings.app_id and settings.app_secret):
        logging.getLogger("parley").warning(
            "PARLEY_APP_ID/PARLEY_APP_SECRET are not set: create credentials with "
            "'parley apps create --name NAME'"
        )
    log_config = logs.dict_config(settings.log_format, _level(args, settings))
    # bounded: an idle connection, slow headers (the protocol), in-flight requests at a stop
    http: dict[str, Any] = {
        "http": "parley.api.timeouts:HeadTimeoutProtocol",
        "timeout_keep_alive": settings.keep_alive_seconds,
        "timeout_graceful_shutdown": math.ceil(settings.shutdown_grace_seconds),
    }
    if settings.server_workers > 1:  # separate processes: each builds the app from the env
        uvicorn.run(
            "parley.api.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.server_workers,
            log_config=log_config,
            access_log=settings.access_log,
            **http,
        )
        return 0
    from parley.api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=log_config,
        access_log=settings.access_log,
        **http,
    )
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    """A Celery worker: one job at a time per process; run more processes to scale."""
    from parley.jobs.celery_queue import make_celery, register_worker_tasks
    from parley.jobs.owners import new_worker_id
    from parley.services import build_storage, build_worker_runner

    build_storage(settings).dispose()  # migrations, before any job
    app = make_celery(settings)
    app.conf.worker_hijack_root_logger = False  # keep Parley's handler (JSON, redaction)
    runner = build_worker_runner(settings, new_worker_id(args.hostname or "celery"))
    register_worker_tasks(app, runner)
    port = args.health_port or settings.worker_health_port
    if port:
        from parley.health import serve_health

        serve_health(
            port,
            runner.storage,
            broker_url=settings.broker_url,
            # with warm_models off a worker is ready at once and loads at first use
            models_loaded=lambda: (
                not settings.warm_models or bool(runner.models.load_seconds.get("whisper"))
            ),
            host=settings.host,
        )
    runner.warm()
    from parley import metrics

    for model, seconds in runner.models.load_seconds.items():
        metrics.MODEL_LOAD_SECONDS.labels(model=model).set(seconds)
    argv = ["worker", "--pool=solo", "--loglevel=INFO", "-Q", settings.celery_queue_name]
    if args.hostname:
        argv += ["--hostname", args.hostname]
    app.worker_main(argv)
    return 0


def _retention(args: argparse.Namespace, settings: Settings) -> int:
    """Delete audio (or whole conversations) older than the retention period, once."""
    from parley.retention import apply_retention
    from parley.services import build_storage

    days = args.days if args.days is not None else settings.retention_days
    if days is None:
        print("parley: set PARLEY_RETENTION_DAYS or pass --days", file=sys.stderr)
        return 2
    storage = build_storage(settings)
    try:
        removed = apply_retention(
            storage, days=days, scope=args.scope or settings.retention_scope, dry_run=args.dry_run
        )
    finally:
        storage.dispose()
    verb = "would delete" if args.dry_run else "deleted"
    print(
        json.dumps(
            {"days": days, verb: {"audio": removed.audio, "conversations": removed.conversations}}
        )
    )
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
    from parley.options.job import parse_options
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


# -- a remote server: submit, get, jobs ------------------------------------------------------

#: Exit codes of the remote commands; scripts may rely on them (see README).
EXIT_OK, EXIT_JOB_FAILED, EXIT_BAD_INPUT, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_SERVER = (
    0,
    1,
    2,
    3,
    4,
    5,
)
EXIT_CODES = (
    "exit codes of submit/get/jobs: 0 done; 1 the job failed; 2 bad input (usage, no such file, "
    "invalid option, unknown conversation); 3 authentication (no, wrong or expired "
    "credentials); 4 server unreachable; 5 other server error"
)


def _client(args: argparse.Namespace) -> Any:
    from parley_client import Parley

    return Parley.from_config(args.server, config=args.config)


def _remote(run: Any, args: argparse.Namespace, *rest: Any) -> int:
    """Run a remote command, turning client errors into a message and an exit code."""
    import parley_client as client

    try:
        with _client(args) as parley:
            return int(run(parley, args, *rest))
    except client.JobFailed as exc:
        print(f"parley: {exc.message}", file=sys.stderr)
        return EXIT_JOB_FAILED
    except client.AuthError as exc:
        print(
            f"parley: not authorised: {exc.message} (set PARLEY_APP_ID/PARLEY_APP_SECRET or "
            "PARLEY_TOKEN, or a config file)",
            file=sys.stderr,
        )
        return EXIT_AUTH
    except client.Unreachable as exc:
        print(f"parley: {exc.message}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (client.BadRequestError, client.NotFoundError) as exc:
        print(f"parley: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except client.ParleyError as exc:
        print(f"parley: the server failed: {exc.message}", file=sys.stderr)
        return EXIT_SERVER


class _Progress:
    """One status line on stderr: a bar on a terminal, a line per change otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = ""

    def show(self, label: str, fraction: float) -> None:
        if self.quiet:
            return
        percent = max(0.0, min(1.0, fraction)) * 100
        if self.tty:
            filled = int(percent / 5)
            sys.stderr.write(
                f"\r{label:<12} [{'#' * filled}{'.' * (20 - filled)}] {percent:5.1f} %"
            )
            sys.stderr.flush()
            return
        line = f"{label} {percent:.0f} %"
        if line != self.last and (label != "uploading" or percent in (0.0, 100.0)):
            print(line, file=sys.stderr)
        self.last = line

    def end(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


def _submit(parley: Any, args: argparse.Namespace, extra: list[str]) -> int:
    from parley.options.job import parse_options

    remote = args.file.startswith(("http://", "https://"))
    source = Path(args.file)
    if not remote and not source.is_file():
        print(f"parley: no such file: {source}", file=sys.stderr)
        return EXIT_BAD_INPUT
    raw = _options(extra)
    parse_options(raw)  # refuse a bad option before uploading anything
    options = {k: v[0] if len(v) == 1 else json.dumps(v) for k, v in raw.items()}
    progress = _Progress(args.quiet)
    if remote:  # the server fetches it
        job = parley.submit_url(args.file, conversation_id=args.conversation, **options)
    else:
        job = parley.submit(
            source,
            conversation_id=args.conversation,
            on_upload=lambda sent, total: progress.show("uploading", sent / total if total else 1),
            **options,
        )
    if args.no_wait:
        progress.end()
        print(json.dumps({"conversationId": job.conversation_id, "jobId": job.id}))
        return EXIT_OK
    try:
        done = parley.wait(
            job, on_progress=lambda j: progress.show(j.status, j.progress / 100), interval=1.0
        )
    finally:
        progress.end()
    print(json.dumps({"conversationId": done.conversation_id, "jobId": done.id}))
    return EXIT_OK


def _get(parley: Any, args: argparse.Namespace) -> int:
    cid = args.conversation
    if args.format == "json":  # the API's own JSON, as the server sent it
        body = {
            "conversation": parley.conversation(cid).raw,
            "messages": [m.raw for m in parley.messages(cid)],
            "actionItems": [i.raw for i in parley.action_items(cid)],
            "questions": [i.raw for i in parley.questions(cid)],
            "followUps": [i.raw for i in parley.follow_ups(cid)],
            "topics": [t.raw for t in parley.topics(cid)],
        }
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return EXIT_OK
    content_type = {"srt": "text/srt", "vtt": "text/vtt", "md": "text/markdown"}[args.format]
    text = parley.transcript(cid, content_type)
    print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK


def _jobs(parley: Any, args: argparse.Namespace) -> int:
    jobs = parley.jobs(limit=args.limit)
    if args.json:
        rows = [
            {
                "id": j.id,
                "status": j.status,
                "progress": j.progress,
                "conversationId": j.conversation_id,
                "name": j.name,
                "reason": j.reason,
            }
            for j in jobs
        ]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    print(f"{'JOB':36}  {'STATUS':11}  {'PROGRESS':>8}  {'CONVERSATION':16}  NAME")
    for j in jobs:
        print(
            f"{j.id:36}  {j.status:11}  {j.progress:7.1f}%  {j.conversation_id:16}  "
            f"{j.name or ''}{'  — ' + j.reason if j.reason else ''}"
        )
    return EXIT_OK


def _add_remote_commands(commands: Any) -> None:
    def remote(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, epilog=EXIT_CODES
        )
        parser.add_argument("--server", help="server URL (default $PARLEY_SERVER or config)")
        parser.add_argument("--config", help="config file (default ~/.config/parley/client.toml)")
        return parser

    submit = remote("submit", "upload a file (or have the server fetch a URL) and wait for it")
    submit.description = (
        "Any Async API option can follow, e.g. --enableSpeakerDiarization true "
        "--diarizationSpeakerCount 2 --name Standup"
    )
    submit.add_argument("file", help="a local file, or an http(s) URL the server fetches")
    submit.add_argument("--conversation", help="append to this conversation")
    submit.add_argument("--no-wait", action="store_true", help="print the ids, do not wait")
    submit.add_argument("--quiet", action="store_true", help="no progress on stderr")
    get = remote("get", "print a conversation's transcript or everything as JSON")
    get.add_argument("conversation")
    get.add_argument("--format", choices=("srt", "vtt", "md", "json"), default="md")
    jobs = remote("jobs", "list recent jobs and their states")
    jobs.add_argument("--limit", type=int, default=20)
    jobs.add_argument("--json", action="store_true")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server with in-process workers")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="server processes (PARLEY_SERVER_WORKERS)")

    worker = commands.add_parser(
        "worker", help="run a Celery worker for PARLEY_QUEUE=celery (needs Redis)"
    )
    worker.add_argument("--hostname", help="Celery node name, e.g. worker1@%%h")
    worker.add_argument(
        "--health-port", type=int, help="serve /health, /ready, /metrics on this port"
    )

    retention = commands.add_parser(
        "retention", help="delete audio or conversations older than PARLEY_RETENTION_DAYS, once"
    )
    retention.add_argument("--days", type=float, help="override PARLEY_RETENTION_DAYS")
    retention.add_argument("--scope", choices=("audio", "conversations"))
    retention.add_argument("--dry-run", action="store_true", help="count, delete nothing")

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

    _add_remote_commands(commands)

    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("process", "submit"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    settings = Settings()
    from parley import logs

    logs.setup(settings.log_format, _level(args, settings))
    if args.command in ("process", "submit", "get", "jobs") and not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    if args.command in ("serve", "worker"):
        _metrics_dir(settings)
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "worker":
        return _worker(args, settings)
    if args.command == "retention":
        return _retention(args, settings)
    if args.command == "apps":
        return _apps_create(args, settings)
    if args.command == "submit":
        try:
            return _remote(_submit, args, extra)
        except (SystemExit, ParleyErrorBase) as exc:  # a bad option, before any upload
            print(f"parley: {getattr(exc, 'message', exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if args.command == "get":
        return _remote(_get, args)
    if args.command == "jobs":
        return _remote(_jobs, args)
    return _process(args, settings, extra)


if __name__ == "__main__":
    sys.exit(main())
