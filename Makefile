# Sightline: `make run` starts the app, `make test` runs every check.
# Both set up what they need first (scripts/setup.sh, idempotent).

SHELL := /bin/bash
GO ?= go
# Developers and CI keep the models beside the checkout; users get them
# from the set-up's download.
ifeq ($(SIGHTLINE_MODELS),)
ifneq ($(wildcard ../shared/models),)
export SIGHTLINE_MODELS := $(abspath ../shared/models)
endif
endif
# Fyne parses the locale at start-up and complains about "C".
export LANG := en_US.UTF-8
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/sightline/sightline/internal/deps.Dir=$(CURDIR)/deps \
	-X github.com/sightline/sightline/internal/cli.Version=$(VERSION)
STATICCHECK := $(CURDIR)/deps/bin/staticcheck
GOFILES = $(shell git ls-files --cached --others --exclude-standard '*.go')

.PHONY: all setup build run test lint unit mats fuzz bench soak clean

all: build

setup:
	@scripts/setup.sh

build: setup
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/sightline .

run: build
	bin/sightline gui $(ARGS)

lint: setup
	@unformatted=$$(gofmt -l $(GOFILES)); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# GUI tests need a display: they run under Xvfb.
unit: setup
	xvfb-run -a -s '-screen 0 1280x900x24' $(GO) test -timeout 15m ./...

# Every fuzz target briefly, by execution count (FUZZTIME=10m for the long
# runs; scripts/fuzz.sh says why CI counts rather than times).
FUZZTIME ?= 20000x
fuzz: setup
	scripts/fuzz.sh $(FUZZTIME)

# Every Mat made is closed: the commands and their failure paths, the
# scheduler's frame copies, the sources (gocv counts Mats with this tag).
mats: setup
	$(GO) test -tags matprofile -count=1 -run 'Mats|FrameCopiesFreed|MatProfile|Leak' ./internal/cli/ ./analyzer/schedule/ ./video/

test: lint fuzz unit mats

# The OCR section compares with @gutenye/ocr-node on 50 images: its peer
# and image set are set up first (idempotent).
bench: build
	scripts/ocr-peer.sh >/dev/null
	scripts/ocr-set.sh >/dev/null
	bin/sightline bench --json bench.json $(BENCHFLAGS)


clean:
	rm -rf bin

# Not part of CI: 30 minutes of a restarted RTSP stream (SOAK_DURATION=2m for a short one).
soak: setup
	scripts/soak.sh
