# Tokyo regional industry revitalization plans: PDF summaries to tables.
# `make all` and `make test` bootstrap the virtual environment themselves.

PYTHON ?= python3
# Another interpreter gets a virtual environment of its own: make test PYTHON=python3.13 uses .venv-python3.13.
VENV   ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
PY     := $(VENV)/bin/python
RAW    ?= raw
OUT    ?= out
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
FILE   ?=
URL    ?=
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help all extract segment normalize explain fetch test test-fast lint format check sample docs eval-tags eval-review bench \
  fixtures clean

help: ## list the targets
	@grep -E '^[a-z -]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-28s %s\n", $$1, $$2}'
	@echo "  variables: RAW=$(RAW) OUT=$(OUT) JOBS=$(JOBS)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

all: $(STAMP) ## install into .venv, then read every file in RAW into tables in OUT
	$(PY) -m pipeline all --raw "$(RAW)" --out "$(OUT)" -j $(JOBS)

extract segment normalize: $(STAMP) ## run one stage (and those before it) over RAW into OUT
	$(PY) -m pipeline $@ --raw "$(RAW)" --out "$(OUT)" -j $(JOBS)

ifneq ($(filter explain,$(MAKECMDGOALS)),)
ifeq ($(FILE),)
$(error usage: make explain FILE=path/to/summary.pdf)
endif
endif
explain: $(STAMP) ## draw how FILE's pages were read: each line boxed by its role, into OUT/explain
	$(PY) -m pipeline explain "$(FILE)" --out "$(OUT)/explain"

ifneq ($(filter fetch,$(MAKECMDGOALS)),)
ifeq ($(strip $(URL)),)
$(error usage: make fetch URL="https://… [https://…]" [RAW=folder]: press releases or summary PDFs)
endif
endif
# Each address single-quoted for the shell (a ' in one as '\''), so & ? ; in a query stay in the address.
fetch: $(STAMP) ## download the summaries of URL (press releases or PDFs, space-separated) into RAW
	$(PY) -m pipeline fetch $(foreach u,$(URL),'$(subst ','\'',$(u))') --raw "$(RAW)"

test: $(STAMP) ## run the test suite, every test
	$(PY) -m pytest -q

test-fast: $(STAMP) ## run the tests not marked slow (the unit tests and the sample's run): a few seconds
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP) ## check the code with ruff (pyproject.toml's [tool.ruff]), and that it is formatted
	$(PY) -m ruff check
	$(PY) -m ruff format --check

format: $(STAMP) ## format the code with ruff and apply its safe fixes (import order, newer syntax)
	$(PY) -m ruff format
	$(PY) -m ruff check --fix

# make bench BENCH_ARGS="--sizes 400,4000": add-one at 4,000 files too (about 15 more minutes on 2 cores);
# --no-long, --no-tests, --corpus DIR: see python -m bench.bench --help and docs/performance.md.
bench: $(STAMP) ## measure the pipeline against bare pdfplumber and pypdfium2, then OCR (BENCH_ARGS: more options)
	$(PY) -m bench.bench $(BENCH_ARGS)
	$(PY) -m bench.bench_ocr

check: $(STAMP) ## validate OUT/datapackage.json with frictionless
	$(PY) -m frictionless validate "$(OUT)/datapackage.json"

docs: $(STAMP) ## regenerate the generated parts of docs/ (data dictionary, vocabulary, layout parameters)
	$(PY) -m tools.docs

eval-tags: $(STAMP) ## tag the labelled projects of tests/data/labelled: precision and recall per code, every miss
	$(PY) -m tools.evaluate

eval-review: $(STAMP) ## read every fixture with each layout rule off: misread plans flagged for review, right ones flagged
	$(PY) -m tools.eval_review

sample: $(STAMP) ## regenerate the bundled sample PDF in raw/ from shared/reference
	$(PY) -m tests.fixtures.make_sample --out raw/r2-approval-summary.pdf

PRODUCER_FIXTURES := writer_paragraphs calc_grid impress_slides landscape_two_columns writer_caption_break handout

fixtures: $(STAMP) ## regenerate the producer fixtures tests/fixtures/*.pdf with LibreOffice (soffice, fonts-ipaexfont) and pypdf
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,fixtures]'
	for name in $(PRODUCER_FIXTURES); do $(PY) -m tests.fixtures.make_$$name || exit 1; done

clean: ## remove OUT and the virtual environment
	rm -rf "$(OUT)" $(VENV)
