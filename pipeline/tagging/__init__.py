"""The normalize stage's rooms for tags: the maintainers' vocabulary files and the SudachiPy tagger that
matches them. Every module of this package is in the normalize stage's fingerprint."""
