# tlsready - build, test, run.  See README.md.
#
#   make            build ./tlsready
#   make run        install missing Debian packages (as root), build, analyse pcaps/demo.pcapng
#   make test       the same set-up, then every test, plain and under ASan+UBSan
#   make install    PREFIX=/usr/local DESTDIR= (binary, man page, systemd unit in UNITDIR)
#   make pcaps      rebuild the lab captures (root; see pcaps/README.md)
#   make fuzz       libFuzzer harnesses (clang): one per dissector, fuzz_capture for whole captures
#   make fuzz-long  the fuzz campaign: every harness for FUZZ_LONG_SECONDS (default 600) each,
#                   nice'd, one at a time; grows and minimises tests/fuzz/corpus/NAME (kept in git,
#                   replayed by make test); prints executions and crashes per harness
#                     make fuzz-long FUZZ_LONG_SECONDS=60
#                     FUZZ_LONG_SECONDS_capture=1800 make fuzz-long      (one harness longer)
#                     make fuzz-long FUZZ_LONG=capture                     (only some harnesses)
#   make bench      the benchmark (see README "Performance")
#   make flood-memcap, make soak   memory under floods and over an hour of live monitoring (root)
#   make bench-store  time the report of a monitor state of 30k, 200k, 1M clients
#   make bench-pg     the shared PostgreSQL store: checkpoint cost per 10,000 connections, the merged
#                     report with 10 sensors and 1 M stored connections (tests/bench/pg.py)
#   make bench-live   live packets/s a core: trafgen into a veth pair, tlsready under a cgroup CPU quota (root; README "Performance")
#   make bench-html   the HTML report of the benchmark capture: size, time to write, chromium load time

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
O       ?= build

PKGS    := libpcap libndpi openssl sqlite3 libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libpq is not linked: analyzer/pq_lazy.c opens it when a run uses the PostgreSQL store
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libpq,$(PKGS)) 2>/dev/null) -ldl -lm

VERSION := 0.1.0
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wpointer-arith -Wstrict-prototypes
CPPFLAGS += -Ianalyzer -Idissectors $(PKG_CFLAGS) -DTLSREADY_VERSION='"$(VERSION)"'
LDLIBS  += $(PKG_LIBS) -lpthread

# Debian packages: to build, and what the tests use.
DEB_BUILD := gcc make pkg-config libpcap-dev libndpi-dev libssl-dev libsqlite3-dev libpq-dev
DEB_TEST  := libcmocka-dev tshark wireshark-common python3 clang libclang-rt-14-dev libndpi-bin tcpreplay iproute2 chromium openssl tcpdump postgresql dnsmasq-base busybox openjdk-17-jdk-headless
DEB_LAB   := iproute2 ethtool tshark tcpdump nftables openjdk-17-jdk-headless npm openssl gnutls-bin python3 vsftpd slapd ldap-utils curl dnsmasq-base busybox \
             derby-tools libderby-java libderbyclient-java default-jre-headless dovecot-pop3d

LIB_SRCS := $(filter-out analyzer/main.c,$(wildcard analyzer/*.c)) $(wildcard dissectors/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
MAIN_OBJ := $(O)/analyzer/main.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)

.PHONY: all run test check unit deps deps-test install uninstall clean pcaps fuzz fuzz-long bench bench-gen screenshot \
	bench-flood bench-store bench-pg bench-live bench-html asan flood-memcap soak

all: tlsready

tlsready: $(O)/tlsready
	cp $< $@.tmp && mv -f $@.tmp $@

$(O)/tlsready: $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/%.o: %.c $(wildcard analyzer/*.h dissectors/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/tests/%: tests/unit/%.c $(LIB_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

unit: $(UNIT_BINS) $(O)/tlsready $(O)/tlsready-count-decodes $(O)/tlsready-names-dump

# every host name of a capture's name packets, for tests/integration/test_names_corpus.py
$(O)/tlsready-names-dump: $(LIB_OBJS) $(O)/tests/integration/names_dump.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# tlsready with every decode_frame() call counted, for tests/integration/test_decode_once.py
$(O)/tlsready-count-decodes: $(MAIN_OBJ) $(LIB_OBJS) $(O)/tests/integration/count_decodes.o
	$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--wrap=decode_frame -o $@ $^ $(LDLIBS)

# ---- set-up: install what is missing, or say the one command to run ----
deps:
	@sh tests/deps.sh $(DEB_BUILD)
deps-test:
	@sh tests/deps.sh $(DEB_BUILD) $(DEB_TEST)

run: deps
	@$(MAKE) --no-print-directory all
	./tlsready -r pcaps/demo.pcapng

test: deps-test
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory O=build-asan CC=gcc \
		CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" unit
	@sh tests/run.sh build build-asan

check: test

# the systemd unit (dist/tlsready@.service, instance = interface), with ExecStart pointing at $(PREFIX)/bin
UNITDIR ?= $(PREFIX)/lib/systemd/system

install: tlsready
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(UNITDIR)
	install -m 0755 tlsready $(DESTDIR)$(PREFIX)/bin/tlsready
	install -m 0644 tlsready.1 $(DESTDIR)$(PREFIX)/share/man/man1/tlsready.1
	sed 's|/usr/local/bin/tlsready|$(PREFIX)/bin/tlsready|' dist/tlsready@.service > $(DESTDIR)$(UNITDIR)/tlsready@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tlsready@.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tlsready $(DESTDIR)$(PREFIX)/share/man/man1/tlsready.1 \
		$(DESTDIR)$(UNITDIR)/tlsready@.service

pcaps:
	@sh tests/deps.sh $(DEB_LAB)
	sh pcaps/lab/run.sh

bench: all
	sh tests/bench/run.sh
bench-gen:
	sh tests/bench/run.sh gen
# the HTML report of the benchmark capture: its size, the time to write it, chromium's load time
bench-html: all
	sh tests/bench/run.sh html
bench-flood: all
	sh tests/bench/run.sh flood
# live capture rate: trafgen (netsniff-ng) flat out into a veth pair, tlsready -i on the other end (root)
LIVE_SECONDS ?= 4
bench-live: all
	@sh tests/deps.sh netsniff-ng
	python3 tests/bench/live.py $(LIVE_SECONDS)
# memory under held-data floods (one-shot and live) and the live monitor over time (root)
SOAK_SECONDS ?= 3600
flood-memcap: all
	python3 tests/bench/soak.py flood 30000
soak: all
	python3 tests/bench/soak.py soak $(SOAK_SECONDS)
# the report of a monitor state with many clients (tests/bench/store.sh; STORE_N="30000 1000000")
# The README's picture of the demo report: the screenshot test_html.py takes in headless chromium.
screenshot: $(O)/tlsready
	HTML_SCREENSHOT=$(CURDIR)/docs/demo-report.png TLSREADY=$(CURDIR)/$(O)/tlsready python3 tests/integration/test_html.py

bench-pg: $(O)/tlsready
	TLSREADY=$(CURDIR)/$(O)/tlsready python3 tests/bench/pg.py
bench-store: $(O)/tlsready $(O)/bench/genstore
	sh tests/bench/store.sh $(STORE_N)
$(O)/bench/genstore: tests/bench/genstore.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

clean:
	rm -rf build build-asan build-fuzz tlsready

# ---- fuzzing: one libFuzzer harness per dissector, tests/fuzz/fuzz_*.c ----
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)
DISSECT_SRCS := $(wildcard dissectors/*.c)
fuzz: $(FUZZ_BINS)
FUZZ_LONG_SECONDS ?= 600
FUZZ_LONG ?=
fuzz-long: deps-test
	FUZZ_LONG_SECONDS=$(FUZZ_LONG_SECONDS) sh tests/fuzz-long.sh $(FUZZ_LONG)
FUZZ_CC := clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(DISSECT_SRCS) $(wildcard dissectors/*.h analyzer/cursor.h)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(CPPFLAGS) -o $@ $< $(DISSECT_SRCS) $(PKG_LIBS)
# the whole-capture harness links the analyzer too (everything but main.c)
build-fuzz/fuzz_capture: tests/fuzz/fuzz_capture.c tests/fuzz/ndpi_reset.c $(LIB_SRCS) $(wildcard analyzer/*.h dissectors/*.h)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(CPPFLAGS) -o $@ $< tests/fuzz/ndpi_reset.c $(LIB_SRCS) $(PKG_LIBS) -lpthread
