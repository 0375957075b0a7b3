"""Tokyo regional industry revitalization plan summaries (PDF) to analysis-ready tables."""

# Bump when a change alters interim records: cached results of another version are read again.
PIPELINE_VERSION = "0.3.0"
