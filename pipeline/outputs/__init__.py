"""What the tables become on disk, after normalize: Parquet and CSV (tables), the Frictionless descriptor
(datapackage), and the views for people, report.html (report, templates/) and tables.xlsx (workbook).
Each is made from the tables and the schema alone; every module is in the normalize stage's fingerprint."""
