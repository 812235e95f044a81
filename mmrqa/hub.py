"""Pushing to the Hugging Face Hub with a bounded number of retries and one actionable error.

``huggingface_hub`` already retries some requests itself (``http_backoff``: preupload, LFS batch and upload, up to
6 tries each, 1-2-4-8-8 s apart, on 429/5xx and dropped connections), but not all of them, and a push is many
requests. :func:`push_with_retries` runs a whole push (an idempotent action: files already on the Hub with the same
content are skipped by the next try) at most ``attempts`` times, waiting ``wait * 2**k`` seconds between tries, and
only for transient failures (5xx, 429, a timeout or a dropped connection); anything else (bad token, missing
permissions, a bad repo id) fails at once. The worst case is bounded: ``attempts`` x (the library's own bounded
retries of one request) plus the waits. The last failure becomes a :class:`mmrqa.errors.HubError` that names the
repo and the local folder (left untouched: pushing only reads it) and says what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from mmrqa.errors import HubError

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: tries of a whole push, and the wait before the second one (doubled for each further try).
PUSH_ATTEMPTS = 3
PUSH_WAIT_S = 2.0
#: HTTP statuses worth another try: rate limiting and server-side failures.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def is_transient(exc: BaseException) -> bool:
    """True for a failure that another try may not meet: a 5xx/429 answer, a timeout, a dropped connection."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        return int(status) in TRANSIENT_STATUS
    names = {cls.__name__ for cls in type(exc).__mro__}
    network = {"TimeoutException", "NetworkError", "RemoteProtocolError", "ConnectionError", "TransportError"}
    return bool(names & network) or isinstance(exc, (ConnectionError, TimeoutError))


def push_with_retries(
    action: Callable[[], T],
    *,
    repo_id: str,
    local: str,
    repo_type: str = "model",
    attempts: int = PUSH_ATTEMPTS,
    wait: float = PUSH_WAIT_S,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Run the push ``action`` until it succeeds, at most ``attempts`` times; returns its result.

    Raises:
        HubError: the last failure (after ``attempts`` transient failures, or at once for a permanent one), naming
            ``repo_id`` and ``local`` and saying how to push again.
    """
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except HubError:
            raise
        except Exception as exc:  # noqa: BLE001 - network, auth and server errors all become one HubError
            transient = is_transient(exc)
            if transient and attempt < attempts:
                delay = wait * 2 ** (attempt - 1)
                logger.warning(
                    "push to %s failed (%s); try %d of %d in %.0f s", repo_id, exc, attempt + 1, attempts, delay
                )
                (sleep or time.sleep)(delay)
                continue
            raise HubError(_message(exc, repo_id, local, repo_type, attempt, transient)) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _message(exc: BaseException, repo_id: str, local: str, repo_type: str, attempt: int, transient: bool) -> str:
    detail = " ".join(str(exc).split())[:300]
    tries = f" after {attempt} attempt(s)" if transient else ""
    advice = (
        "the Hub or the network is failing: try again later"
        if transient
        else "check the token (HF_TOKEN or `hf auth login`), its write access and the repo id"
    )
    return (
        f"cannot push {local} to the Hub {repo_type} repo {repo_id!r}{tries}: {type(exc).__name__}: {detail}. "
        f"The local files are unchanged; {advice}, then run the same push again (files already uploaded are skipped)."
    )
