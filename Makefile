# Anshim — offline-first venue check-in for contact tracing.
GO      ?= go
BIN     := bin
LDFLAGS := -s -w
export CGO_ENABLED ?= 0
# The PostgreSQL the tests and benchmarks use (each test makes and drops its own database).
export ANSHIM_TEST_PG ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: all build test test-short cross bench bench-report bench-province fuzz demo deps clean

all: build

## build: the three programs: bin/kiosk (the kiosk), bin/anshim (the operator tool), bin/central (the central server)
build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/kiosk ./cmd/anshim ./cmd/central

## deps: system packages the tests use (zbarimg: the decode baseline; chromium: the display page's browser test; pdftoppm: the poster test; systemd-analyze and dpkg-deb: the units' and packages' tests)
deps:
	@missing=""; command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	  command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	  command -v dpkg-deb >/dev/null || missing="$$missing dpkg"; \
	  if [ -n "$$missing" ]; then echo "installing$$missing (Debian packages the tests use)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; fi

## test: vet and every test, with the real kiosk binary for the crash test
# The browser tests fail instead of skipping when Chromium is missing.
test: deps
	$(GO) vet ./...
	ANSHIM_REQUIRE_BROWSER=1 $(GO) test -count=1 -timeout 9m ./...

## cross: the kiosk for the Pi family and amd64, without cgo
cross:
	@mkdir -p $(BIN)
	GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kiosk-linux-arm64 ./cmd/kiosk
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kiosk-linux-armv7 ./cmd/kiosk
	GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kiosk-linux-amd64 ./cmd/kiosk
	@ls -l $(BIN)/kiosk-linux-*

## deb: anshim-kiosk and anshim-central .deb packages for amd64, arm64 and armhf in dist/ (VERSION=0.1.0)
VERSION ?= 0.1.0
deb:
	$(GO) run ./internal/debpkg/mkdeb --out dist --version $(VERSION)

## bench: every benchmark with its baseline measured in the same run
bench: deps
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 2s -count 1 ./... | tee bench.out

## bench-report: runs the benchmarks of docs/benchmarks.md one package at a time and writes their generated tables (BENCH_SECTIONS: some of them; `go run ./internal/benchreport/cmd/benchreport -list`)
BENCH_SECTIONS ?=
bench-report: deps
	$(GO) run ./internal/benchreport/cmd/benchreport $(BENCH_SECTIONS)

## bench-province: the full-scale tracing and console benchmarks (36.4 M check-ins on PostgreSQL: a load of 5–50 min by the machine's load, then 300 traces and the SQL baseline; ANSHIM_SYNTH_* sizes, ANSHIM_SYNTH_KEEP=DIR keeps the province for the next run) and its generated section
bench-province:
	$(GO) run ./internal/benchreport/cmd/benchreport province console

## fuzz: each fuzz target for FUZZTIME (default 20s)
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./checkin -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./pass -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./pass -run '^$$' -fuzz FuzzBase45 -fuzztime $(FUZZTIME)
	$(GO) test ./hardware/scanner -run '^$$' -fuzz FuzzFramer -fuzztime $(FUZZTIME)
	$(GO) test ./hardware/scanner -run '^$$' -fuzz FuzzKeyDecoder -fuzztime $(FUZZTIME)
	$(GO) test ./hardware/camera -run '^$$' -fuzz FuzzFrameSplitter -fuzztime $(FUZZTIME)
	$(GO) test ./sync/wire -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./sync/ingest -run '^$$' -fuzz FuzzHandle -fuzztime $(FUZZTIME)
	$(GO) test ./ledger -run '^$$' -fuzz FuzzParseLeaf -fuzztime $(FUZZTIME)
	$(GO) test ./venuecode -run '^$$' -fuzz FuzzParseDisplay -fuzztime $(FUZZTIME)
	$(GO) test ./venuecode -run '^$$' -fuzz FuzzParsePoster -fuzztime $(FUZZTIME)
	$(GO) test ./province -run '^$$' -fuzz FuzzParseKeyUpdate -fuzztime $(FUZZTIME)
	$(GO) test ./central/vault -run '^$$' -fuzz FuzzNormalizePhone -fuzztime $(FUZZTIME)
	$(GO) test ./central/appcheckin -run '^$$' -fuzz FuzzCheckIn -fuzztime $(FUZZTIME)
	$(GO) test ./central/registry -run '^$$' -fuzz FuzzParseBusinessNumber -fuzztime $(FUZZTIME)
	$(GO) test ./internal/text -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)
	$(GO) test ./internal/benchreport -run '^$$' -fuzz FuzzParseOutput -fuzztime $(FUZZTIME)

## demo: the whole system on embedded defaults: a scripted day, then the check (DEMO_FLAGS=--keep to leave it running)
demo: build
	$(BIN)/anshim demo $(DEMO_FLAGS)

clean:
	rm -rf $(BIN) bench.out dist
