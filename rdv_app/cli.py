"""Command line: `python -m rdv_app.cli {prepare,seed,serve}` (used by the Makefile).

- prepare: migrate the database, seed the demo when it is empty, print the demo logins;
- seed: wipe the database and seed the demo again;
- serve: prepare, start the production server (one port), print the URLs once it answers.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request

from rdv_app import routes
from rdv_app.config import settings
from rdv_app.db.migrate import upgrade
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.seed import SeedSummary, reset_demo, seed_demo


def print_summary(summary: SeedSummary, base_url: str) -> None:
    print()
    print("=" * 72)
    print(f"  RDV Services Publics  {base_url}")
    print(f"  Connexion agents     {base_url}{routes.LOGIN}")
    print(f"  Santé                {base_url}{routes.HEALTH}")
    print()
    print(f"  Comptes de démonstration (mot de passe commun : {summary.demo_password})")
    for label, email, _password in summary.logins:
        print(f"    {email:<32} {label}")
    print()
    print(f"  Organisation de démonstration : {summary.public_organisation_name}"
          f" (page publique : {base_url}/org/{summary.public_organisation_id})")
    print("=" * 72)
    print(flush=True)


def prepare(reset: bool = False) -> SeedSummary:
    upgrade()
    with UnitOfWork() as uow:
        summary = reset_demo(uow) if reset else seed_demo(uow)
    state = "créée" if summary.created else "déjà présente, conservée"
    print(f"Base de données à jour ; démo {state} : {summary.counts_text()}.", flush=True)
    return summary


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


def serve(port: int) -> int:
    # The websocket accepts only the public origin (rxconfig): default it to the port served here.
    base_url = os.environ.setdefault("RDV_PUBLIC_URL", f"http://localhost:{port}").rstrip("/")
    summary = prepare()
    command = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
               "--frontend-port", str(port), "--backend-port", str(port)]
    process = subprocess.Popen(command)  # noqa: S603 - fixed command
    try:
        if not wait_until_up(f"http://127.0.0.1:{port}{routes.HEALTH}", process):
            print("Le serveur n'a pas démarré : voir les messages ci-dessus.", file=sys.stderr)
            return process.wait() or 1
        print_summary(summary, base_url)
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        return process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(prog="rdv_app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare")
    sub.add_parser("seed")
    serve_parser = sub.add_parser("serve")
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    args = parser.parse_args()
    if args.command == "prepare":
        print_summary(prepare(), settings.public_url)
        return 0
    if args.command == "seed":
        print_summary(prepare(reset=True), settings.public_url)
        return 0
    return serve(args.port)


if __name__ == "__main__":
    sys.exit(main())
