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
    """Wrap one Azure call: auth failure, 403, unreachable and other HTTP errors become one line."""
    try:
        yield
    except ClientAuthenticationError as error:
        status = getattr(error, "status_code", None)
        if status == 403:
            raise BootstrapError(f"{what}: access denied (HTTP 403)", forbidden_fix) from None
        raise BootstrapError(f"{what}: Azure authentication failed ({_first_line(error)})", AZURE_LOGIN_FIX) from None
    except ServiceRequestError as error:
        raise BootstrapError(
            f"{what}: service unreachable ({_first_line(error)})", "run from inside the VNet (public access is off)"
        ) from None
    except ResourceNotFoundError:
        raise
    except HttpResponseError as error:
        if error.status_code == 403:
            raise BootstrapError(f"{what}: access denied (HTTP 403)", forbidden_fix) from None
        raise BootstrapError(
            f"{what}: HTTP {error.status_code} ({_first_line(error)})", "see --debug for details"
        ) from None


def get_or_none(getter: Callable[[], T]) -> T | None:
    """The resource, or None when Azure answers 404."""
    try:
        return getter()
    except ResourceNotFoundError:
        return None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
