"""Register the Snowflake connection, the raw datastore and a versioned raw data asset after deploy.

Pieces sit behind small interfaces so the local rehearsal can swap the cloud ends:
``snowflake_source`` (connection params -> Arrow batches), ``blob_sink`` (a ContainerClient),
``registry`` (an asset catalog) and ``verify`` (checks returning a result object).
"""
