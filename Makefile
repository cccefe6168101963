# Two commands set up everything on a fresh machine:
#   make run   -> create .venv, install, run the main job on the bundled default data
#   make test  -> create .venv, install, run the whole test suite (but the peer tests)
# REaLTabFormer, the peer, lives in a side environment (it needs transformers < 5):
#   make peer        -> build it at $(PEER_VENV) (bench/peer/setup.sh)
#   make bench-peer  -> build it if needed, then run the tests that need it
#   make fixture-rtf -> retrain the REaLTabFormer test fixture (tests/fixtures/rtf-titanic) with REaLTabFormer
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PEER_VENV ?= .venv-peer
PEER_PYTHON := $(abspath $(PEER_VENV))/bin/python
FIXTURE_RTF := tests/fixtures/rtf-titanic

.PHONY: run test install clean peer bench-peer fixture-rtf

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test,ray]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/fuseprune run

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not peer"

peer:
	PEER_VENV="$(PEER_VENV)" bash bench/peer/setup.sh

bench-peer: $(STAMP) peer
	FUSEPRUNE_PEER_PYTHON="$(PEER_PYTHON)" $(BIN)/python -m pytest -q -m peer

fixture-rtf: $(STAMP) peer
	$(BIN)/python -c "from fuseprune.data import load_table; f = load_table('titanic').frame; \
	f['age'] = f['age'].round(4); f.to_csv('$(FIXTURE_RTF)/data.csv', index=False)"
	OMP_NUM_THREADS=1 "$(PEER_PYTHON)" bench/peer/train_fixture.py --data $(FIXTURE_RTF)/data.csv --out $(FIXTURE_RTF)

clean:
	rm -rf $(VENV) runs .pytest_cache
