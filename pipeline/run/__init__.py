"""A run over RAW into OUT: listing the inputs, holding OUT, the cache of interim records and what decides
when a cached record stands (fingerprint), the manifest, and the order of the stages (runner)."""
