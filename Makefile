# MedLens: `make run` installs what is missing, builds and starts the daemon on a local spool;
# `make test` installs, builds and runs every test. See README.md.
SWIFT ?= swift
PREFIX ?= /usr/local
DESTDIR ?=
SPOOL ?= $(CURDIR)/spool
CONFIG ?= $(CURDIR)/etc/medlens/medlens.toml
MODELS ?= $(CURDIR)/models
UNITDIR ?= /lib/systemd/system
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

# The daemon on ./spool with the bundled model store ./models (models/<name>/<version>/ + current).
run: build
	$(BIN)/medlensd --config $(CONFIG) --spool $(SPOOL) --models $(MODELS)

# Benchmarks print our numbers beside the reference implementations' (pydicom, PyTorch) from the same run.
bench: build
	scripts/bench.sh

fuzz: deps
	fuzz/run.sh $(or $(SECONDS_TO_RUN),600)

# Binaries, configuration, the hardened unit with its sysusers.d/tmpfiles.d files, docs and the default models
# (copied into /var/lib/medlens/models by tmpfiles on first boot). Paths in the unit follow PREFIX.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/medlens $(DESTDIR)$(UNITDIR) $(DESTDIR)/usr/lib/sysusers.d \
		$(DESTDIR)/usr/lib/tmpfiles.d $(DESTDIR)$(PREFIX)/share/medlens/models $(DESTDIR)$(PREFIX)/share/doc/medlens
	install -m 755 $(BIN)/medlensd $(BIN)/medlens $(BIN)/medtrain $(DESTDIR)$(PREFIX)/bin/
	[ -e $(DESTDIR)/etc/medlens/medlens.toml ] || install -m 644 etc/medlens/medlens.toml $(DESTDIR)/etc/medlens/medlens.toml
	for unit in $(wildcard systemd/*.service systemd/*.timer); do sed 's|/usr/local|$(PREFIX)|g' $$unit > $(DESTDIR)$(UNITDIR)/$$(basename $$unit); done
	install -m 644 systemd/sysusers.d/medlens.conf $(DESTDIR)/usr/lib/sysusers.d/medlens.conf
	sed 's|/usr/local|$(PREFIX)|g' systemd/tmpfiles.d/medlens.conf > $(DESTDIR)/usr/lib/tmpfiles.d/medlens.conf
	install -m 644 docs/*.md docs/*.json $(DESTDIR)$(PREFIX)/share/doc/medlens/
	# The retraining example: copy it to /etc/medlens/medtrain.json and adapt it to enable medtrain.timer.
	install -m 644 etc/medlens/medtrain.json $(DESTDIR)$(PREFIX)/share/medlens/medtrain.example.json
	if [ -d models ]; then cp -r models/. $(DESTDIR)$(PREFIX)/share/medlens/models/; fi
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then systemd-sysusers medlens.conf; systemd-tmpfiles --create medlens.conf; fi

clean:
	rm -rf .build spool
