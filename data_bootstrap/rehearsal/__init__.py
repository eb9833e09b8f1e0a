"""The local rehearsal: fakesnow, Azurite and a JSON asset catalog standing in for Snowflake and Azure.
Never imported by the production path."""
