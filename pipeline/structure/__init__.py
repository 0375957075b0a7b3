"""The segment stage's rooms: what pipeline.segment, the stage's face, reads a document's structure with.

- furniture: page furniture (page numbers, running headers and footers, the document title line);
- captions: the document's measures, and the photo captions and the plans they belong to;
- headings: pillar headings, and lone pillar numbers joined to their titles;
- projects: a pillar's lines split into projects, name and detail;
- plans: plan headers, the line stream cut into plans (Draft), the paragraph gap and the closing footnote;
- body: a plan's body read into summary, pillars and projects;
- roles: the role each line of a page is given;
- rejection: the plans rejected as unreadable, and why.

Every module of this package is in the segment stage's fingerprint (pipeline.core.fingerprint follows the
face's imports). Nothing is imported here: import each name from its module.
"""
