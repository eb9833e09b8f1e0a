"""A pause between role assignments and the resources that use them.

Azure RBAC is eventually consistent: role assignment changes can take up to 10 minutes to take
effect (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting, role assignment
changes not detected), and Key Vault's RBAC data plane is no exception
(https://learn.microsoft.com/azure/key-vault/general/rbac-guide). A storage account whose CMK
identity cannot yet unwrap, or a workspace whose identity cannot yet read its linked resources,
fails its create. ``time_sleep`` (hashicorp/time) waits once at create, again when a grant is
replaced (``triggers``), and never on destroy.
"""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from stacks.framework import RoleAssignment, Sleep


def propagation_wait(scope: Construct, construct_id: str, *, grants: Sequence[RoleAssignment], seconds: int) -> Sleep:
    """A ``time_sleep`` after ``grants``; dependents depend on it, never on the grants directly."""
    return Sleep(
        scope,
        construct_id,
        create_duration=f"{seconds}s",
        triggers={f"grant_{index}": grant.id for index, grant in enumerate(grants)},
        depends_on=list(grants),
    )
