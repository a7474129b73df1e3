# MedLens: `make run` installs what is missing, builds and starts the daemon on a local spool;
# `make test` installs, builds and runs every test. See README.md.
SWIFT ?= swift
PREFIX ?= /usr/local
DESTDIR ?=
SPOOL ?= $(CURDIR)/spool
CONFIG ?= $(CURDIR)/etc/medlens/medlens.toml
BIN := $(CURDIR)/.build/release

.PHONY: all deps build test run bench fuzz install clean

all: build

deps:
	@scripts/bootstrap.sh

build: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

run: build
	$(BIN)/medlensd --config $(CONFIG) --spool $(SPOOL)

# Benchmarks print our numbers beside the reference implementations' (pydicom, PyTorch) from the same run.
bench: build
	scripts/bench.sh

fuzz: deps
	fuzz/run.sh $(or $(SECONDS_TO_RUN),600)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/medlens $(DESTDIR)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/medlens/models
	install -m 755 $(BIN)/medlensd $(BIN)/medlens $(BIN)/medtrain $(DESTDIR)$(PREFIX)/bin/
	install -m 644 etc/medlens/medlens.toml $(DESTDIR)/etc/medlens/medlens.toml
	install -m 644 systemd/*.service systemd/*.timer $(DESTDIR)/lib/systemd/system/
	# The retraining example: copy it to /etc/medlens/medtrain.json and adapt it to enable medtrain.timer.
	install -m 644 etc/medlens/medtrain.json $(DESTDIR)$(PREFIX)/share/medlens/medtrain.example.json
	# models/ holds the default model packages once medtrain has produced them.
	if [ -d models ]; then cp -r models/. $(DESTDIR)$(PREFIX)/share/medlens/models/; fi

clean:
	rm -rf .build spool
