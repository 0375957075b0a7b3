"""Tokyo regional industry revitalization plan summaries (PDF) to analysis-ready tables."""

# The release, stamped on every output. Caches are invalidated by fingerprints of the code (pipeline.core.fingerprint),
# not by this string.
PIPELINE_VERSION = "0.3.0"
