# Choir chain: every entry point a developer or CI needs. `make setup` is idempotent and runs only what is
# missing or out of date; `make run` and `make test` call it first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SOLC_DIR := $(CURDIR)/.solcx
SOLC := $(SOLC_DIR)/solc-v0.8.37
SITE := $(VENV)/lib/python3.11/site-packages
export SOLCX_BINARY_PATH := $(SOLC_DIR)
# The native forge of this platform from npm (deferred: node_modules exists only after `make setup`). Never the npm
# wrapper node_modules/.bin/forge: it exits 0 even when a test fails.
FORGE = $(firstword $(wildcard node_modules/@foundry-rs/forge-*/bin/forge))
# The dashboard's vendored library (see its rule below).
NOBLE := api/static/vendor/noble-hashes
NOBLE_FILES := sha3.js _u64.js utils.js LICENSE package.json
# Slither and Halmos live in their own virtualenv (tools/analysis/requirements.in, exact versions in its .lock); both
# call `forge` by name, so the native binary goes first on their PATH. Each builds into its own folder under .forge/
# (its own build flags, and no clash with a `forge test` running beside it).
ANALYSIS_VENV := .venv-analysis
ANALYSIS := $(ANALYSIS_VENV)/bin
FORGE_FIRST = PATH="$(CURDIR)/$(dir $(FORGE)):$$PATH"
SLITHER_OUT := .forge/slither
PROVE_OUT := .forge/prove

.PHONY: help setup postgres chromium wrk run devnet test test-contracts test-ethtester test-python test-services test-gateway test-forge fuzz verify-emission compile bench bench-gas lint lock clean slither prove prove-slow lock-analysis

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

setup: $(VENV)/.stamp node_modules/.stamp $(SOLC) .build/.deps.stamp $(NOBLE)/.stamp postgres chromium wrk ## Install everything that is missing (idempotent)

chromium: ## Debian's Chromium for the dashboard's browser test (only if missing)
	@tools/chromium/ensure.sh

wrk: ## Debian's wrk, the gateway benchmark's load generator (only if missing)
	@tools/wrk/ensure.sh

postgres: ## PostgreSQL server binaries for the indexer's PostgreSQL test (Debian package, only if missing)
	@tools/postgres/ensure.sh

$(VENV)/.stamp: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@# Every Python of this venv (ape, pytest, choir) finds our solc adapter without any shell setup.
	@echo 'import os; os.environ.setdefault("SOLCX_BINARY_PATH", "$(SOLC_DIR)")' > $(SITE)/choir_solc.pth
	@touch $@

node_modules/.stamp: package.json package-lock.json
	@# `npm ci` installs exactly the committed lockfile (every platform's optional anvil package is listed; npm
	@# installs this machine's) and refuses one that has drifted from package.json: set-up never rewrites it.
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The dashboard's keccak256: @noble/hashes (pinned in package.json, installed by `npm ci` from the lockfile) copied
# into the served files with its licence and package.json (its version); keccak_256 needs these three ES modules.
$(NOBLE)/.stamp: node_modules/.stamp
	rm -rf $(NOBLE) && mkdir -p $(NOBLE)
	cp $(addprefix node_modules/@noble/hashes/,$(NOBLE_FILES)) $(NOBLE)/
	@touch $@

$(SOLC): tools/solc/solc.js tools/solc/install.sh node_modules/.stamp
	tools/solc/install.sh $(SOLC_DIR)

.build/.deps.stamp: ape-config.yaml node_modules/.stamp $(VENV)/.stamp
	$(BIN)/ape pm install
	@mkdir -p .build && touch $@

compile: setup .build/.compiled.stamp ## Compile the contracts with Ape (solcjs 0.8.37 through our adapter)

# Always a full compile when any source changed: Ape's incremental compile leaves stale bytecode in a contract that
# deploys another (ChoirHub embeds ThreadDAO's creation code) when only the deployed one changed.
CONTRACT_SOURCES := $(shell find contracts -name '*.sol' -not -path 'contracts/.cache/*')
.build/.compiled.stamp: $(CONTRACT_SOURCES) ape-config.yaml .build/.deps.stamp
	$(BIN)/ape compile --force
	@# Ape copies the dependencies' sources (OpenZeppelin, Solady: ~600 files) into contracts/.cache to compile, but
	@# lists a project's sources with a 500-file cap: with the copies present, contracts in sub-folders drop out of
	@# `project` in every later Ape process. The compiled output in .build/ is all that is needed afterwards.
	rm -rf contracts/.cache
	@touch $@

run: compile ## Devnet, contracts, demo community, indexer, pricer, gateway (ARGS="--port 9000"); Ctrl-C stops all
	$(BIN)/choir up $(ARGS)

devnet: compile ## The chain only: a devnet with the contracts deployed, until Ctrl-C
	$(BIN)/choir devnet

# The suites are independent (each starts its own anvil, or none on eth-tester and forge) and none keeps both cores
# busy, so they run side by side; each suite's output is printed whole when it ends. One parallel make builds the
# set-up too: npm ci beside pip, and the Foundry suite (which needs only node_modules and solc) starts while pip and
# Ape's compile, each on one core, are still running. The Halmos proofs are not tests: `make prove` runs them, and
# CI runs it after `make lint` (.ci/run), which keeps `make test` within its 15 minutes on two cores.
test: ## Run every test: Python and gateway, contracts on anvil and eth-tester, the Foundry suite
	@$(MAKE) --no-print-directory --output-sync=target -j6 test-python test-services test-gateway test-contracts \
	  test-ethtester test-forge

test-python: compile ## Tests of the Python package but the services: pricing, chain layer, simulation, CLI (on anvil)
	$(BIN)/ape test tests/choir_chain --ignore-glob='*/test_pricer*' --ignore-glob='*/test_indexer*'

test-services: compile ## The indexer and the pricer as processes on a devnet: rows, sync, reorgs, faults, kills
	$(BIN)/ape test tests/choir_chain/test_pricer*.py tests/choir_chain/test_indexer*.py

test-gateway: compile ## Tests of the gateway and the dashboard (on anvil)
	$(BIN)/ape test tests/gateway

test-contracts: compile ## Contract tests on anvil
	$(BIN)/ape test tests/contracts

test-ethtester: compile ## Contract tests on Ape's in-process eth-tester chain
	$(BIN)/ape test tests/contracts --network ethereum:local:test

test-forge: node_modules/.stamp $(SOLC) ## Foundry suite: unit, fuzz and invariant tests (short CI configuration), gas snapshot check
	$(FORGE) test --no-match-path 'forge/test/gas/*'
	@# Gas per operation (forge/test/gas) against the committed .gas-snapshot: any change fails; after an intended
	@# one, `$(FORGE) snapshot --match-path 'forge/test/gas/*'` rewrites the file (commit it with the change).
	$(FORGE) snapshot --check --match-path 'forge/test/gas/*'

fuzz: setup ## Long fuzz and invariant campaign (FOUNDRY_PROFILE=long in foundry.toml), figures on stdout
	@rm -f .forge/invariant-work.log
	FOUNDRY_PROFILE=long CHOIR_INVARIANT_LOG=1 $(FORGE) test --match-path 'forge/test/{unit,invariant}/*'
	@echo "Invariant campaign, calls that did real work (summed over the runs, from .forge/invariant-work.log):"
	@awk '{n[$$1] += $$2} END {for (k in n) printf "  %-30s %d\n", k, n[k]}' .forge/invariant-work.log | sort

# The emission curve's interior, where Halmos gives no verdict (docs/static-analysis.md): F(t - 1) <= F(t) checked
# at every one of its 126,143,999 seconds by the contract's own code, in 16 parts forge runs side by side. Without
# CHOIR_EMISSION_SWEEP=full (`make test-forge`) the same test checks sample windows only.
verify-emission: node_modules/.stamp $(SOLC) ## Every second of the emission curve's interior checked monotone (about 11 min)
	CHOIR_EMISSION_SWEEP=full $(FORGE) test --match-path 'forge/test/sweep/*' --gas-limit 18446744073709551615

bench: compile ## Every benchmark (pricing, event decoding, indexer, pricer latency, gas, gateway, novelty, export), JSON lines
	$(BIN)/python -m choir_chain.bench

bench-gas: compile ## Gas per operation on a fresh anvil, beside OpenZeppelin reference operations (JSON lines)
	$(BIN)/python -m choir_chain.bench.gas

lint: setup ## ruff, mypy, ESLint, then Slither (fails on an untriaged High or Medium finding)
	$(BIN)/ruff check choir_chain api tests scripts examples tools/analysis
	$(BIN)/ruff format --check choir_chain api tests scripts examples tools/analysis
	$(BIN)/mypy
	$(BIN)/mypy --strict tools/analysis
	node_modules/.bin/eslint .
	@$(MAKE) --no-print-directory slither

$(ANALYSIS_VENV)/.stamp: tools/analysis/requirements.in tools/analysis/requirements.lock
	@test -x $(ANALYSIS)/python || $(PYTHON) -m venv $(ANALYSIS_VENV)
	$(ANALYSIS)/pip install --quiet --disable-pip-version-check -c tools/analysis/requirements.lock -r tools/analysis/requirements.in
	@touch $@

# Slither in Foundry mode on our deployed contracts only: dependencies, the Foundry tests (forge/), the test fixture
# contracts/test (a deliberately rogue distributor) and contracts/reference (stock OpenZeppelin, for gas anchors) are
# filtered out. tools/analysis/slither_gate.py fails on any High or Medium finding not in slither-triage.json.
slither: setup $(ANALYSIS_VENV)/.stamp ## Slither on our contracts, gated by tools/analysis/slither-triage.json
	@# A fresh build: crytic-compile reads every build-info file in the folder, and forge keeps stale ones.
	rm -rf $(SLITHER_OUT)/out && mkdir -p $(SLITHER_OUT)
	FOUNDRY_OUT=$(SLITHER_OUT)/out FOUNDRY_CACHE_PATH=$(SLITHER_OUT)/cache $(FORGE) build --build-info --skip test \
	  --skip script > $(SLITHER_OUT)/build.log 2>&1 || { cat $(SLITHER_OUT)/build.log; exit 1; }
	@rm -f $(SLITHER_OUT)/findings.json
	$(FORGE_FIRST) $(ANALYSIS)/slither . --foundry-ignore-compile --foundry-out-directory $(SLITHER_OUT)/out \
	  --filter-paths 'node_modules|forge/|contracts/test/|contracts/reference/' --exclude-dependencies \
	  --fail-none --json $(SLITHER_OUT)/findings.json > $(SLITHER_OUT)/slither.log 2>&1 \
	  || { cat $(SLITHER_OUT)/slither.log; exit 1; }
	$(BIN)/python tools/analysis/slither_gate.py $(SLITHER_OUT)/findings.json tools/analysis/slither-triage.json

# Halmos proves the check_ functions of forge/test/prove for all inputs (forge test ignores them); a counterexample
# or a solver timeout fails. It runs its own `forge build` of contracts/ and forge/test/prove only, into an emptied
# folder (Halmos runs every artifact it finds there, and forge keeps those of deleted test files). Options come from
# tools/analysis/halmos.toml (z3, a 900 s assertion timeout), below a proof contract's or function's own
# `@custom:halmos` annotation: options on Halmos's command line would override every annotation. z3, not Halmos's
# default yices: yices times out on the settlement split, which z3 decides in a second (EquityMathProof picks
# yices). Alone on 2026-12-07: 2 min 33 s (build 21 s, check_cap_bounded 31 s, the NAV floor 92 s). Beside the test
# suites a query took up to 20 times longer (check_cap_bounded 110 s, the NAV floor 417 s, in a fresh-clone CI run),
# hence the generous timeout, and why CI runs `make prove` on its own after `make lint` (.ci/run). `make prove-slow`
# runs the prove_ functions, proofs too slow for a developer's every run: EquityMath's 1/2 cap, 5 min on 2026-12-07
# with the cores mostly free, 21 min with them shared; CI runs it after `make prove`.
prove: setup $(ANALYSIS_VENV)/.stamp ## Halmos proofs of the pure maths (forge/test/prove), for all inputs
	rm -rf $(PROVE_OUT)/out
	FOUNDRY_OUT=$(PROVE_OUT)/out FOUNDRY_CACHE_PATH=$(PROVE_OUT)/cache FOUNDRY_TEST=forge/test/prove $(FORGE_FIRST) \
	  $(ANALYSIS)/halmos --forge-build-out $(PROVE_OUT)/out --config tools/analysis/halmos.toml

prove-slow: setup $(ANALYSIS_VENV)/.stamp ## The Halmos proofs too slow for `make prove` (prove_ functions, 5-20 min)
	rm -rf $(PROVE_OUT)/out
	FOUNDRY_OUT=$(PROVE_OUT)/out FOUNDRY_CACHE_PATH=$(PROVE_OUT)/cache FOUNDRY_TEST=forge/test/prove $(FORGE_FIRST) \
	  $(ANALYSIS)/halmos --forge-build-out $(PROVE_OUT)/out --config tools/analysis/halmos.toml --function prove_


lock-analysis: ## Regenerate tools/analysis/requirements.lock from a clean resolve of requirements.in
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r tools/analysis/requirements.in
	{ echo '# Exact versions of every package in .venv-analysis (pip constraints file), from pip freeze of a clean venv'; \
	  echo '# with tools/analysis/requirements.in installed. Regenerate with `make lock-analysis`.'; \
	  .lock-venv/bin/pip freeze; } > tools/analysis/requirements.lock
	rm -rf .lock-venv

lock: ## Regenerate requirements.lock from a clean resolve of pyproject.toml
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo '# Exact versions of every Python package in the project virtualenv (pip constraints file).'; \
	  echo '# Regenerate with `make lock` after changing pyproject.toml.'; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^choir-chain'; } > requirements.lock
	rm -rf .lock-venv

clean: ## Remove build output and run folders (keeps the venv and node_modules)
	rm -rf .build .run .forge
