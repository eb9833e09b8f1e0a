"""Deployment unit 0 (``access-<env>``): who may deploy and run what, applied first, by an Owner.

It holds what the pipelines' identities cannot create for themselves:

- the platform resource group (the deployer's rights are scoped to it, so it must exist first);
- for azurerm-backed environments (the only ones the pipelines run): the state account itself
  (private, its endpoint in the runner VNet, stacks/constructs/state_backend.py) with the blob and
  vault private DNS zones it registers in, one user-assigned identity per job with federated
  credentials (no secret anywhere) and least-privilege grants, the Argo artifact container in the
  state account, and the custom roles those grants use.

Network reach (peering and the other zones' DNS links to the runner VNet) is declared by the
network stack, where the platform VNet and those zones are (stacks/constructs/runner_reach.py);
this unit links its own two zones to the runner VNet and grants the deployer the narrow rights on
the runner VNet that the network stack needs. See docs/access.md.
"""

from __future__ import annotations

from constructs import Construct

from stacks.access_grants import JobGrants, job_grants, job_subjects
from stacks.access_roles import DEPLOYER_RESOURCE_PROVIDERS, RUNNER_NETWORK_ACTIONS, deployer_actions
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.constructs.private_dns import STATE_ZONE_KEYS, PrivateDnsZones
from stacks.constructs.runner_identities import RunnerIdentity
from stacks.constructs.runner_reach import split_virtual_network_id
from stacks.constructs.state_backend import StateBackend, StateBackendProps
from stacks.constructs.unload_access import declare_private_endpoint_approver_role
from stacks.framework import (
    DataAzurermClientConfig,
    ResourceGroup,
    RoleAssignment,
    RoleDefinition,
    RoleDefinitionPermissions,
    StorageContainer,
    TerraformOutput,
)
from stacks.naming import (
    GITHUB_PLAN,
    GITHUB_TENANT_VARIABLE,
    JOBS_WITH_IDENTITY,
    github_client_id_variable,
    identity_name,
)


def resource_group_of(resource_id: str) -> str:
    """``/subscriptions/<s>/resourceGroups/<g>`` of an ARM resource ID."""
    parts = resource_id.split("/")
    return "/".join(parts[:5])


class AccessStack(PlatformStack):
    # Registered once by the Owner's apply, so the deployer (no subscription-scope rights) never
    # has to: the other stacks set resource_provider_registrations = "none".
    resource_providers_to_register = DEPLOYER_RESOURCE_PROVIDERS

    def __init__(
        self, scope: Construct, stack_id: str, *, config: EnvironmentConfig, local_state: bool = False
    ) -> None:
        # local_state: this stack's first apply (PLATFORM_ACCESS_STATE=local), which creates the
        # state account it is later migrated into (docs/access.md, "Order and bootstrap").
        self.local_state = local_state
        super().__init__(scope, stack_id, config=config)
        location, runners = config.environment.location, config.runners
        # Moved here from the network stack: infra-apply's rights are scoped to this group.
        self.platform_resource_group = ResourceGroup(
            self, "platform_resource_group", name=config.names.resource_group, location=location, tags=self.tags
        )
        TerraformOutput(
            self,
            "platform_resource_group_name",
            value=self.platform_resource_group.name,
            description="resource group the deployer identity may deploy into",
        )
        self.identities: dict[str, RunnerIdentity] = {}
        if config.backend.type != "azurerm":
            # Local state lives on one workstation: no pipeline deploys or runs this
            # environment, so it needs no runner identity (its operator deploys everything).
            return
        client = DataAzurermClientConfig(self, "client_config")
        runners_group = ResourceGroup(
            self, "runners_resource_group", name=runners.resource_group, location=location, tags=self.tags
        )
        state = self._state_backend(client.tenant_id)
        # In the state account, created through the resource manager like every container here.
        artifacts = StorageContainer(
            self,
            "artifact_container",
            name=runners.artifact_container,
            storage_account_id=state.storage.account.id,
            container_access_type="private",
        )
        # Whoever applies this stack (an administrator: Owner has no data actions) writes its state
        # and lock from then on, from inside the runner VNet.
        RoleAssignment(
            self,
            "state_administrator",
            scope=state.state_container.id,
            principal_id=client.object_id,
            role_definition_name="Storage Blob Data Contributor",
            description="The administrator applying the access stack: writes its Terraform state and lock.",
        )
        platform_scope = self.platform_resource_group.id
        deployer_role = RoleDefinition(
            self,
            "deployer_role",
            name=f"{config.environment.project} platform deployer ({config.name})",
            scope=platform_scope,
            description="Deploys the network and ML platform stacks: their resource providers, this group only.",
            permissions=[RoleDefinitionPermissions(actions=deployer_actions())],
            assignable_scopes=[platform_scope],
        )
        runner_network_role = None
        if runners.virtual_network_id:
            runner_group_scope = resource_group_of(runners.virtual_network_id)
            runner_network_role = RoleDefinition(
                self,
                "runner_network_role",
                name=f"{config.environment.project} runner network peering ({config.name})",
                scope=runner_group_scope,
                description="Peers the runner VNet with the platform VNet and links private DNS zones to it.",
                permissions=[RoleDefinitionPermissions(actions=list(RUNNER_NETWORK_ACTIONS))],
                assignable_scopes=[runner_group_scope],
            )
        # Assigned to data-bootstrap by the ML platform stack (unload engine only).
        declare_private_endpoint_approver_role(self, config=config, platform_resource_group_id=platform_scope)
        scopes = JobGrants(
            platform_resource_group_id=platform_scope,
            runners_resource_group_id=runners_group.id,
            state_container_id=state.state_container.id,
            artifact_container_id=artifacts.id,
            deployer_role_id=deployer_role.role_definition_resource_id,
            runner_network_role_id=runner_network_role.role_definition_resource_id if runner_network_role else None,
        )
        for job in JOBS_WITH_IDENTITY:
            self.identities[job] = RunnerIdentity(
                self,
                f"identity_{job.replace('-', '_')}",
                name=identity_name(config.environment.project, job, config.name),
                location=location,
                resource_group_name=runners_group.name,
                federated_subjects=job_subjects(job, config),
                role_assignments=job_grants(job, config, scopes),
                tags=self.tags,
            )
        outputs = {
            "tenant_id": (client.tenant_id, f"tenant of the identities (GitHub variable {GITHUB_TENANT_VARIABLE})"),
            "artifact_container_name": (artifacts.name, "Argo artifact repository container"),
            "artifact_storage_account_name": (state.storage.account.name, "account of the artifact container"),
        }
        for job, runner in self.identities.items():
            where = (
                f"GitHub variable {github_client_id_variable(config.name)}"
                if job == GITHUB_PLAN
                else "pipelines/settings.toml"
            )
            outputs[f"{job.replace('-', '_')}_client_id"] = (runner.identity.client_id, f"client ID of {job} ({where})")
        for output_name, (value, description) in outputs.items():
            TerraformOutput(self, output_name, value=value, description=description)

    def _declare_backend(self, stack_id: str) -> None:
        if self.local_state:
            self._declare_local_backend(stack_id)
        else:
            super()._declare_backend(stack_id)

    def _state_backend(self, tenant_id: str) -> StateBackend:
        """The private state account, and the two zones its endpoints register in."""
        config, runners = self.config, self.config.runners
        zones = PrivateDnsZones(
            self,
            "private_dns",
            resource_group_name=self.platform_resource_group.name,
            virtual_network_id=runners.virtual_network_id,
            link_name=f"link-{split_virtual_network_id(runners.virtual_network_id)[2]}",
            tags=self.tags,
            keys=STATE_ZONE_KEYS,
        )
        backend = config.backend
        self.time_provider()  # the wait between the key's grant and the account
        return StateBackend(
            self,
            "state_backend",
            props=StateBackendProps(
                location=config.environment.location,
                resource_group_name=backend.resource_group_name,
                storage_account_name=backend.storage_account_name,
                container_name=backend.container_name,
                key_vault_name=backend.key_vault_name,
                key_vault_sku=config.key_vault.sku,
                key_vault_soft_delete_days=config.key_vault.soft_delete_days,
                cmk_identity_name=f"id-{config.environment.project}-tfstate-cmk-{config.name}",
                tenant_id=tenant_id,
                replication_type=config.storage.replication_type,
                blob_soft_delete_days=config.storage.blob_soft_delete_days,
                container_soft_delete_days=config.storage.container_soft_delete_days,
                private_endpoint_subnet_id=runners.private_endpoint_subnet_id,
                private_dns_zone_ids=zones.zone_ids,
                rbac_propagation_seconds=config.workspace.rbac_propagation_seconds,
                tags=self.tags,
            ),
            azapi_provider=self.azapi_provider(),
        )
