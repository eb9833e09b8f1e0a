"""The image build cluster: the platform's first compute, inside the workspace's managed network.

Declared with azapi (``Microsoft.MachineLearningServices/workspaces/computes``) rather than
``azurerm_machine_learning_compute_cluster``: azurerm checks client-side that
``node_public_ip_enabled = false`` comes with a ``subnet_resource_id`` ("`subnet_resource_id` must be
set if `node_public_ip_enabled` is set to `false`", and in later versions "... or the workspace is
not in a managed network", decided from the managed network's status at that moment;
internal/services/machinelearning/machine_learning_compute_cluster_resource.go). A managed-network
cluster has no subnet of ours (how-to-managed-network.md, "Limitations": compute can only be created
inside the managed virtual network), so that check either refuses it or depends on timing. The ARM
body has no such rule, and the preflight validates it against the type definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from constructs import Construct

from stacks.constructs.azapi import attribute, azapi_resource
from stacks.framework import ITerraformDependable, TerraformProvider

COMPUTE_API_TYPE = "Microsoft.MachineLearningServices/workspaces/computes@2025-06-01"


@dataclass(frozen=True, kw_only=True)
class ComputeClusterProps:
    name: str
    workspace_id: str
    location: str
    vm_size: str
    max_nodes: int
    idle_minutes_before_scale_down: int
    user_assigned_identity_id: str
    tags: Mapping[str, str]


class ImageBuildCluster(Construct):
    """CPU cluster: scales to zero, no public IP, no SSH, Entra ID only, the workspace identity."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: ComputeClusterProps,
        azapi_provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = azapi_resource(
            self,
            "cluster",
            provider=azapi_provider,
            type_=COMPUTE_API_TYPE,
            name=props.name,
            parent_id=props.workspace_id,
            location=props.location,
            user_assigned_identity_ids=(props.user_assigned_identity_id,),
            tags=props.tags,
            depends_on=depends_on,
            body={
                "properties": {
                    "computeType": "AmlCompute",
                    "description": "Builds environment images (the registry is private).",
                    "disableLocalAuth": True,
                    "properties": {
                        "osType": "Linux",
                        "vmSize": props.vm_size,
                        "vmPriority": "Dedicated",
                        "enableNodePublicIp": False,
                        "remoteLoginPortPublicAccess": "Disabled",
                        "scaleSettings": {
                            "minNodeCount": 0,
                            "maxNodeCount": props.max_nodes,
                            "nodeIdleTimeBeforeScaleDown": f"PT{props.idle_minutes_before_scale_down}M",
                        },
                    },
                }
            },
        )
        self.id = attribute(self.cluster, "id")
