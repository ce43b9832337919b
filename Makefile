# netstreamd: GNU make, C11. `make` builds every binary, `make SAN=1` the
# ASan+UBSan build (into build-san/), `make test` runs every test.

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
B       := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1 -g
else
B       := build
SANFLAGS :=
OPT     := -O2 -g
endif

PKGS    := libzmq libprotobuf-c libpcap libconfig sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# nsctl metrics' HTTP server; only nsctl links it
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -MMD -MP \
           -Iinclude -I$(B)/gen $(PKG_CFLAGS) $(MHD_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS  := $(PKG_LIBS) -lm -lpthread

# a process is built once its folder has its main file (cfgd/cfgd.c ...)
PROGS   := $(foreach p,cfgd sampled exportd nsctl,$(if $(wildcard $(p)/$(p).c),$(p)))
# a tool is tools/X.c, or the files of tools/X/ once it outgrows one file
TOOLS   := $(sort $(patsubst tools/%.c,%,$(wildcard tools/*.c)) \
             $(patsubst tools/%/,%,$(dir $(wildcard tools/*/*.c))))
BINS    := $(addprefix $(B)/bin/,$(PROGS) $(TOOLS))

GEN_C   := $(B)/gen/netstream.pb-c.c
LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(patsubst %.c,$(B)/%.o,$(LIB_SRC)) $(B)/gen/netstream.pb-c.o
LIBNS   := $(B)/libns.a

# The config compiler (conf/) is linked into cfgd and nsctl, so `nsctl
# validate` works without a running daemon (and into fuzz_config).
CONF_SRC := $(wildcard conf/*.c)
CONF_OBJ := $(patsubst %.c,$(B)/%.o,$(CONF_SRC))

all: $(BINS)

# The version and the config directory the binaries print and default to
# (VERSION and SYSCONFDIR below, the package's too): a header rewritten
# only when they change, so `make install SYSCONFDIR=...` rebuilds only
# the files that include it.
PATHS_H := $(B)/gen/paths.h
$(PATHS_H): FORCE
	@mkdir -p $(B)/gen
	@printf '#define NS_VERSION "%s"\n#define NS_SYSCONFDIR "%s"\n#define NS_USER "%s"\n' \
	    '$(VERSION)' '$(SYSCONFDIR)' '$(NS_USER)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:

$(B)/gen/netstream.pb-c.c $(B)/gen/netstream.pb-c.h: proto/netstream.proto
	@mkdir -p $(B)/gen
	protoc-c --proto_path=proto --c_out=$(B)/gen $<

# every object waits for the generated header
$(B)/%.o: %.c | $(B)/gen/netstream.pb-c.h $(PATHS_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/gen/netstream.pb-c.o: $(GEN_C)
	$(CC) $(filter-out -Wmissing-prototypes,$(CFLAGS)) -c -o $@ $<

$(LIBNS): $(LIB_OBJ)
	$(AR) rcs $@ $^

# the config library as an archive for exportd and sampled, which read only
# their -c file's run_dir and endpoints (conf_bootstrap)
LIBCONF := $(B)/libconf.a
$(LIBCONF): $(CONF_OBJ)
	$(AR) rcs $@ $^

define prog
$(1)_OBJ := $$(patsubst %.c,$(B)/%.o,$$(wildcard $(1)/*.c))
$(B)/bin/$(1): $$($(1)_OBJ) $$($(1)_EXTRA) $(LIBNS)
	@mkdir -p $(B)/bin
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$($(1)_LIBS) $$(LDLIBS)
endef
cfgd_EXTRA := $(CONF_OBJ)
nsctl_EXTRA := $(CONF_OBJ)
exportd_EXTRA := $(LIBCONF)
sampled_EXTRA := $(LIBCONF)
nsctl_LIBS := $(MHD_LIBS)
$(foreach p,$(PROGS),$(eval $(call prog,$(p))))

define tool
$(B)/bin/$(1): $(patsubst %.c,$(B)/%.o,$(wildcard tools/$(1).c tools/$(1)/*.c)) $(LIBNS)
	@mkdir -p $(B)/bin
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool,$(t))))

# Unit tests: tests/unit/test_X.c, linked with the units that
# tests/unit/test_X.mk names in test_X_UNITS (sources), plus libns.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
-include $(wildcard tests/unit/*.mk)
define unit
$(B)/tests/$(1): $(B)/tests/unit/$(1).o $$(patsubst %.c,$(B)/%.o,$$($(1)_UNITS)) $(LIBNS)
	@mkdir -p $(B)/tests
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) -lcmocka
endef
$(foreach t,$(patsubst tests/unit/%.c,%,$(UNIT_SRC)),$(eval $(call unit,$(t))))

deps:
	@tools/install-deps

unit: $(UNIT_BIN)
	@tests/run-unit $(B)

test: deps
	@$(MAKE) --no-print-directory all unit
	@NS_BUILD=$(B) tests/run-all

run: deps
	@$(MAKE) --no-print-directory all
	@NS_BUILD=$(B) tools/demo

bench: deps
	@$(MAKE) --no-print-directory all
	@NS_BUILD=$(B) bench/run

# 10 minutes of replay in a loop (SOAK_SECONDS): flat memory, no loss
soak: deps
	@$(MAKE) --no-print-directory all
	@NS_BUILD=$(B) bench/soak

# deliberate bugs the tests must catch (tests/mutate/mutations), each in a
# copy of the tree; MUTATE=NAME runs one (or a few, space separated)
mutate: deps
	@tests/mutate/run $(MUTATE)

fmt:
	clang-format -i $(wildcard */*.c */*.h tools/*/*.c tools/*/*.h)

clean:
	rm -rf build build-san

.PHONY: all deps unit test run bench soak mutate fmt clean FORCE
.SECONDARY:

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)

# ---- install, uninstall, deb ----
# `make install` puts the daemons in $(SBINDIR), nsctl in $(BINDIR), the
# systemd units (written from etc/systemd/*.in with these paths), the
# netstreamd system user (sysusers.d), the man pages, and the example config with its routes table in $(SYSCONFDIR)
# (/etc/netstreamd, where cfgd's units and nsctl keygen look; a config
# already there is kept). `make uninstall` removes what install put (the
# config only while it is the example, unchanged). `make deb` builds
# $(B)/netstreamd_$(VERSION)_ARCH.deb from the same install (tools/mkdeb).
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR ?= /etc/netstreamd
VERSION    ?= 0.1.0
# the system user the units run the daemons as (sysusers.d), whose run
# directory nsctl trusts
NS_USER    ?= netstreamd
DAEMONS    := cfgd sampled exportd
UNIT_IN    := $(wildcard etc/systemd/*.in)
UNITS      := $(notdir $(UNIT_IN:.in=)) netstreamd.target
MAN8       := $(wildcard man/*.8)
MAN5       := $(wildcard man/*.5)
ETC_FILES  := netstreamd.conf routes.txt
SUBST      := -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
              -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(addprefix $(B)/bin/,$(DAEMONS)) $(DESTDIR)$(SBINDIR)
	install -m 0755 $(B)/bin/nsctl $(DESTDIR)$(BINDIR)
	for u in $(notdir $(UNIT_IN)); do \
	    sed $(SUBST) etc/systemd/$$u >$(DESTDIR)$(UNITDIR)/$${u%.in} && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$${u%.in} || exit 1; done
	install -m 0644 etc/systemd/netstreamd.target $(DESTDIR)$(UNITDIR)
	install -m 0644 etc/sysusers.d/netstreamd.conf $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	@mkdir -p $(B)
	sed 's|"etc/routes.txt"|"$(SYSCONFDIR)/routes.txt"|' etc/netstreamd.conf \
	    >$(B)/netstreamd.conf
	cp etc/routes.txt $(B)/routes.txt
	for f in $(ETC_FILES); do \
	    if [ -e $(DESTDIR)$(SYSCONFDIR)/$$f ]; then \
	        echo "kept $(DESTDIR)$(SYSCONFDIR)/$$f (it is there already)"; \
	    else install -m 0644 $(B)/$$f $(DESTDIR)$(SYSCONFDIR)/$$f || exit 1; fi; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(DAEMONS)) \
	    $(DESTDIR)$(BINDIR)/nsctl $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
	    $(DESTDIR)$(SYSUSERSDIR)/netstreamd.conf \
	    $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	@mkdir -p $(B)
	@sed 's|"etc/routes.txt"|"$(SYSCONFDIR)/routes.txt"|' etc/netstreamd.conf \
	    >$(B)/netstreamd.conf
	@cp etc/routes.txt $(B)/routes.txt
	@for f in $(ETC_FILES); do \
	    if cmp -s $(B)/$$f $(DESTDIR)$(SYSCONFDIR)/$$f; then \
	        rm -f $(DESTDIR)$(SYSCONFDIR)/$$f; \
	    elif [ -e $(DESTDIR)$(SYSCONFDIR)/$$f ]; then \
	        echo "kept $(DESTDIR)$(SYSCONFDIR)/$$f (changed since install)"; fi; \
	done
	@rmdir $(DESTDIR)$(SYSCONFDIR) 2>/dev/null || true

deb: all
	@tools/mkdeb $(B) $(VERSION)

.PHONY: install uninstall deb

# ---- fuzzing (tests/fuzz/) ----
# `make fuzz` builds each tests/fuzz/fuzz_*.c with clang, libFuzzer, ASan
# and UBSan into $(FZ)/ and runs it FUZZ_SECONDS against its corpus; it
# fails on a crash. `make fuzz-build` only builds: tests/fuzz/run replays
# the corpus and regress inputs with these binaries in `make test`. A tree
# and compiler of their own, so the gcc build never sees these sources.
FZ           ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link -MMD -MP -Iinclude -I$(FZ)/gen \
                $(PKG_CFLAGS)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(addprefix $(FZ)/bin/,$(FUZZ_TARGETS))
FUZZ_LIBNS   := $(FZ)/libns.a

# what each target drives, besides lib/ (libns)
fuzz_decode_SRC   := sampled/decode.c
fuzz_config_SRC   := $(CONF_SRC)
fuzz_envelope_SRC := exportd/dest.c exportd/send.c exportd/options.c \
                     exportd/xpkt.c exportd/v9.c exportd/ipfix.c \
                     exportd/ack.c exportd/times.c exportd/stream.c
fuzz_cdecode_SRC  :=
fuzz_vrp_SRC      := $(CONF_SRC) nsctl/vrp_import.c nsctl/vrp_parse.c \
                     nsctl/vrp_apply.c nsctl/vrp_ext.c nsctl/vrp_export.c
fuzz_plan_SRC     := exportd/params.c sampled/plan.c sampled/sampler.c \
                     sampled/cache.c sampled/fields.c sampled/push.c \
                     sampled/capture.c sampled/live.c sampled/gso.c sampled/decode.c \
                     sampled/workers.c sampled/clock.c sampled/devwatch.c
# batch_check() is declared in exportd.h
$(FZ)/tests/fuzz/fuzz_envelope.o: FUZZ_CFLAGS += -Iexportd
$(FZ)/tests/fuzz/fuzz_plan.o: FUZZ_CFLAGS += -Iexportd -Isampled

$(FZ)/gen/netstream.pb-c.c $(FZ)/gen/netstream.pb-c.h: proto/netstream.proto
	@mkdir -p $(FZ)/gen
	protoc-c --proto_path=proto --c_out=$(FZ)/gen $<

$(FZ)/gen/netstream.pb-c.o: $(FZ)/gen/netstream.pb-c.c
	$(FUZZ_CC) $(filter-out -Wmissing-prototypes,$(FUZZ_CFLAGS)) -c -o $@ $<

$(FZ)/%.o: %.c | $(FZ)/gen/netstream.pb-c.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIBNS): $(patsubst %.c,$(FZ)/%.o,$(LIB_SRC)) $(FZ)/gen/netstream.pb-c.o
	$(AR) rcs $@ $^

define fuzz_target
$(FZ)/bin/$(1): $(FZ)/tests/fuzz/$(1).o $$(patsubst %.c,$(FZ)/%.o,$$($(1)_SRC)) $(FUZZ_LIBNS)
	@mkdir -p $(FZ)/bin
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $(PKG_LIBS) -lm -lpthread
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))

fuzz-build: $(FUZZ_BINS)
	@:

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@NS_FUZZ_BUILD=$(FZ) tests/fuzz/run --fuzz $(FUZZ_SECONDS)

fuzz-clean:
	rm -rf $(FZ)

.PHONY: fuzz fuzz-build fuzz-clean

-include $(wildcard $(FZ)/*/*.d $(FZ)/*/*/*.d)
