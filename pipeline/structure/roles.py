"""The roles segment gives the lines of a page (Segmentation.roles)."""

from __future__ import annotations

# The role segment gives each line of a page (Segmentation.roles), which `python -m pipeline explain` draws:
# a plan's header, summary, pillar heading or project; a photo's caption; page furniture; the closing footnote;
# or unassigned, a line no plan holds (before the first plan header).
HEADER, SUMMARY, CAPTION, PILLAR, PROJECT, FURNITURE, FOOTNOTE, UNASSIGNED = ROLES = (
    "header",
    "summary",
    "caption",
    "pillar",
    "project",
    "furniture",
    "footnote",
    "unassigned",
)
