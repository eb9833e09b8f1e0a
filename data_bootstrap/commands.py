"""plan / apply / verify over the three steps: connection, datastore, import."""

# pandas ships no type information (no stubs in the lock)

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from azure.ai.ml.entities import AzureBlobDatastore

from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.azure.datastore import datastore_differences, desired_datastore, get_datastore
from data_bootstrap.azure.errors import azure_call
from data_bootstrap.azure.private_endpoints import storage_account_id
from data_bootstrap.azure.registry import AzureMLAssetRegistry
from data_bootstrap.azure.runtime import Runtime
from data_bootstrap.engines import ImportJob, Prepared, StorageAccount, engine_for
from data_bootstrap.progress import ProgressPrinter
from data_bootstrap.publishing.assets import current
from data_bootstrap.publishing.layout import import_target
from data_bootstrap.publishing.publish import publish, sweep
from data_bootstrap.publishing.verify import verify_asset
from data_bootstrap.settings import Settings
from data_bootstrap.snowflake.connection import (
    AML_RBAC_FIX,
    ConnectionSpec,
    get_connection,
    params_from_spec,
    resolve_connection,
)
from data_bootstrap.snowflake.source import SnowflakeParams, snowflake_coordinates

Step = Literal["connection", "datastore", "import", "all"]
Action = Literal["create", "update", "unchanged", "import"]


@dataclass(frozen=True, kw_only=True)
class Change:
    resource: str
    action: Action
    details: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"{self.resource}: {self.action}"]
        lines += [f"    {detail}" for detail in self.details]
        return "\n".join(lines)


def connection_spec(settings: Settings) -> ConnectionSpec:
    s = settings.config.snowflake
    return ConnectionSpec(
        name=s.connection_name,
        coordinates=snowflake_coordinates(settings.config),
        key_vault_uri=settings.outputs.key_vault_uri,
        private_key_secret=s.private_key_secret,
        private_key_passphrase_secret=s.private_key_passphrase_secret,
    )


def datastore_for(settings: Settings) -> AzureBlobDatastore:
    return desired_datastore(
        name=settings.config.data_asset.datastore,
        account_name=settings.outputs.storage_account_name,
        container_name=settings.outputs.raw_container_name,
    )


def plan_connection(settings: Settings, runtime: Runtime) -> Change:
    spec = connection_spec(settings)
    resource = f"workspace connection {spec.name}"
    existing = get_connection(runtime.ml_client, spec.name)
    if existing is None:
        details = [f"type: custom, target: https://{spec.coordinates.host}"]
        details += [f"metadata.{k}: {v!r}" for k, v in spec.metadata().items()]
        return Change(resource=resource, action="create", details=details)
    changes = spec.differences(existing)
    return Change(resource=resource, action="update" if changes else "unchanged", details=changes)


def plan_datastore(settings: Settings, runtime: Runtime) -> Change:
    desired = datastore_for(settings)
    name = settings.config.data_asset.datastore
    resource = f"datastore {name}"
    existing = get_datastore(runtime.ml_client, name)
    if existing is None:
        details = [
            f"AzureBlob account {desired.account_name}, container {desired.container_name}",
            "identity-based: no account key, no SAS stored",
        ]
        return Change(resource=resource, action="create", details=details)
    changes = datastore_differences(existing, desired)
    return Change(resource=resource, action="update" if changes else "unchanged", details=changes)


def import_job(settings: Settings, runtime: Runtime, *, step: Step) -> ImportJob:
    spec = connection_spec(settings)

    @functools.cache
    def snowflake_params() -> SnowflakeParams:
        # --step all imports with the connection about to be registered; --step import with the registered one
        if step == "all":
            return params_from_spec(spec, secret_client=runtime.secret_client, extra=runtime.snowflake_extra)
        return resolve_connection(
            spec.name, ml_client=runtime.ml_client, secret_client=runtime.secret_client, extra=runtime.snowflake_extra
        )

    o, factory = settings.outputs, runtime.warehouse_factory
    account_id = storage_account_id(
        subscription_id=o.subscription_id, resource_group=o.resource_group_name, account=o.storage_account_name
    )
    return ImportJob(
        config=settings.config,
        target=import_target(settings.config),
        sink=BlobSink(container=runtime.container()),
        snowflake=snowflake_params,
        warehouse=None if factory is None else lambda name: factory(snowflake_params(), name),
        storage=StorageAccount(
            resource_id=account_id, tenant_id=o.tenant_id, arm=lambda: runtime.storage_arm(account_id)
        ),
    )


def plan_import(settings: Settings, runtime: Runtime, *, step: Step = "import") -> Change:
    job = import_job(settings, runtime, step=step)
    engine, target = engine_for(settings.config), job.target
    registry = AzureMLAssetRegistry(ml_client=runtime.ml_client)
    now = current(registry, target.asset_name)
    details = [
        f"engine: {engine.name} ([data_asset].engine)",
        *engine.plan_details(job),
        f"write Parquet + MLTable + manifest under {target.datastore}/{target.path_prefix}/<content-version>/<run>/",
        f"register {target.asset_name}:<content-version> only if that version is new, then make it current "
        f"(current: {now.version if now else 'none'})",
    ]
    stale = [state for state in sweep(target, sink=job.sink, registry=registry) if state.stale]
    details += [
        f"remove stale folder {state.folder}/ ({len(state.blobs)} blobs, not registered, no live run)"
        for state in stale
    ]
    return Change(resource=f"data asset {target.asset_name}", action="import", details=details)


def _steps(step: Step) -> list[Step]:
    return ["connection", "datastore", "import"] if step == "all" else [step]


def _plan_by_step(settings: Settings, runtime: Runtime, step: Step) -> dict[Step, Change]:
    planners: dict[Step, Callable[[Settings, Runtime], Change]] = {
        "connection": plan_connection,
        "datastore": plan_datastore,
        "import": functools.partial(plan_import, step=step),
    }
    return {s: planners[s](settings, runtime) for s in _steps(step) if s in planners}


def plan(settings: Settings, runtime: Runtime, *, step: Step) -> list[Change]:
    return list(_plan_by_step(settings, runtime, step).values())


_DONE = {"create": "created", "update": "updated", "unchanged": "unchanged"}


def apply(settings: Settings, runtime: Runtime, *, step: Step, out: TextIO, progress: ProgressPrinter) -> None:
    """Registers what differs. What can fail before a write (Key Vault, Snowflake, storage access) runs
    first, so a failed run registers nothing."""
    changes = _plan_by_step(settings, runtime, step)
    with tempfile.TemporaryDirectory(prefix="data-bootstrap-") as scratch:
        job, prepared = import_job(settings, runtime, step=step), None
        try:
            if "import" in changes:
                engine = engine_for(settings.config)
                job.sink.list(f"{job.target.path_prefix}/")  # storage access check before the long read
                job.snowflake()  # the key from Key Vault (or the registered connection) before the engine starts
                engine.preflight(job)
                prepared = engine.prepare(job, scratch=Path(scratch), progress=progress)
            for name, change in changes.items():
                if change.action in ("create", "update"):
                    _register(name, settings, runtime)
                if change.action in _DONE:
                    print(f"{change.resource}: {_DONE[change.action]}", file=out)
            if prepared is not None:
                _publish(prepared, job, runtime=runtime, out=out, progress=progress)
        finally:
            if prepared is not None:
                prepared.close()


def _publish(prepared: Prepared, job: ImportJob, *, runtime: Runtime, out: TextIO, progress: ProgressPrinter) -> None:
    registry = AzureMLAssetRegistry(ml_client=runtime.ml_client)
    result = publish(prepared, target=job.target, sink=job.sink, registry=registry, progress=progress)
    verdict = "registered" if result.created else "unchanged (version exists)"
    size = "size unknown (no manifest)" if result.nbytes is None else f"{result.nbytes:,} bytes of Parquet"
    print(
        f"data asset {result.asset.name}:{result.asset.version}: {verdict}, current; "
        f"{result.rows:,} rows, {size} in {result.asset.folder}/",
        file=out,
    )


def _register(step: Step, settings: Settings, runtime: Runtime) -> None:
    if step == "connection":
        spec = connection_spec(settings)
        with azure_call(f"registering workspace connection {spec.name!r}", forbidden_fix=AML_RBAC_FIX):
            runtime.ml_client.connections.create_or_update(spec.to_entity())
    elif step == "datastore":
        desired = datastore_for(settings)
        with azure_call(f"registering datastore {desired.name!r}", forbidden_fix=AML_RBAC_FIX):
            runtime.ml_client.datastores.create_or_update(desired)


def verify(
    settings: Settings, runtime: Runtime, *, profile_dir: Path, out: TextIO, progress: ProgressPrinter | None = None
) -> bool:
    registry = AzureMLAssetRegistry(ml_client=runtime.ml_client)
    name = settings.config.data_asset.name
    return verify_asset(
        registry,
        name=name,
        sink=BlobSink(container=runtime.container()),
        load=lambda ref: runtime.asset_loader(ref, settings.outputs),
        contract=settings.config.data_contract,
        profile_dir=profile_dir,
        out=out,
        progress=progress or ProgressPrinter(),
    )
