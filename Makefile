# ds440 — the two commands a newcomer needs are `make demo` and `make test`.
GO        ?= go
PKGS      ?= ./...
TESTFLAGS ?=
FUZZTIME  ?= 10s
SOAK_COUNT ?= 20

# -trimpath: builds do not depend on where the checkout is, so a second clone or worktree on
# the same machine takes what Go's build cache already holds for unchanged packages (compiled
# with -race, and the programs the tests run) instead of compiling them all again. A GOFLAGS
# of your own replaces it.
GOFLAGS ?= -trimpath
export GOFLAGS
# Test binaries run at once by `make unit`. Many packages spend most of their time waiting on
# real processes and sockets, so four at once keep two cores busier than go test's default of
# one per core; UNIT_P=2 gives the default back on a machine shared with other work.
UNIT_P    ?= 4

.PHONY: all test vet cross fmt-check unit demo bench bench-redis fuzz soak build clean plots chaos

all: test

## test: vet, gofmt check and every test with the race detector (what CI runs).
test: vet fmt-check unit

vet:
	$(GO) vet $(PKGS)

## cross: go vet (tests included) for the other platforms users build on, so that a 64-bit
## constant or a Unix-only call, in a test too, is caught on Linux/amd64. Kept out of make test:
## each platform compiles the standard library once per Go version (about a minute here);
## afterwards a run takes seconds. .ci/run checks the 32-bit and the non-Unix platform.
CROSS_PLATFORMS ?= linux/386 linux/arm64 windows/amd64 darwin/arm64 darwin/amd64
cross:
	@set -e; for p in $(CROSS_PLATFORMS); do \
		echo "go vet $$p"; GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet $(PKGS); \
	done

fmt-check:
	@out=$$(gofmt -l . | grep -v '^vendor/' || true); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# -vet=off: the vet target has checked every package already; go test would vet each again.
unit:
	$(GO) test -race -vet=off -timeout 5m -p $(UNIT_P) $(TESTFLAGS) $(PKGS)

## demo: the project tour; starts everything it needs on loopback and stops it again.
demo:
	@bash scripts/demo.sh

## bench: every Benchmark in the module (side-by-side comparisons print their ratios).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## bench-redis: kvserver beside a real Redis on the same load (skipped if redis-server is absent).
bench-redis:
	@bash scripts/bench-redis.sh

## chaos: real processes broken by a nemesis while clients work, histories checked (CHAOS_TIME=60s for a short run).
chaos:
	$(GO) run ./chaos/cmd/chaos   # reads CHAOS_TIME from the environment

## plots: redraw docs/plots/*.svg (the plots of docs/PERFORMANCE.md) from their data files.
plots:
	$(GO) run ./scripts/plots -dir docs/plots

## fuzz: every Fuzz target for FUZZTIME each.
fuzz:
	@FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

## soak: long stress runs kept out of `make test`, then every test SOAK_COUNT (20) times over.
soak:
	DS440_SOAK=1 $(GO) test -race -timeout 120m $(PKGS)
	$(GO) test -race -timeout 180m -count=$(SOAK_COUNT) $(PKGS)

build:
	$(GO) build ./...

clean:
	$(GO) clean -testcache
