# jiralinkd — see README.md.
GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
PKGS      := ./...

.PHONY: all build test demo bench lint fmt clean release

all: lint test build

## build: compile jiralinkd and the demo stack into ./bin
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/jiralinkd ./cmd/jiralinkd
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/devstack ./cmd/devstack

## test: every test with the race detector (the command CI runs); says loudly if the browser tests were skipped
test:
	$(GO) test -race -count=1 -timeout 10m $(PKGS)
	@./scripts/browser-test/notice.sh

## demo: start the local fake GitHub + Jira, sync the ZooKeeper corpus, show what landed
##       (make demo DEMO_FLAGS=--github-app: GitHub as a GitHub App)
demo: build
	$(BIN)/devstack demo --jiralinkd $(BIN)/jiralinkd $(DEMO_FLAGS)

## bench: backfill, idle-pass, webhook and scale figures (calls, links, latency, wall time, memory; Jira links/s
##        fixed vs adaptive concurrency, with and without 429s; bbolt and
##        PostgreSQL state side by side), Jira secret
##        scanning precision (recall on planted secrets, false positives on real corpora) and Go benchmarks
##        (among them BenchmarkBackfillETA: the backfill ETA's error at 10/50/90% of simulated backfills)
bench: build
	@$(GO) test -count=1 -run '^TestSecretScanPrecision$$' -v ./indexer/jirascan | sed -n 's/^ *precision: /secret scan: /p'
	$(BIN)/devstack bench --jiralinkd $(BIN)/jiralinkd
	$(BIN)/devstack scale --jiralinkd $(BIN)/jiralinkd
	JIRALINKD_BENCH_FULL=1 $(GO) test -run '^$$' -bench . -benchmem ./indexer/... ./providers/...

## lint: go vet and gofmt
lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## release: static linux/amd64 + linux/arm64 binaries and SHA256SUMS into ./dist
release:
	VERSION=$(VERSION) GO=$(GO) ./scripts/release.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN) data/demo dist
