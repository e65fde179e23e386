# The ProBonus Go SDK. `make test` is what CI runs.
SHELL := /bin/bash
GO ?= go
FUZZTIME ?= 30s
BENCHTIME ?= 1s
BENCHCOUNT ?= 6
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

.PHONY: test
test: ## go vet, then every test with the race detector (what CI runs)
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

.PHONY: cover
cover: ## coverage of every package, then the root package's by function (cover.out)
	$(GO) test -count=1 -cover ./...
	$(GO) test -count=1 -coverprofile=cover.out .
	$(GO) tool cover -func=cover.out | tail -1

.PHONY: lint
lint: ## staticcheck and gofmt
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt would change the files above"; exit 1; }
	$(GO) run $(STATICCHECK) ./...

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

.PHONY: bench
bench: ## benchmarks: the SDK beside a raw net/http baseline, BENCHCOUNT runs, median ratios
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) . | tee bench.out
	$(GO) run ./internal/cmd/benchratio < bench.out
