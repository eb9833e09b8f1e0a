"""Register the Snowflake connection, the raw datastore and a versioned raw data asset after deploy.

Grouped by role (docs/data_bootstrap.md, "How it works"): ``cli``/``commands`` (plan, apply, verify;
the only place that picks the engine), ``engines`` (how rows get from Snowflake into a version
folder: ``stream``; the ``ImportEngine`` interface), ``publishing`` (shared by every engine: layout,
content version, data contract, the publish flow, verification), ``snowflake`` (connection, source),
``azure`` (Azure ML, Key Vault and Blob Storage ends) and ``rehearsal`` (the local stand-ins, apart
from production code).
"""
