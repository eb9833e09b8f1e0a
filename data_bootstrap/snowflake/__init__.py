"""The Snowflake end: the workspace connection (a reference to the key in Key Vault) and the connector
source (connection parameters in, Arrow batches out)."""
