"""Local rehearsal of the whole data path: ``python -m data_bootstrap.rehearsal.demo [--rows N] [--engine E]``
(``make demo [ENGINE=stream|unload]``).

fakesnow stands in for Snowflake (seeded with the deterministic synthetic GloboRealty table), Azurite
for the raw storage account, and ``LocalAssetCatalog`` for Azure ML's data asset registry. The
import and verify code is the one ``data_bootstrap apply``/``verify`` run. State (Azurite's data
and the catalog) lives in ``--state-dir`` (default ``.demo/``), so a second run with unchanged data
finds the version and reuses it. The emulators are stopped on success, failure, Ctrl-C and SIGTERM.
``--engine`` writes a copy of the config with that ``[data_asset].engine`` into the state folder and
runs from it, so the engine is chosen exactly as ``apply`` chooses it (``engines.engine_for``).

The last line on stdout is ``asset <name>:<version> rows=<n> created`` (or ``reused``).
Exit codes: 0 ok, 1 verify found problems, 2 something failed (one line on stderr), 130 interrupted.
"""

# pyarrow ships no type information (no stubs in the lock)

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import FrameType

import pyarrow as pa
import snowflake.connector
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContainerClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from data_bootstrap.azure.asset_loading import load_asset_from_container
from data_bootstrap.azure.blob_sink import BlobSink
from data_bootstrap.engines import ENGINES, ImportEngine, ImportJob, engine_for
from data_bootstrap.errors import BootstrapError, exit_code
from data_bootstrap.progress import ProgressPrinter, Reporter
from data_bootstrap.publishing.layout import import_target
from data_bootstrap.publishing.publish import ImportResult, import_with
from data_bootstrap.publishing.verify import verify_asset
from data_bootstrap.rehearsal.emulators import FakesnowServer, local_emulators
from data_bootstrap.rehearsal.local_catalog import LocalAssetCatalog
from data_bootstrap.rehearsal.synthetic import house_price_batches, seed_fakesnow
from data_bootstrap.rehearsal.unload_standin import (
    STANDIN_LABEL,
    standin_engine,
    standin_storage,
    standin_warehouses,
)
from data_bootstrap.settings import REPO_ROOT, load_config
from data_bootstrap.snowflake.source import SnowflakeParams, snowflake_coordinates
from stacks.config import EnvironmentConfig
from stacks.config import ImportEngine as EngineName

CONTAINER = "rawdata"
SEED_TABLE = "RAW"  # in the config's database and schema: what the default snowflake.query reads


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C, so every context manager stops its emulator


def ephemeral_key_der() -> bytes:
    """The emulator accepts any key; the import still signs in with key-pair (JWT) auth, as on Azure."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def raw_container(connection_string: str, name: str = CONTAINER) -> ContainerClient:
    container = BlobServiceClient.from_connection_string(connection_string).get_container_client(name)
    with contextlib.suppress(ResourceExistsError):  # kept from the previous run in the state folder
        container.create_container()
    return container


def seed_table_name(config: EnvironmentConfig) -> str:
    return f"{config.snowflake.database}.{config.snowflake.schema}.{SEED_TABLE}"


def seed_table(
    snow: FakesnowServer, *, table: str, rows: int, seed: int, scratch: Path, progress: ProgressPrinter
) -> None:
    """Loads ``rows`` synthetic houses into ``table``, generated and written in batches (bounded memory)."""

    def counted(tables: Iterable[pa.Table], report: Reporter) -> Iterator[pa.Table]:
        for part in tables:
            report.advance(rows=part.num_rows, nbytes=part.nbytes)
            yield part

    scratch.mkdir(parents=True, exist_ok=True)
    with (
        progress.phase(f"seeding fakesnow {table}") as report,
        snowflake.connector.connect(
            user="seed",
            password="seed",  # noqa: S106 (the emulator ignores it)
            **snow.connect_args(),
        ) as connection,
        tempfile.TemporaryDirectory(prefix="seed-", dir=scratch) as parquet_dir,
    ):
        batches = counted(house_price_batches(rows, seed=seed), report)
        seed_fakesnow(connection.cursor(), batches, fq_name=table, scratch=Path(parquet_dir))


def with_engine(text: str, engine: EngineName) -> str:
    """The config text with ``[data_asset].engine`` set (replaced, or added to the section)."""
    setting = f'engine = "{engine}"\n'
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "[data_asset]"), None)
    if start is None:
        return text.rstrip("\n") + f"\n\n[data_asset]\n{setting}"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    found = next((i for i in range(start + 1, end) if re.match(r"\s*engine\s*=", lines[i])), None)
    if found is None:
        lines.insert(start + 1, setting)
    else:
        lines[found] = setting
    return "".join(lines)


def demo_config(source: Path, *, env: str, engine: EngineName | None, state: Path) -> tuple[EnvironmentConfig, Path]:
    """The config the rehearsal runs with. With ``engine``: a copy of ``source`` with ``[data_asset].engine``
    set, written to the state folder and read back the way ``apply`` reads its config."""
    config = load_config(source, env=env)
    if engine is None or engine == config.data_asset.engine:
        return config, source
    state.mkdir(parents=True, exist_ok=True)
    written = state / f"config-{env}-{engine}.toml"
    written.write_text(with_engine(source.read_text(encoding="utf-8"), engine), encoding="utf-8")
    config = load_config(written, env=env)
    if config.data_asset.engine != engine:
        raise BootstrapError(
            f"{written}: [data_asset].engine is {config.data_asset.engine!r} after setting it to {engine!r}",
            f"set [data_asset].engine = {engine!r} in {source} and run without --engine",
        )
    return config, written


def local_job(config: EnvironmentConfig, *, snow: FakesnowServer, sink: BlobSink, scratch: Path) -> ImportJob:
    """The import job against the emulators (demo, benchmark, tests): what runs in the warehouse goes to
    the stand-in through ``ImportJob.warehouse``; the engine comes from ``rehearsal_engine``."""
    params = SnowflakeParams(
        coordinates=snowflake_coordinates(config), private_key_der=ephemeral_key_der(), extra=snow.connect_args()
    )
    storage = standin_storage(sink)
    warehouses = standin_warehouses(snow.connect_args(), config=config, sink=sink, storage=storage, scratch=scratch)
    return ImportJob(
        config=config,
        target=import_target(config),
        sink=sink,
        snowflake=lambda: params,
        storage=storage,
        warehouse=warehouses,
    )


def rehearse(args: argparse.Namespace, *, progress: ProgressPrinter) -> tuple[ImportResult, bool]:
    state: Path = args.state_dir
    source = args.config or REPO_ROOT / "config" / f"{args.env}.toml"
    config, config_path = demo_config(source, env=args.env, engine=args.engine, state=state)
    azurite_dir, catalog = state / "azurite", LocalAssetCatalog(path=state / "catalog.json")
    if not azurite_dir.exists():  # the catalog must not point at blobs that are gone
        catalog.path.unlink(missing_ok=True)
    log = progress.console
    log.print(
        f"engine {config.data_asset.engine} ([data_asset].engine in {config_path})",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    with local_emulators(azurite_location=azurite_dir) as (snow, blob):
        log.print(f"fakesnow on port {snow.port}, Azurite on port {blob.port}", highlight=False)
        seed_table(
            snow, table=seed_table_name(config), rows=args.rows, seed=args.seed, scratch=state, progress=progress
        )
        container = raw_container(blob.connection_string)
        sink = BlobSink(container=container)
        engine, job = (
            rehearsal_engine(config, progress=progress),
            local_job(config, snow=snow, sink=sink, scratch=state),
        )
        result = import_with(engine, job, registry=catalog, progress=progress, workdir=state)
        target = job.target
        with tempfile.TemporaryDirectory(prefix="demo-download-", dir=state) as downloads:
            ok = verify_asset(
                catalog,
                name=target.asset_name,
                sink=sink,
                contract=config.data_contract,
                load=lambda ref: load_asset_from_container(ref, container, Path(downloads)),
                profile_dir=args.profile_dir,
                out=sys.stdout,
                progress=progress,
            )
    return result, ok


def rehearsal_engine(config: EnvironmentConfig, *, progress: ProgressPrinter) -> ImportEngine:
    """``engine_for``, except that the unload engine's private endpoint is the stand-in's. What runs in the
    warehouse (the unload, the check query, the stream engine's fingerprint) goes to the stand-in through
    ``ImportJob.warehouse`` (fakesnow cannot COPY INTO an Azure stage nor run HASH_AGG)."""
    if config.data_asset.engine == "unload":
        progress.console.print(STANDIN_LABEL, highlight=False, markup=False, soft_wrap=True)
        return standin_engine()
    return engine_for(config)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m data_bootstrap.rehearsal.demo", description=__doc__.splitlines()[0])
    top.add_argument("--rows", type=int, default=100_000, help="synthetic rows to seed (default 100000)")
    top.add_argument("--seed", type=int, default=42, help="random seed of the synthetic table (default 42)")
    top.add_argument("--env", default="dev", help="config whose [snowflake] and [data_asset] to use (default dev)")
    top.add_argument("--config", type=Path, help="environment config (default: config/<env>.toml)")
    top.add_argument(
        "--engine",
        choices=ENGINES,
        help="import engine: writes a copy of the config with this [data_asset].engine to --state-dir "
        "(default: the config's own)",
    )
    top.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".demo", help="emulator state and catalog")
    top.add_argument("--profile-dir", type=Path, default=Path("profile"), help="data profile folder (default profile/)")
    top.add_argument("--debug", action="store_true", help="show tracebacks")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.rows < 1:
        parser().error("--rows must be at least 1")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    progress = ProgressPrinter()

    def body() -> int:
        result, ok = rehearse(args, progress=progress)
        if not ok:
            return 1
        verdict = "created" if result.created else "reused"
        print(f"asset {result.asset.name}:{result.asset.version} rows={result.rows} {verdict}")
        return 0

    return exit_code(body, debug=args.debug, interrupted="emulators stopped")


if __name__ == "__main__":
    sys.exit(main())
