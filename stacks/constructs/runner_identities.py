"""A job's user-assigned identity: its federated credentials and its role assignments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs import Construct

from stacks.constructs.identity import WorkloadIdentity
from stacks.framework import FederatedIdentityCredential, RoleAssignment
from stacks.naming import FEDERATION_AUDIENCE


@dataclass(frozen=True, kw_only=True)
class FederatedSubjectSpec:
    """A token issuer and subject the identity trusts (no secret involved)."""

    issuer: str
    subject: str


@dataclass(frozen=True, kw_only=True)
class ScopedGrantSpec:
    """A role on an explicit scope (AVM ``role_assignments`` entry with its own scope).

    Exactly one of ``role_definition_name`` (built-in) and ``role_definition_id`` (custom) is set;
    ``condition`` is an ABAC condition (version 2.0).
    """

    scope: str
    description: str
    role_definition_name: str | None = None
    role_definition_id: str | None = None
    condition: str | None = None

    def __post_init__(self) -> None:
        if (self.role_definition_name is None) == (self.role_definition_id is None):
            raise ValueError("set exactly one of role_definition_name and role_definition_id")


class RunnerIdentity(Construct):
    """One identity per job and environment; credentials are federated, never secrets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        location: str,
        resource_group_name: str,
        federated_subjects: Mapping[str, FederatedSubjectSpec],
        role_assignments: Mapping[str, ScopedGrantSpec],
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.identity = WorkloadIdentity(
            self, "identity", name=name, location=location, resource_group_name=resource_group_name, tags=tags
        ).identity
        # https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust-user-assigned-managed-identity
        # (audience api://AzureADTokenExchange). Writing two credentials of one identity at once
        # fails with 409 ("Concurrent Federated Identity Credentials writes under the same managed
        # identity are not supported": https://learn.microsoft.com/entra/workload-id/
        # workload-identity-federation-considerations, "Concurrent updates aren't supported"),
        # so each waits for the previous one.
        self.federated_credentials: list[FederatedIdentityCredential] = []
        for key, spec in sorted(federated_subjects.items()):
            previous = self.federated_credentials[-1:]
            self.federated_credentials.append(
                FederatedIdentityCredential(
                    self,
                    f"federated_credential_{key}",
                    name=key,
                    resource_group_name=resource_group_name,
                    parent_id=self.identity.id,
                    issuer=spec.issuer,
                    subject=spec.subject,
                    audience=[FEDERATION_AUDIENCE],
                    depends_on=list(previous) or None,
                )
            )
        self.role_assignments = [
            RoleAssignment(
                self,
                f"role_assignment_{key}",
                scope=spec.scope,
                principal_id=self.identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_name=spec.role_definition_name,
                role_definition_id=spec.role_definition_id,
                condition=spec.condition,
                condition_version="2.0" if spec.condition else None,
                description=spec.description,
            )
            for key, spec in sorted(role_assignments.items())
        ]
