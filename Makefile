# carpd and syncd: failover for Linux firewall pairs.
# Plain make; dependencies through pkg-config. V=1 for verbose output,
# SAN=1 for an AddressSanitizer + UndefinedBehaviorSanitizer build.

PREFIX	?= /usr/local
DESTDIR	?=
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

# The one place the version is set; debian/changelog carries the same one
# (tests/netns/test_deb.sh and debian/rules check that they agree).
VERSION	:= 0.9.0

CC	?= cc
PKG_CONFIG ?= pkg-config
PKGS	:= libpcap libmnl libnetfilter_conntrack libsodium nettle \
	   libcap-ng libsystemd libmicrohttpd
OPT	?= -O2 -g
CFLAGS	?= $(OPT)
WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -DVERSION=\"$(VERSION)\" -I. -Icommon -Iproto
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) \
	     $(CPPFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
LIBS	:= $(PKG_LIBS) -lm

B	?= build
export B

ifeq ($(V),1)
Q :=
else
Q := @
endif

COMMON_SRCS := $(wildcard common/*.c)
PROTO_SRCS  := $(wildcard proto/*.c)
CARPD_SRCS  := $(filter-out carpd/main.c,$(wildcard carpd/*.c))
SYNCD_SRCS  := $(filter-out syncd/main.c,$(wildcard syncd/*.c))
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRCS   := $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

LIBCOMMON := $(B)/libcommon.a
LIBPROTO  := $(B)/libproto.a
LIBCARPD  := $(B)/libcarpd.a
LIBSYNCD  := $(B)/libsyncd.a
DLIBS     := $(LIBCARPD) $(LIBSYNCD) $(LIBPROTO) $(LIBCOMMON)

UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/tests/fuzz/%,$(FUZZ_SRCS))
TOOL_BINS := $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRCS))

.PHONY: all deps check check-run unit test-bins demo demo-run bench \
	bench-run soak soak-run soak-check fuzz install clean asan format deb deb-run version \
	lint
all: carpd/carpd syncd/syncd

.SECONDEXPANSION:
.SECONDARY:

# Rebuild everything when the compiler flags change (e.g. SAN=1 vs not).
FLAGS_STAMP := $(B)/.flags
$(shell mkdir -p $(B); echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' | \
	cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)' > $(FLAGS_STAMP))

$(B)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRCS))
$(LIBPROTO): $(call obj,$(PROTO_SRCS))
$(LIBCARPD): $(call obj,$(CARPD_SRCS))
$(LIBSYNCD): $(call obj,$(SYNCD_SRCS))
$(B)/%.a:
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^ && ranlib $@

# Binaries are linked in $(B)/bin; the default build also copies them to
# carpd/carpd and syncd/syncd. Another B= keeps a separate tree (e.g. a
# sanitizer build beside the normal one).
$(B)/bin/carpd: $(B)/carpd/main.o $(LIBCARPD) $(LIBPROTO) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bin/syncd: $(B)/syncd/main.o $(LIBSYNCD) $(LIBPROTO) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

carpd/carpd syncd/syncd: %: $(B)/bin/$$(notdir %)
	$(Q)cp $< $@

$(B)/tests/unit/%.o: tests/unit/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -Icarpd -Isyncd -c -o $@ $<

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(DLIBS)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(DLIBS) $(LIBS) $(CMOCKA_LIBS)

# Fuzz targets: libFuzzer entry points. Without clang they are driven by
# tests/fuzz/driver.c (corpus + random mutations) for the smoke test.
$(B)/tests/fuzz/driver.o: tests/fuzz/driver.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(B)/tests/fuzz/%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/driver.o $(DLIBS)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/tests/fuzz/driver.o $(DLIBS) $(LIBS)

$(B)/tools/%: tests/tools/%.c $(LIBPROTO) $(LIBCOMMON) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Isyncd -Icarpd $(ALL_LDFLAGS) -o $@ $< \
	    $(LIBSYNCD) $(LIBPROTO) $(LIBCOMMON) $(LIBS) -lpthread

$(TOOL_BINS): $(LIBSYNCD)

test-bins: all $(UNIT_BINS) $(FUZZ_BINS) $(TOOL_BINS)

deps:
	@sh scripts/deps.sh

# The whole test suite: unit, fuzz smoke, network-namespace integration.
# TESTS=pattern narrows it (e.g. make check TESTS=carpd).
# check and demo first install what is missing (scripts/deps.sh), then
# build in a fresh make that sees the installed libraries.
check:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory check-run

check-run: test-bins
	@sh tests/run.sh $(TESTS)

unit: test-bins
	@sh tests/run.sh --unit $(TESTS)

asan:
	$(MAKE) SAN=1 check

demo:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory demo-run

demo-run: all $(TOOL_BINS)
	@sh tests/demo.sh

bench:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory bench-run

bench-run: all $(TOOL_BINS)
	@sh tests/bench.sh

# The chaos soak: SOAK_S seconds (default 600) of faults under load,
# SOAK_SEED the schedule; exit 0 only when nothing was lost.
soak:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory soak-run

soak-run: all $(TOOL_BINS)
	@sh tests/soak/soak.sh

# The 90 s soak with a fixed seed, TAP lines and N passed, N failed (make
# check runs it as soak/check).
soak-check: all $(TOOL_BINS)
	@sh tests/soak/check.sh

# Coverage-guided fuzzing with clang's libFuzzer: FUZZ_TIME seconds each.
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
fuzz:
	@sh tests/fuzz/run-libfuzzer.sh "$(FUZZ_CC)" "$(FUZZ_TIME)"

# Installs the binaries of this B= tree (not the carpd/carpd copies, which
# may come from another tree).
install: $(B)/bin/carpd $(B)/bin/syncd
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR)
	install -m 755 $(B)/bin/carpd $(B)/bin/syncd $(DESTDIR)$(SBINDIR)
	install -m 644 docs/carpd.8 docs/syncd.8 $(DESTDIR)$(MANDIR)/man8
	install -m 644 docs/carpd.conf.5 docs/syncd.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5
	for u in docs/systemd/*.service; do \
	    sed 's|@SBINDIR@|$(SBINDIR)|g' $$u > \
	    $(DESTDIR)$(UNITDIR)/$$(basename $$u); done

# Debian packages carpd and syncd (dpkg-buildpackage in a copy of the tree;
# the .debs end up in DEBOUT, which it prints).
DEBOUT	?= $(B)/deb
deb:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory deb-run

deb-run:
	@sh scripts/mkdeb.sh "$(DEBOUT)"

version:
	@echo $(VERSION)
# make format rewrites and make lint checks the same files: the C sources
# and headers of the daemons, their libraries and the tests.
LINT_SRCS := $(wildcard common/*.[ch] proto/*.[ch] carpd/*.[ch] \
	     syncd/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] tests/tools/*.[ch])
CLANG_FORMAT ?= clang-format
CPPCHECK ?= cppcheck
# variableScope is off: KNF declares the locals at the top of a function.
CPPCHECK_FLAGS ?= -q --std=c11 --enable=warning,style,performance,portability \
	--suppress=variableScope --library=posix --inline-suppr \
	--error-exitcode=1 -D_GNU_SOURCE -I. -Icommon -Iproto -Icarpd -Isyncd

format:
	$(CLANG_FORMAT) -i $(LINT_SRCS)

# Formatting as .clang-format describes it, then the static analyser.
lint:
	@for t in $(CLANG_FORMAT) $(CPPCHECK); do command -v $$t >/dev/null || \
	    { echo "lint: $$t not found (make deps installs it)" >&2; \
	    exit 1; }; done
	$(Q)$(CLANG_FORMAT) --dry-run -Werror $(LINT_SRCS)
	@echo "lint: $(CLANG_FORMAT): $(words $(LINT_SRCS)) files as .clang-format says"
	$(Q)$(CPPCHECK) $(CPPCHECK_FLAGS) $(filter %.c,$(LINT_SRCS))
	@echo "lint: $(CPPCHECK): no findings"

clean:
	rm -rf $(B) carpd/carpd syncd/syncd

-include $(shell find $(B) -name '*.d' 2>/dev/null)
