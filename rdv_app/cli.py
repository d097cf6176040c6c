"""Command line: `python -m rdv_app.cli {prepare,seed,bootstrap,serve,worker,backup,restore}` (the Makefile
uses them).

- prepare: migrate the database; in the demo (RDV_DEMO=1, as `make run`) seed it when empty and print the
  demo logins; on a real instance refuse a database that holds the demo's accounts, and while no one can
  sign in, print how to create the first super admin;
- seed: wipe the database and seed the demo again (demo only);
- bootstrap --email ADDRESS: invite the instance's first super admin, printing a one-time link;
- serve: prepare, build the frontend for the port in a process that exits, start the production server (one
  port) in a fresh one (rdv_app.serve_built), print the URLs once it answers; SIGTERM drains it
  (rdv_app.shutdown) and exits with its code; logs are JSON lines without personal data (rdv_app.logs);
- worker [DATABASE_URL]: the notification worker as its own process (RDV_NOTIFY_WORKER=external);
  SIGTERM stops it after the message in flight;
- backup [FILE]: a snapshot of the configured database (default data/backups/rdv-<date>.<db|dump>);
- restore FILE: the snapshot into the configured database, which must be empty;
- import-conseillers FILE.csv: the "embauches.csv" export of the Conseillers Numériques back office
  (structures, their lieux and motifs, conseillers invited as admins); prints what it did and the lines
  it could not import. Running it again changes nothing already imported;
- import-permanences FILE.json: the Conseillers Numériques' permanences (nom, adresse, commune,
  code_postal, structureId) as geocoded lieux of their structures; prints what it did and the entries
  it could not import. Running it again changes nothing already imported.

`serve` stays a small supervisor (about 20 MiB): the database work and the frontend build run in child
processes that exit, and the server in a fresh one, so that neither the launcher nor the server keeps
SQLAlchemy, the domain's wiring or the build's memory next to the server for the whole day.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from rdv_app import serve_built

LOGIN_PATH = "/connexion"
HEALTH_PATH = "/_health"
MULTIPROC_SETTING = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own setting
# Reflex's advice that does not apply here: `make run` starts the app, and Node.js is not used (bun is).
# Reflex's own schema check compares the models with the database without knowing the usagers' search index
# (an FTS5 table on SQLite, an expression index on PostgreSQL), which it then reports as changes to make:
# the schema is the migrations' (alembic/env.py leaves those objects out; tests/integration/test_migrations.py).
MISLEADING = (re.compile(r"\s*Run `uv run reflex run` to start the app\."),
              re.compile(r"Warning: Your version \(.*\) of Node\.js is out of date\..*"),
              re.compile(r"Detected database schema changes\. Run reflex db makemigrations to generate.*"),
              re.compile(r".*UserWarning: autogenerate skipping metadata-specified expression-based index.*"))


def banner(base_url: str, reset: bool = False) -> str:
    """Migrate; in the demo, seed when empty (or wipe and seed when `reset`) and describe it; on a real
    instance, check it and say how to create its first super admin while it has none."""
    from rdv_app.config import demo_mode
    from rdv_app.db.migrate import upgrade

    upgrade()
    return demo_banner(base_url, reset) if demo_mode() else instance_banner(base_url)


def demo_banner(base_url: str, reset: bool) -> str:
    from rdv_app.db.uow import UnitOfWork
    from rdv_app.demo.seed import reset_demo, seed_demo
    from rdv_app.notify.mailer import uses_demo_mailbox
    from rdv_app.routes import DEMO_MAILBOX, PUBLIC_BOOKING

    with UnitOfWork() as uow:
        summary = reset_demo(uow) if reset else seed_demo(uow)
    state = "créée" if summary.created else "déjà présente, conservée"
    print(f"Base de données à jour ; démo {state} : {summary.counts_text()}.", flush=True)
    lines = [
        "", "=" * 72,
        "  DÉMONSTRATION (RDV_DEMO=1) : données fictives, mots de passe publics. Rien de réel ici.",
        f"  RDV Services Publics  {base_url}",
        f"  Connexion agents     {base_url}{LOGIN_PATH}",
        f"  Prise de RDV usagers {base_url}{PUBLIC_BOOKING}  (ex. : 62000, puis PMI)",
        f"  Santé                {base_url}{HEALTH_PATH}",
        *([f"  Boîte mail (démo)    {base_url}{DEMO_MAILBOX}  emails et SMS de la démo"] if uses_demo_mailbox() else []),
        "",
        f"  Comptes de démonstration (mot de passe commun : {summary.demo_password})",
        *(f"    {email:<32} {label}" for label, email, _password in summary.logins),
        "=" * 72, "",
    ]
    return "\n".join(lines)


def instance_banner(base_url: str) -> str:
    from rdv_app.db.uow import UnitOfWork
    from rdv_app.services import deployment

    with UnitOfWork(read_only=True) as uow:
        deployment.refuse_demo_database(uow)
        waiting = deployment.needs_bootstrap(uow)
    lines = ["", "=" * 72, f"  RDV Services Publics  {base_url}", f"  Connexion agents     {base_url}{LOGIN_PATH}"]
    if waiting:
        lines += ["", "  Aucun compte ne peut encore se connecter. Créez le premier super administrateur :",
                  f"    {deployment.BOOTSTRAP_COMMAND}",
                  "  puis ouvrez le lien affiché pour choisir son mot de passe."]
    return "\n".join([*lines, "=" * 72, ""])


def bootstrap(email: str, base_url: str) -> int:
    from rdv_app.db.migrate import upgrade
    from rdv_app.db.uow import UnitOfWork
    from rdv_app.routes import invitation
    from rdv_app.services.agents.invitations import (
        INVITATION_LIFETIME,
        BootstrapRefused,
        bootstrap_super_admin,
    )

    upgrade()
    try:
        with UnitOfWork() as uow:
            token = bootstrap_super_admin(uow, email)
    except BootstrapRefused as refusal:
        print(refusal.message, file=sys.stderr)
        return 1
    days = INVITATION_LIFETIME.days
    print(f"Super administrateur {email.strip().lower()} invité. Ouvrez ce lien (valable {days} jours, une seule fois) "
          f"pour choisir son nom et son mot de passe :\n\n  {base_url}{invitation(token)}\n")
    return 0


def import_conseillers(file: Path, permanences: bool = False) -> int:
    """`import-conseillers FILE.csv`, or with `permanences` `import-permanences FILE.json`."""
    from rdv_app.db.migrate import upgrade
    from rdv_app.db.uow import UnitOfWork
    from rdv_app.services.errors import DomainError
    from rdv_app.services.integrations import conseillers_numeriques as cn

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        print(f"Lecture impossible de {file} : {error}", file=sys.stderr)
        return 2
    upgrade()
    try:
        with UnitOfWork() as uow:
            lines = (cn.import_permanences(uow, text) if permanences else cn.import_conseillers(uow, text)).lines()
    except DomainError as refusal:
        print(refusal.message, file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 600) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def relay(source: Iterable[str], target: TextIO) -> None:
    """Copies the server's output without the MISLEADING advice; a warning wrapped over two lines goes
    whole (its wrapped end starts in lower case, or is the source line Python's warnings print)."""
    dropped = False
    for line in source:
        if dropped and (line[:1].islower() or line.strip() == "util.warn("):
            dropped = False
            continue
        cleaned = line
        for pattern in MISLEADING:
            cleaned = pattern.sub("", cleaned)
        dropped = not cleaned.strip()
        if not dropped:
            target.write(cleaned if cleaned == line else cleaned.rstrip() + "\n")
            target.flush()


def serve(port: int) -> int:
    # The websocket accepts only the public origin (rxconfig): default it to the port served here.
    os.environ.setdefault("RDV_PUBLIC_URL", f"http://localhost:{port}")
    with tempfile.TemporaryDirectory() as tmp:
        banner_file = Path(tmp) / "banner.txt"
        prepared = subprocess.run([sys.executable, "-m", "rdv_app.cli", "prepare", "--banner-file",  # noqa: S603
                                   str(banner_file)], check=False)
        if prepared.returncode:
            return prepared.returncode
        text = banner_file.read_text()
    os.environ.update(serve_built.environment(port))
    # SIGTERM (a service manager, a container stopping) goes on to the build, which stops, or to the server,
    # which drains before it exits (rdv_app.shutdown); this supervisor waits for it and exits with its code.
    current: list[subprocess.Popen] = []
    stopping = threading.Event()

    def forward(_signum: int, _frame: object) -> None:
        stopping.set()
        if current:
            current[-1].send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    with shared_metrics_directory():
        try:
            # The build runs in a process that exits: the server never holds the build's memory.
            code = relayed(serve_built.build_command(), current)
            if code or stopping.is_set():
                return code
            os.environ.update(serve_built.serve_environment(os.environ))
            return relayed(serve_built.serve_command(port), current,
                           up=(f"http://127.0.0.1:{port}{HEALTH_PATH}", text))
        except KeyboardInterrupt:
            if current:
                current[-1].send_signal(signal.SIGINT)
                return current[-1].wait()
            return 130


def relayed(command: list[str], current: list[subprocess.Popen], up: tuple[str, str] | None = None) -> int:
    """Runs `command` with its output relayed (without the MISLEADING advice) and returns its exit code;
    with `up` (a health URL, a banner), prints the banner once the URL answers."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    current.append(process)
    assert process.stdout is not None
    relaying = threading.Thread(target=relay, args=(process.stdout, sys.stdout), daemon=True)
    relaying.start()
    if up is not None:
        url, text = up
        if not wait_until_up(url, process):
            code = process.wait()
            if code == 0:  # asked to stop (SIGTERM) and drained before its first answer reached this loop
                return 0
            print("Le serveur n'a pas démarré : voir les messages ci-dessus.", file=sys.stderr)
            return code or 1
        print(text, flush=True)
    code = process.wait()
    relaying.join(timeout=5)
    return code


@contextlib.contextmanager
def shared_metrics_directory() -> Iterator[None]:
    """With metrics on (RDV_METRICS_TOKEN), the server's processes count into one directory that `/metrics`
    adds up (rdv_app.api.metrics): PROMETHEUS_MULTIPROC_DIR when the operator gives one (shared with an
    external `cli worker`, emptied by them between starts), else a fresh one for this run."""
    from rdv_app.config import settings

    if not settings.metrics_token or os.environ.get(MULTIPROC_SETTING):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="rdv-metrics-") as directory:
        os.environ[MULTIPROC_SETTING] = directory
        try:
            yield
        finally:
            os.environ.pop(MULTIPROC_SETTING, None)


def backup_or_restore(command: str, file: Path | None) -> int:
    from rdv_app.db import backup
    from rdv_app.db.engine import database_url
    from rdv_app.domain import clock

    url = database_url()
    try:
        if command == "restore":
            assert file is not None
            backup.restore(url, file)
            print(f"Base restaurée depuis {file}.")
            return 0
        suffix = "db" if url.startswith("sqlite") else "dump"
        target = file or Path("data/backups") / f"rdv-{clock.now():%Y%m%d-%H%M%S}.{suffix}"
        print(f"Sauvegarde écrite : {backup.backup(url, target)}")
        return 0
    except backup.BackupError as error:
        print(error, file=sys.stderr)
        return 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="rdv_app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    prepare_parser = sub.add_parser("prepare")
    prepare_parser.add_argument("--banner-file", type=Path)
    sub.add_parser("seed")
    bootstrap_parser = sub.add_parser("bootstrap")
    bootstrap_parser.add_argument("--email", required=True)
    worker_parser = sub.add_parser("worker")
    worker_parser.add_argument("database_url", nargs="?")
    backup_parser = sub.add_parser("backup")
    backup_parser.add_argument("file", nargs="?", type=Path)
    restore_parser = sub.add_parser("restore")
    restore_parser.add_argument("file", type=Path)
    import_parser = sub.add_parser("import-conseillers")
    import_parser.add_argument("file", type=Path)
    permanences_parser = sub.add_parser("import-permanences")
    permanences_parser.add_argument("file", type=Path)
    serve_parser = sub.add_parser("serve")
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    args = parser.parse_args()
    from rdv_app import logs

    logs.configure_logging()
    if args.command == "serve":
        return serve(args.port)
    from rdv_app import wiring
    from rdv_app.config import demo_mode

    wiring.configure()
    if args.command == "worker":
        from rdv_app.notify import worker

        return worker.main([args.database_url] if args.database_url else [])
    if args.command in ("backup", "restore"):
        return backup_or_restore(args.command, args.file)
    if args.command in ("import-conseillers", "import-permanences"):
        return import_conseillers(args.file, permanences=args.command == "import-permanences")
    base_url = os.environ.get("RDV_PUBLIC_URL", "http://localhost:3000").rstrip("/")
    if args.command == "bootstrap":
        return bootstrap(args.email, base_url)
    if args.command == "seed" and not demo_mode():
        print("make seed efface la base : seulement pour la démonstration (RDV_DEMO=1).", file=sys.stderr)
        return 2
    # prepare or seed
    from rdv_app.services.deployment import DemoDatabaseRefused

    try:
        text = banner(base_url, reset=args.command == "seed")
    except DemoDatabaseRefused as refusal:
        print(refusal.message, file=sys.stderr)
        return 2
    if getattr(args, "banner_file", None):
        args.banner_file.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
