# Two commands set up everything on a fresh machine:
#   make run   -> create .venv, install, run the main job on the bundled default data
#   make test  -> create .venv, install, then ruff, mypy and the whole test suite (but the peer tests)
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

# pip's and setuptools' chatter (notices about the machine's index settings, the editable-install
# advice) goes to $(INSTALL_LOG), shown in full only if a step fails.
INSTALL_LOG := $(VENV)/install.log
PIP_QUIET = > $(INSTALL_LOG) 2>&1 || { cat $(INSTALL_LOG); exit 1; }

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "installing pip, $(TORCH_SPEC) and fuseprune with its test and ray extras into $(VENV) (log: $(INSTALL_LOG))"
	@$(BIN)/python -m pip install --quiet --upgrade pip $(PIP_QUIET)
	@$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" $(PIP_QUIET)
	@$(BIN)/python -m pip install --quiet -e ".[test,ray]" $(PIP_QUIET)
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/fuseprune run

# ruff and mypy (settings in pyproject.toml) fail fast, each printing one line when all is well.
test: $(STAMP)
	@$(BIN)/ruff check fuseprune tests bench
	@$(BIN)/python -m mypy
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
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
