"""Acquisition, before any stage: downloading summaries into RAW (fetch, with http for the network and page for
reading a press release), the file that says where each came from (sources: RAW/sources.csv) and the approval
rounds they belong to (rounds)."""
