# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test lint bench train eval clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: a local CPU wheel. An unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	mkdir -p out
	$(BIN)/voc analyze "The courier left my parcel in the rain and support never called back. I'm cancelling."
	$(BIN)/voc tag corpora/samples/feedback_sample.csv --text-col comment --id-col response_id \
		--date-col submitted_at -o out/feedback_tagged.csv
	$(BIN)/voc report out/feedback_tagged.csv -o out/report.html --score-col nps --date-col submitted_at --by-col channel
	@echo "Tagged export: out/feedback_tagged.csv   Report: out/report.html"

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install
	$(BIN)/python bench/throughput.py

train: install
	$(BIN)/voc train multitask --out runs/multitask
	$(BIN)/voc train calibrate runs/multitask --out models/voc-multitask

eval: install
	$(BIN)/voc eval multitask

clean:
	rm -rf out runs .pytest_cache .ruff_cache
