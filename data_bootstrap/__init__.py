"""Register the Snowflake connection, the raw datastore and a versioned raw data asset after deploy.

Pieces by role, behind small interfaces so the local rehearsal can swap the cloud ends:
``snowflake_source`` (connection params -> Arrow batches), ``content_version`` (the exact,
order-independent version), ``contract`` (the data contract on Arrow data), ``layout`` (folders and
manifest), ``blob_sink`` (a ContainerClient), ``assets``/``registry``/``local_catalog`` (an asset
registry and the current version), ``importer`` (spill, publish, sweep) and ``verify``/``data_path``
(checks returning a result object).
"""
