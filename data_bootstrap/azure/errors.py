"""Turn Azure SDK exceptions into one-line BootstrapErrors naming what failed and the fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)

from data_bootstrap.errors import BootstrapError

T = TypeVar("T")

AZURE_LOGIN_FIX = (
    "sign in (`az login`) or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_FEDERATED_TOKEN_FILE for workload identity"
)


@contextmanager
def azure_call(what: str, *, forbidden_fix: str) -> Iterator[None]:
    """Wrap one Azure call: auth failure, 403, unreachable and other HTTP errors become one line.

    The SDK error stays chained as ``__cause__``: the one line is all a user sees, and ``--debug``
    (which re-raises) shows the SDK's own error with its request id under it."""
    try:
        yield
    except ClientAuthenticationError as error:
        status = getattr(error, "status_code", None)
        if status == 403:
            raise BootstrapError(f"{what}: access denied (HTTP 403)", forbidden_fix) from error
        raise BootstrapError(f"{what}: Azure authentication failed ({_first_line(error)})", AZURE_LOGIN_FIX) from error
    except ServiceRequestError as error:
        raise BootstrapError(
            f"{what}: service unreachable ({_first_line(error)})", "run from inside the VNet (public access is off)"
        ) from error
    except ResourceNotFoundError:
        raise
    except HttpResponseError as error:
        if error.status_code == 403:
            raise BootstrapError(f"{what}: access denied (HTTP 403)", forbidden_fix) from error
        raise BootstrapError(
            f"{what}: HTTP {error.status_code} ({_first_line(error)})", "see --debug for details"
        ) from error


def get_or_none(what: str, getter: Callable[[], T], *, forbidden_fix: str) -> T | None:
    """``getter()`` as one wrapped Azure call (see ``azure_call``), or None when Azure answers 404."""
    try:
        with azure_call(what, forbidden_fix=forbidden_fix):
            return getter()
    except ResourceNotFoundError:
        return None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
