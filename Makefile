# The ProBonus Go SDK. `make test` is what CI runs.
SHELL := /bin/bash
GO ?= go
FUZZTIME ?= 30s
BENCHTIME ?= 0.3s
BENCHCOUNT ?= 8
BENCHCPU ?= 1
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Nested modules (each with its own go.mod, replacing the root with ../): tested and linted like the root.
MODULES := $(patsubst %/go.mod,%,$(wildcard */go.mod))

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

.PHONY: test
test: ## go vet, then every test with the race detector, root and nested modules (what CI runs)
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	@set -e; for m in $(MODULES); do echo "== module $$m"; (cd $$m && $(GO) vet ./... && $(GO) test -race -count=1 ./...); done

.PHONY: browser-test
browser-test: ## /docs and /redoc in headless chromium with no network: every operation listed (apt-get install chromium; CI runs it)
	$(GO) vet -tags browser ./probonustest
	$(GO) test -race -count=1 -tags browser -run '^TestDocsPagesRenderOffline$$' ./probonustest

.PHONY: stress
stress: ## the tests three times over, shuffled, 8 in parallel, with the race detector (what flushes out a racy test)
	$(GO) test -race -count=3 -parallel 8 -shuffle on ./...
	@set -e; for m in $(MODULES); do echo "== module $$m"; (cd $$m && $(GO) test -race -count=3 -parallel 8 -shuffle on ./...); done

.PHONY: cover
cover: ## coverage of every package, then the root package's by function (cover.out)
	$(GO) test -count=1 -cover ./...
	$(GO) test -count=1 -coverprofile=cover.out .
	$(GO) tool cover -func=cover.out | tail -1

.PHONY: lint
lint: ## staticcheck and gofmt
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt would change the files above"; exit 1; }
	$(GO) run $(STATICCHECK) ./...
	@set -e; for m in $(MODULES); do echo "== module $$m"; (cd $$m && $(GO) run $(STATICCHECK) ./...); done

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# The benchmarks with an SDK half and a raw net/http half (and BenchmarkObserver), and the SDK/raw
# ns/op ratios they must stay under (issue 11); every row must also allocate no more than raw.
BENCH ?= ^Benchmark(FindByPhone|FindByPhoneDeadline|Parallel32|LastTransactions1000|InsertByTemplate|Refill|Observer)$$
BENCHTARGETS ?= FindByPhone=1.03,Parallel32=1.05,LastTransactions1000=0.85

.PHONY: bench
bench: ## the SDK beside a raw net/http call: BENCHCOUNT rounds (processes, halves alternating first), medians
	$(GO) test -c -o bench.test .
	@set -eo pipefail; for i in $$(seq $(BENCHCOUNT)); do \
	  ./bench.test -test.run '^$$' -test.bench '$(BENCH)' -test.benchmem -test.benchtime $(BENCHTIME) \
	    -test.cpu $(BENCHCPU) $$( [ $$((i % 2)) = 0 ] && echo -bench.rawfirst ); \
	done | tee bench.out
	$(GO) run ./internal/cmd/benchratio -targets '$(BENCHTARGETS)' < bench.out

.PHONY: bench-instr
bench-instr: ## instructions per call, SDK beside raw, by valgrind's callgrind (apt-get installs it; BENCHINSTRFLAGS=-reps 3)
	@command -v valgrind >/dev/null || { echo "installing valgrind"; SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y valgrind || { $$SUDO apt-get update && $$SUDO apt-get install -y valgrind; }; }
	$(GO) test -c -o bench.test .
	$(GO) run ./internal/cmd/benchinstr -test ./bench.test $(BENCHINSTRFLAGS)

.PHONY: record
record: ## record a guest's responses from PROBONUS_BASE_URL as scrubbed fixtures (PHONE=..., read-only)
	@test -n "$(PHONE)" || { echo "usage: make record PHONE=79991234567 (with PROBONUS_BASE_URL and PROBONUS_API_KEY set)"; exit 2; }
	$(GO) run ./internal/cmd/record -phone "$(PHONE)" -out testdata/recorded

.PHONY: live
live: ## compare a real server's responses with the model (PROBONUS_BASE_URL, PROBONUS_PHONE, credentials; read-only)
	PROBONUS_LIVE=1 $(GO) test -count=1 -v -run Live ./internal/contract

# The release that `make release-check` checks. Every module (the root and each */go.mod) is released
# at it, and each nested module's go.mod requires the root at it (beside its replace). gorelease comes
# from golang.org/x/exp at GORELEASE.
RELEASE_VERSION ?= v0.1.0
GORELEASE ?= v0.0.0-20261113113407-e3970619a1a4

.PHONY: release-check
release-check: ## before tagging RELEASE_VERSION: a module outside the repo gets each module from a proxy on disk, builds, installs the CLI; gorelease
	$(GO) run ./internal/cmd/releasecheck -version $(RELEASE_VERSION) -gorelease $(GORELEASE)
