"""The S3 archive: one JSON object per finished request, keyed by tenant and date."""
