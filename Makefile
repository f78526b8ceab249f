# addonsync — see README.md. Every target works on a fresh machine with Go installed.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin/addonsync
PKGS := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/addonsync/addonsync/internal/cli.Version=$(VERSION)
# Where hack/build-kube-testenv.sh puts kube-apiserver, etcd and kubectl (cached across runs).
export ADDONSYNC_TESTENV_BIN ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kube-testenv/v1.35.4
TEST_FLAGS ?= -count=1 -timeout 40m
# Packages the race detector runs on (make test-race): the concurrent ones.
RACE_PKGS ?= ./pkg/sync/ ./pkg/reconcile/ ./pkg/lease/

.PHONY: all build test test-short test-race bench lint vet demo testenv tools generate schema check-clean clean

all: build vet test

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/addonsync

# Test cluster binaries (kube-apiserver, etcd, kubectl) built from the Go module proxy, cached.
testenv:
	bash hack/build-kube-testenv.sh "$(ADDONSYNC_TESTENV_BIN)" >/dev/null

# Everything the tests need that is not a Go package: the test cluster and the helm CLI (parity).
tools: testenv
	@if [ -f hack/build-helm.sh ]; then bash hack/build-helm.sh >/dev/null; fi

# Unit and integration tests against ONE real kube-apiserver + etcd shared by every package
# (hack/test.sh starts and stops it; binaries built if missing).
test: tools
	bash hack/test.sh $(TEST_FLAGS) $(PKGS)

# The race detector on the concurrent packages, against one shared test cluster (CI).
test-race: tools
	bash hack/test.sh -race $(TEST_FLAGS) $(RACE_PKGS)

# Tests that need no API server (go test -short: testenv starts none and its tests skip).
test-short:
	$(GO) test -short -count=1 $(PKGS)

# Benchmarks: speed, allocations and peak memory (see README, "Performance"); one package at
# a time (-p 1), so that no benchmark shares the machine with another.
bench: tools
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -benchtime 3x -timeout 60m ./pkg/...

vet:
	$(GO) vet $(PKGS)

# golangci-lint (with gofumpt and goimports) pinned in tools/go.mod, run with go tool.
GOLANGCI_LINT := $(GO) tool -modfile=tools/go.mod golangci-lint

lint: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GOLANGCI_LINT) run ./...

# Regenerate the JSON Schemas in schema/ from the Go types.
generate schema:
	$(GO) run ./hack/schemagen

# Fails when go mod tidy or generation changes the tree (CI).
check-clean: generate
	$(GO) mod tidy
	@git diff --exit-code -- go.mod go.sum schema || { echo "run 'go mod tidy' and 'make generate', then commit"; exit 1; }

# Start a local real API server and run addonsync on the bundled example config.
demo: build testenv
	bash hack/demo.sh

clean:
	rm -rf bin
