"""The Azure ends: Azure ML (runtime, asset registry, datastore), Key Vault, Blob Storage and their errors."""
