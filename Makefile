# tapline - network traffic analysis sensor. Plain make; see README.md.

CC       ?= cc
B        ?= build/release
CPPFLAGS += -Iinclude -D_GNU_SOURCE -MMD -MP
WARN      = -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual -Wvla \
            -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wformat=2 \
            -Wimplicit-fallthrough -Wundef
OPT      ?= -O2 -g
# Link-time optimisation: the small functions that cross files on the packet path are inlined
# (1.3% fewer instructions on the mixed capture, 3.5% on the real one). Not with sanitizers.
LTO      ?= -flto=auto
SAN       = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS   += $(OPT) $(LTO) $(WARN) -pthread
PKGS      = libpcap libndpi yaml-0.1 libzstd libcrypto rdkafka libpsl libidn2 hiredis libpcre2-8 \
            libmicrohttpd
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpcap -lndpi -lyaml -lzstd -lcrypto -lrdkafka -lpsl -lidn2 -lhiredis -lpcre2-8 -lmicrohttpd) -lm -pthread
RULES_DIR ?= $(CURDIR)/detect/rules
CPPFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

LIB_SRC   = $(filter-out $(EXCLUDE),$(sort $(wildcard dissect/*.c flows/*.c detect/*.c export/*.c) \
                   $(filter-out capture/main.c,$(wildcard capture/*.c))))
LIB_OBJ   = $(LIB_SRC:%.c=$(B)/%.o)
UNIT_SRC  = $(filter-out $(EXCLUDE),$(sort $(wildcard tests/unit/*.c tests/lib/*.c)))
UNIT_OBJ  = $(UNIT_SRC:%.c=$(B)/%.o)

# One target per dissector (fuzz_dissector.c built with -DTARGET=name), plus the packet path.
DISSECTORS   = $(patsubst dissect/%.c,%,$(filter-out dissect/decode.c dissect/registry.c \
                 dissect/ber.c dissect/hash.c,$(wildcard dissect/*.c)))
FUZZ_TARGETS = packets ber tls rules summary $(DISSECTORS)
FUZZ_REPLAY  = $(FUZZ_TARGETS:%=$(B)/tests/fuzz/%-replay)
FUZZ_SECONDS ?= 60

.PHONY: all asan test-asan test run bench fuzz lint format format-check deps clean golden FORCE \
        install dga-model dga-check

all: $(B)/tapline tapline docs/DATA.md

tapline: $(B)/tapline
	@ln -sf $(B)/tapline tapline

# The data sheet, generated from the field tables (the report suite fails when it is stale).
docs/DATA.md: $(B)/tapline
	@mkdir -p docs
	@$(B)/tapline --data-sheet >$@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

# `make V=1` shows the whole command lines.
Q         = $(if $(V),,@)
# The commit --version names and the rules folder the defaults point at: each header is
# rewritten only when its text changes, so nothing rebuilds for nothing.
$(B)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@v="#define TL_COMMIT \"$$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown commit)\""; \
	  [ -f $@ ] && [ "$$(cat $@)" = "$$v" ] || echo "$$v" >$@
$(B)/gen/paths.h: FORCE
	@mkdir -p $(dir $@)
	@v="#define TL_RULES_DIR \"$(RULES_DIR)\""; [ -f $@ ] && [ "$$(cat $@)" = "$$v" ] || echo "$$v" >$@
FORCE:

$(B)/capture/main.o: $(B)/gen/version.h
$(B)/capture/config.o $(B)/tests/fuzz/fuzz_packets.o: $(B)/gen/paths.h
$(B)/capture/main.o $(B)/capture/config.o $(B)/tests/fuzz/fuzz_packets.o: CPPFLAGS += -I$(B)/gen

$(B)/tapline: $(B)/capture/main.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/unit/run: $(UNIT_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/dissect/%.o: WARN += -Wconversion -Wsign-conversion
$(B)/tests/%.o: CPPFLAGS += -Itests/lib -Iflows -Iexport -Idissect -Idetect -Icapture

# The Kafka-protocol broker the kafka suite runs against (librdkafka's mock cluster).
$(B)/tests/kafka-broker: tests/kafka-broker/broker.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lrdkafka

ASAN_MAKE = $(MAKE) --no-print-directory B=build/asan OPT="-O1 -g $(SAN)" LTO= LDFLAGS="$(SAN)"

asan:
	+@$(ASAN_MAKE) build/asan/tapline build/asan/tests/unit/run

$(B)/tests/fuzz/dissect-%.o: tests/fuzz/fuzz_dissector.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< ($*)"
	$(Q)$(CC) $(CPPFLAGS) -Itests/lib -DTARGET=$* $(CFLAGS) -c -o $@ $<

$(B)/tests/fuzz/fuzz_ber.o: CPPFLAGS += -Idissect

# Targets with a file of their own, tests/fuzz/fuzz_NAME.c, rather than a dissector.
OWN_FUZZ = ber tls rules summary
$(OWN_FUZZ:%=$(B)/tests/fuzz/%-replay): $(B)/tests/fuzz/%-replay: $(B)/tests/fuzz/fuzz_%.o \
    $(B)/tests/fuzz/onefile.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OWN_FUZZ:%=$(B)/tests/fuzz/%-fuzzer): $(B)/tests/fuzz/%-fuzzer: $(B)/tests/fuzz/fuzz_%.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/fuzz/fuzz_rules.o: CPPFLAGS += -Idetect
$(B)/tests/fuzz/fuzz_summary.o: CPPFLAGS += -Iexport

$(B)/tests/fuzz/packets-replay: $(B)/tests/fuzz/fuzz_packets.o $(B)/tests/fuzz/onefile.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/fuzz/%-replay: $(B)/tests/fuzz/dissect-%.o $(B)/tests/fuzz/onefile.o $(B)/tests/lib/dtest.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer binaries: their own tree, built by clang with the sanitizers.
FUZZ_MAKE = $(MAKE) --no-print-directory B=build/fuzz CC=clang LTO= \
            OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
            LDFLAGS="-fsanitize=fuzzer,address,undefined"

fuzz:
	@tools/deps.sh fuzz
	+@$(FUZZ_MAKE) $(FUZZ_TARGETS:%=build/fuzz/tests/fuzz/%-fuzzer)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t tests/fuzz/crashes/$$t; \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/tests/fuzz/$$t-fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -artifact_prefix=tests/fuzz/crashes/$$t/ build/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	    >build/fuzz/$$t.log 2>&1; rc=$$?; tail -n 2 build/fuzz/$$t.log; \
	  [ $$rc -eq 0 ] || { echo "fuzz: $$t failed (exit $$rc): build/fuzz/$$t.log, tests/fuzz/crashes/$$t/"; exit 1; }; \
	done

$(B)/tests/fuzz/packets-fuzzer: $(B)/tests/fuzz/fuzz_packets.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/fuzz/%-fuzzer: $(B)/tests/fuzz/dissect-%.o $(B)/tests/lib/dtest.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# `make test` runs every suite; `make test-asan` runs them again under ASan and UBSan. The
# options suite kills a run after OPTIONS_TIMEOUT seconds (a hang); under ASan its largest
# batches (capture.batch_bytes=1 GiB, 64 per worker) take 48 s idle, and past 60 s on a loaded
# machine, so there it waits longer.
test-asan:
	+@OPTIONS_TIMEOUT=$${OPTIONS_TIMEOUT:-240} $(ASAN_MAKE) test

test: $(B)/tapline $(B)/tests/unit/run $(FUZZ_REPLAY) $(B)/tests/kafka-broker
	@tools/deps.sh test
	@$(MAKE) --no-print-directory B=$(B) dga-check
	@B=$(B) T=$(T) tests/run.sh

# The letter-trigram model of dns dga_score, generated from Debian's wamerican word list and
# committed: dga-model rewrites it (review the diff), dga-check fails when it is stale.
DGA_WORDS ?= /usr/share/dict/american-english
dga-model:
	python3 tools/dgagen.py $(DGA_WORDS) > dissect/dga_model.h

dga-check:
	@mkdir -p $(B)/gen
	@python3 tools/dgagen.py $(DGA_WORDS) > $(B)/gen/dga_model.h
	@cmp -s $(B)/gen/dga_model.h dissect/dga_model.h || \
	  { echo "dga-check: dissect/dga_model.h differs from tools/dgagen.py's output on $(DGA_WORDS); run make dga-model and review" >&2; exit 1; }
	@echo "dga-check: dissect/dga_model.h is what tools/dgagen.py makes of $(DGA_WORDS)"

golden:
	@test -n "$(CASE)" || { echo "usage: make golden CASE=name" >&2; exit 2; }
	@B=$(B) T=$(CASE) GOLDEN_UPDATE=$(CASE) bash tests/suites/golden.sh

# `make run`: what `make` makes (./tapline), then every capture of pcaps/ replayed into out/
# (events, summary, report), and the recorded attack session as one run, in recording order.
SESSION = attack-kerberoast attack-asrep-roast attack-spray attack-ldap-recon attack-dns \
          attack-http-download benign-office
run: deps
	+@$(MAKE) --no-print-directory all
	@mkdir -p out
	@for p in pcaps/*.pcap pcaps/*.pcapng; do [ -e "$$p" ] || continue; \
	  n=$$(basename "$${p%.*}"); \
	  $(B)/tapline -r "$$p" -w out/$$n.jsonl --summary out/$$n.txt --report out/$$n.html \
	    && echo "out/$$n.jsonl: $$(wc -l < out/$$n.jsonl) events"; \
	done
	@$(B)/tapline $(SESSION:%=-r pcaps/%.pcap) -w out/session.jsonl --summary out/session.txt \
	  --report out/session.html
	@echo "binary:  $(CURDIR)/tapline -> $(B)/tapline"
	@echo "outputs: $(CURDIR)/out/NAME.jsonl (events), NAME.txt (summary), NAME.html (report)"
	@echo "         per capture of pcaps/; the attack session: out/session.html, out/session.txt"

deps:
	@tools/deps.sh

bench: $(B)/tapline
	@tools/bench.sh $(B)/tapline
	@if [ "$(BENCH_LIVE)" = 1 ]; then tools/bench-live.sh $(B)/tapline; fi

lint:
	@tools/lint.sh

format:
	clang-format -i $(wildcard include/*.h */*.c */*.h tests/*/*.c tests/*/*.h)

format-check:
	clang-format --dry-run --Werror $(wildcard include/*.h */*.c */*.h tests/*/*.c tests/*/*.h)

# `make install` (PREFIX=/usr/local, DESTDIR for staging): the binary (built for the
# installed rules path), the man page, the shipped rules, a commented sample
# configuration, the systemd unit and the logrotate snippet.
PREFIX     ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SUBST       = sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
                  -e 's|@RULESDIR@|$(PREFIX)/share/tapline/rules|g'
install:
	+@$(MAKE) --no-print-directory B=build/install RULES_DIR=$(PREFIX)/share/tapline/rules \
	    build/install/tapline
	install -D -m 0755 build/install/tapline $(DESTDIR)$(PREFIX)/bin/tapline
	install -D -m 0644 dist/tapline.8 $(DESTDIR)$(PREFIX)/share/man/man8/tapline.8
	install -d $(DESTDIR)$(PREFIX)/share/tapline/rules
	cp -R detect/rules/. $(DESTDIR)$(PREFIX)/share/tapline/rules/
	install -d $(DESTDIR)$(SYSCONFDIR)/tapline $(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(UNITDIR)
	$(SUBST) dist/tapline.yaml >$(DESTDIR)$(SYSCONFDIR)/tapline/tapline.yaml.sample
	[ -e $(DESTDIR)$(SYSCONFDIR)/tapline/tapline.yaml ] || \
	    cp $(DESTDIR)$(SYSCONFDIR)/tapline/tapline.yaml.sample $(DESTDIR)$(SYSCONFDIR)/tapline/tapline.yaml
	$(SUBST) dist/tapline.service >$(DESTDIR)$(UNITDIR)/tapline.service
	install -m 0644 dist/tapline.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/tapline

clean:
	rm -rf build tapline out

# The compiler's dependency files are only read. Their empty rule keeps make from trying to
# remake one through its built-in rules (X.d linked from X.d.o, compiled by a pattern rule)
# whenever a source is newer than its dependency file.
DEPS := $(shell find build -name '*.d' 2>/dev/null)
$(DEPS): ;
-include $(DEPS)
.SECONDARY:
