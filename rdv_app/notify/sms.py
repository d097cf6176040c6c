"""SMS providers: OVHcloud through the `ovh` SDK, and a console provider for the demo.

A provider takes an already rendered text (see `rdv_app.domain.sms`) and either returns what the
receipt needs (provider id, segment count) or raises a `TemporarySmsError` (the worker retries) or a
`PermanentSmsError` (the worker gives up at once).

Each send carries the id of its attempt (OVH's `tag`), so that after a crash the worker can ask the provider
whether that attempt left (`find_sent`) before sending again (rdv_app.notify.worker).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import ovh
import ovh.client
import ovh.exceptions

from rdv_app.config import demo_mode
from rdv_app.domain.enums import ReceiptResult
from rdv_app.domain.masking import mask_phone
from rdv_app.domain.sms import is_gsm7, sms_segments
from rdv_app.notify.errors import PermanentDeliveryError, TemporaryDeliveryError

logger = logging.getLogger(__name__)

# UCS-2 (any character outside GSM-7): 70 UTF-16 units in one SMS, 67 per concatenated part.
_UCS2_SINGLE, _UCS2_PART = 70, 67
# Seconds to connect to OVH and to wait for its answer. Once the clock offset is known (`prepare`), a send is
# one call, over within their sum: the worker lets that much time pass before asking OVH about a send that
# was interrupted (rdv_app.notify.worker.IN_FLIGHT_SETTLE).
OVH_TIMEOUT = (5.0, 10.0)
# Our clock and OVH's may differ: pending jobs created this long before an attempt may still be its own.
_CLOCK_MARGIN = timedelta(minutes=5)


class TemporarySmsError(TemporaryDeliveryError):
    pass


class PermanentSmsError(PermanentDeliveryError):
    pass


class SmsStillPendingError(TemporarySmsError):
    """The provider holds a pending job that may be the attempt asked about; pending jobs carry no tag,
    so the answer has to wait until it leaves."""


@dataclass(frozen=True)
class SmsResult:
    provider_id: str
    segments: int


class SmsProvider(Protocol):
    name: str
    # What a successful hand-over means for the receipt: "sent" for a real operator, "processed" when
    # nothing leaves the machine.
    receipt_result: ReceiptResult

    def prepare(self) -> None:
        """Makes what `send` needs beforehand (OVH: its clock), so that a send is a single bounded call."""

    def send(self, to: str, text: str, sender: str | None = None, *, tag: str | None = None) -> SmsResult:
        """Sends `text`; `tag` is the attempt's id, unique, which `find_sent` looks for (the worker always
        gives one)."""

    def find_sent(self, tag: str, to: str, text: str, since: datetime) -> SmsResult | None:
        """The SMS of the attempt `tag` (started at `since`) if it reached the provider, else None.

        Raises `SmsStillPendingError` when that cannot be told yet, `TemporarySmsError` when the provider
        cannot be asked."""


def segment_count(text: str) -> int:
    """Parts billed for `text`. Our texts are GSM-7 (`rdv_app.domain.sms`), but a provider must still
    count right for anything else it is given: UCS-2 then."""
    if is_gsm7(text):
        return sms_segments(text)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= _UCS2_SINGLE else -(-units // _UCS2_PART)


class ConsoleSmsProvider:
    """Writes messages to the log instead of sending them (demo and development). Numbers are masked;
    texts, which carry the "Infos et annulation" links, are written only for the demo (`show_texts`)."""

    name = "console"
    receipt_result = ReceiptResult.PROCESSED

    def __init__(self, sender: str | None = None, *, show_texts: bool = True) -> None:
        self.sender = sender
        self.show_texts = show_texts

    def prepare(self) -> None:
        pass

    def send(self, to: str, text: str, sender: str | None = None, *, tag: str | None = None) -> SmsResult:
        segments = segment_count(text)
        shown = text if self.show_texts else f"({len(text)} caractères, texte non journalisé hors démo)"
        logger.info("SMS (console) from %s to %s, %d segment(s):\n%s", sender or self.sender, mask_phone(to),
                    segments, shown)
        return SmsResult(provider_id=f"console-{uuid.uuid4().hex[:16]}", segments=segments)

    def find_sent(self, tag: str, to: str, text: str, since: datetime) -> None:
        """Nothing leaves the machine: an interrupted message is simply logged again."""
        return None


@dataclass(frozen=True)
class OvhSettings:
    """One OVH SMS account. `endpoint` is a region key of the SDK ("ovh-eu") or a base URL ending in
    `/1.0` (what the tests use to reach their loopback server)."""

    endpoint: str
    application_key: str
    application_secret: str
    consumer_key: str
    service_name: str
    sender: str | None = None

    @classmethod
    def from_env(cls) -> OvhSettings | None:
        """The account from OVH_* and RDV_OVH_SMS_SERVICE, or None when none of them is set.

        A partial configuration is an error rather than a silent fallback to the console provider,
        which would mark every SMS "processed" in production while sending nothing.
        """
        names = {
            "endpoint": "OVH_ENDPOINT",
            "application_key": "OVH_APPLICATION_KEY",
            "application_secret": "OVH_APPLICATION_SECRET",
            "consumer_key": "OVH_CONSUMER_KEY",
            "service_name": "RDV_OVH_SMS_SERVICE",
        }
        values = {field: os.environ.get(var, "").strip() for field, var in names.items()}
        if not any(values.values()):
            return None
        if missing := [names[field] for field, value in values.items() if not value]:
            raise RuntimeError(f"Configuration OVH incomplète : {', '.join(missing)} manquant(s).")
        return cls(**values, sender=os.environ.get("RDV_SMS_SENDER", "").strip() or None)


def _endpoint_key(endpoint: str) -> str:
    """The key under which `ovh.Client` finds the base URL.

    The SDK only accepts keys of `ovh.client.ENDPOINTS` (a plain module dict of base URLs). A full URL
    is registered there under itself, which is how a loopback server or a future region is reached
    without patching the SDK.
    """
    if endpoint.startswith(("http://", "https://")):
        base = endpoint.rstrip("/")
        ovh.client.ENDPOINTS.setdefault(base, base)
        return base
    return endpoint


def _ovh_error_code(error: ovh.exceptions.APIError) -> str | None:
    response = getattr(error, "response", None)
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("errorCode") if isinstance(body, dict) else None


def _describe(error: ovh.exceptions.APIError) -> str:
    """One line for the receipt: the API's message and query id, or the transport failure."""
    if isinstance(error, ovh.exceptions.HTTPError) and len(error.args) > 1:
        cause = error.args[1]
        return f"{type(cause).__name__}: {cause}"[:300]
    return " ".join(str(error).split())


def _same_number(listed: str, to: str) -> bool:
    """OVH may list "+33612345678" as "0033612345678"."""
    def digits(number: str) -> str:
        return "".join(char for char in number if char.isdigit()).removeprefix("00")
    return digits(listed) == digits(to)


class OvhSmsProvider:
    """`POST /sms/{service}/jobs`, one receiver per job so that each SMS has its own id.

    `name` goes to the receipts: "ovh" for the instance's account (OVH_*), "ovh:<service name>" for a
    territory's own (rdv_app.notify.territory_sms)."""

    receipt_result = ReceiptResult.SENT

    def __init__(self, settings: OvhSettings, *, name: str = "ovh",
                 timeout: float | tuple[float, float] = OVH_TIMEOUT) -> None:
        self.name = name
        self.settings = settings
        self.sender = settings.sender
        # The SDK's default is 180 s; a stuck call must end before the worker asks OVH whether it left.
        self.timeout = timeout
        self._endpoint = _endpoint_key(settings.endpoint)
        # One client per thread: the SDK keeps a requests.Session and a lazily fetched clock offset.
        self._local = threading.local()

    def _client(self) -> ovh.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = ovh.Client(
                endpoint=self._endpoint,
                application_key=self.settings.application_key,
                application_secret=self.settings.application_secret,
                consumer_key=self.settings.consumer_key,
                timeout=self.timeout,
            )
            self._local.client = client
        return client

    @contextlib.contextmanager
    def _calling(self) -> Iterator[ovh.Client]:
        """The thread's client, with the SDK's errors turned into ours."""
        try:
            yield self._client()
        except ovh.exceptions.BadParametersError as error:
            if _ovh_error_code(error) == "INVALID_SIGNATURE":
                # Wrong secret or clock: an operator can fix it, and the messages must survive until then.
                self._local.client = None
                raise TemporarySmsError(f"OVH : signature refusée ({_describe(error)})") from error
            raise PermanentSmsError(f"OVH : paramètres refusés ({_describe(error)})") from error
        except ovh.exceptions.HTTPError as error:
            raise TemporarySmsError(f"OVH injoignable ({_describe(error)})") from error
        except ovh.exceptions.APIError as error:
            raise TemporarySmsError(f"OVH : {type(error).__name__} ({_describe(error)})") from error

    def prepare(self) -> None:
        with self._calling() as client:
            client.time_delta  # noqa: B018 - the SDK fetches OVH's clock on first use

    def send(self, to: str, text: str, sender: str | None = None, *, tag: str | None = None) -> SmsResult:
        sender = sender or self.sender
        options = {"sender": sender} if sender else {}
        if tag:
            options["tag"] = tag
        with self._calling() as client:
            report = client.post(
                f"/sms/{self.settings.service_name}/jobs",
                message=text,
                receivers=[to],
                noStopClause=True,  # transactional messages: no STOP mention, no delay outside office hours
                priority="high",
                coding="7bit" if is_gsm7(text) else "8bit",
                _class="phoneDisplay",
                **options,
            )
        if not isinstance(report, dict):
            raise TemporarySmsError(f"OVH : réponse inattendue {report!r}")
        if report.get("invalidReceivers"):
            # The number itself stays out of the message: the receipt has it, the logs need not.
            raise PermanentSmsError("OVH : numéro refusé par l'opérateur")
        if not report.get("ids"):
            # Nothing was created, so sending again cannot duplicate the SMS.
            raise TemporarySmsError(f"OVH : aucun SMS créé ({report!r})")
        return SmsResult(provider_id=str(report["ids"][0]), segments=segment_count(text))

    def find_sent(self, tag: str, to: str, text: str, since: datetime) -> SmsResult | None:
        """Looks among the pending jobs first, then among the SMS sent: a job that leaves in between is then
        found among the sent ones, never missed by both looks.

        Pending jobs carry no tag: one to the same number created since the attempt (give or take the
        clocks' difference) may be it, and the answer waits until it has left.
        """
        service = f"/sms/{self.settings.service_name}"
        with self._calling() as client:
            for job_id in client.get(f"{service}/jobs"):
                try:
                    job = client.get(f"{service}/jobs/{job_id}")
                except ovh.exceptions.ResourceNotFoundError:
                    continue  # it has just left: the look among sent SMS below finds it if it is ours
                created = datetime.fromisoformat(job["creationDatetime"])
                if created >= since - _CLOCK_MARGIN and _same_number(job["receiver"], to):
                    raise SmsStillPendingError(f"OVH : un SMS vers ce numéro est encore en attente (job {job_id})")
            ids = client.get(f"{service}/outgoing", tag=tag)
            if not ids:
                return None
            sent = client.get(f"{service}/outgoing/{min(ids)}")
        return SmsResult(provider_id=str(sent["id"]), segments=int(sent.get("numberOfSms") or segment_count(text)))


@functools.cache
def _ovh_provider(settings: OvhSettings) -> OvhSmsProvider:
    return OvhSmsProvider(settings)


def sms_provider_from_env() -> SmsProvider:
    """OVH when OVH_* is configured; otherwise the console provider, in the demo or when RDV_SMS=console
    says so. Any other instance without OVH stops here: it would mark every SMS processed, sending none."""
    settings = OvhSettings.from_env()
    if settings is None:
        demo = demo_mode()
        if not demo and os.environ.get("RDV_SMS", "").strip().lower() != "console":
            raise RuntimeError("Aucun fournisseur de SMS : configurez OVH (OVH_* et RDV_OVH_SMS_SERVICE), ou "
                               "indiquez RDV_SMS=console pour écrire les SMS dans le journal sans les envoyer.")
        return ConsoleSmsProvider(sender=os.environ.get("RDV_SMS_SENDER", "").strip() or None, show_texts=demo)
    # Cached so that short-lived workers (delivery right after a commit) reuse connections and clock offset.
    return _ovh_provider(settings)
