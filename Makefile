# seqcast: see README.md. Every target runs from a fresh clone; the test targets first run tools/prepare.sh (make prepare).
SHELL     := /bin/bash
.SHELLFLAGS := -o pipefail -c
GO        ?= go
PYTHON    ?= /usr/bin/python3
BIN       := bin/seqcast
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: all build run prepare test test-short test-go test-py test-node bench golden fixtures fmt vet clean

all: build

## build: static, stripped binary in bin/seqcast
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/seqcast

## run: serve the embedded gold model on :8000 (see ./bin/seqcast serve --help)
run: build
	./$(BIN) serve

## prepare: install what the tests need (Debian packages, tools/golden's node_modules, kustomize; tools/prepare.sh)
prepare:
	@PYTHON=$(PYTHON) GO=$(GO) tools/prepare.sh

## test: everything CI runs (Go, Python exporter, Node golden generator); prepares first, skips nothing
test: prepare vet test-go test-py test-node

## test-short: the fast subset while developing: gofmt, go vet, `go test -short ./...` (no real redis-server,
## no binary over loopback, no parity listing, no purego pass, no Python or Node); run `make test` before pushing
test-short: vet
	CGO_ENABLED=0 $(GO) test -short -count=1 ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...

test-go: prepare
	CGO_ENABLED=0 $(GO) test -count=1 ./...
	@echo "--- parity cases, each listed (the test also fails if a case directory is added or missing) ---"
	CGO_ENABLED=0 $(GO) test -count=1 -v -run 'Golden|RealWorld' ./parity/ | grep -E -- '--- (PASS|FAIL|SKIP)|^(ok|FAIL)'
	@echo "--- engine and parity again with the pure-Go fallback forced (-tags purego) ---"
	CGO_ENABLED=0 $(GO) test -count=1 -tags purego ./nn/ ./parity/

test-py: prepare
	@if [ -d tools/tests ]; then $(PYTHON) -m pytest -q tools/tests; else echo "no python tests yet"; fi

test-node: prepare
	@if [ -f tools/golden/package.json ]; then cd tools/golden && node --test; else echo "no node tests yet"; fi

## bench: Go benchmarks with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./nn/...

## golden: regenerate every TF.js golden file (needs node; see tools/golden/README.md)
golden:
	cd tools/golden && npm ci --no-audit --no-fund && node generate.js

## fixtures: re-export the real-world fixture bundles in parity/testdata/fixtures (see tools/make_fixture_bundles.py)
fixtures:
	$(PYTHON) tools/make_fixture_bundles.py
	$(PYTHON) tools/attention_reference.py

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

## fuzz: run every fuzz target for FUZZTIME each, one after the other (make test runs their seed corpora)
FUZZTIME ?= 30s
FUZZ_TARGETS := weights:FuzzReadNPY kerasconfig:FuzzParseConfig weights:FuzzLoadBundle scaler:FuzzParseScaler hdf5:FuzzOpen kerasfile:FuzzRead \
	scaler/skpickle:FuzzLoad api:FuzzPredict api:FuzzPredictBatch api:FuzzTFServing api:FuzzParseTFPath jsoncodec:FuzzFastDecoders \
	serving:FuzzParseModelConfig api:FuzzOIPInfer api:FuzzForecast jsoncodec:FuzzOIPTensor
.PHONY: fuzz reliability
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$pkg $$name ($(FUZZTIME))"; \
		CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./$$pkg/; done

## reliability: the hostile-input catalogue plus the long fault, reload, shutdown and soak runs, and the long
## failover run (HAProxy, three replicas, a 3+3 Redis Cluster; deploy/failover_test.go), loopback only
reliability: prepare
	CGO_ENABLED=0 SEQCAST_RELIABILITY_LONG=1 $(GO) test -count=1 -timeout 30m -v ./reliability/
	CGO_ENABLED=0 SEQCAST_RELIABILITY_LONG=1 $(GO) test -count=1 -timeout 15m -v -run '^TestFailoverHAProxyRedisCluster$$' ./deploy/
