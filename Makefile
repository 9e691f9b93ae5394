# tebiki -- GNU make, no configure; libraries through pkg-config.
#
#   make            build ./tebiki
#   make check      ASan+UBSan build with -Werror, then the whole test suite
#   make test       the test suite against the normal build
#   make valgrind   the test suite with every tebiki run under valgrind
#   make site       build the example handbook into public/
#   make deps       install missing Debian packages (apt-get)
#   make bench      benchmarks (figures and ratios, nothing asserted)
#   make fuzz       libFuzzer targets (clang), FUZZ_TIME seconds each
#   make install    PREFIX=/usr/local DESTDIR=

PROG        = tebiki
VERSION     = 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SHAREDIR   ?= $(PREFIX)/share/tebiki
MANDIR     ?= $(PREFIX)/share/man
PKG_CONFIG ?= pkg-config
PKGS        = libcmark-gfm yaml-0.1 lua5.4 libutf8proc libmicrohttpd
WARN        = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wold-style-definition -Wwrite-strings -Wformat=2 -Wvla \
              -Wno-unused-parameter -fno-common
CFLAGS     ?= -O2 -g
XCFLAGS     = -std=c11 -ffp-contract=off -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE $(WARN) -MMD -MP \
              -DTEBIKI_VERSION='"$(VERSION)"' -DTEBIKI_SHAREDIR='"$(SHAREDIR)"' \
              $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LIBS        = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) \
              -lcmark-gfm-extensions -lpthread -lm
SAN         = -fsanitize=address,undefined -fno-sanitize-recover=all

-include config.mk

B          ?= build
LIBSRC      = $(sort $(filter-out generator/main.c,$(wildcard generator/*.c)))
LIBOBJ      = $(LIBSRC:generator/%.c=$(B)/obj/%.o)
UNITSRC     = $(sort $(wildcard tests/unit/test_*.c))
UNITBIN     = $(UNITSRC:tests/unit/%.c=$(B)/tests/%)
TOOLSRC     = $(sort $(wildcard tests/tools/*.c))
TOOLBIN     = $(TOOLSRC:tests/tools/%.c=$(B)/tools/%)

.PHONY: all check test valgrind site deps bench fuzz install clean format lint \
        unit tools

all: $(PROG)

$(PROG): $(B)/tebiki
	cp $(B)/tebiki $(PROG)

# the Lua half of the filter API, compiled in as a string
generator/luaprelude.c: generator/prelude.lua scripts/lua2c.sh
	sh scripts/lua2c.sh

$(B)/obj/%.o: generator/%.c
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(CFLAGS) -Igenerator -c $< -o $@

$(B)/libtebiki.a: $(LIBOBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(B)/tebiki: $(B)/obj/main.o $(B)/libtebiki.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(B)/obj/main.o $(B)/libtebiki.a $(LIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/harness.h $(B)/libtebiki.a
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(CFLAGS) -Igenerator -Itests/unit -o $@ $< \
	    $(B)/libtebiki.a $(LIBS)

$(B)/tools/%: tests/tools/%.c $(B)/libtebiki.a
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(CFLAGS) -Igenerator -o $@ $< $(B)/libtebiki.a $(LIBS)

unit: $(UNITBIN)
tools: $(TOOLBIN)

# The whole suite against the binaries in $(B).
test: $(B)/tebiki $(UNITBIN) $(TOOLBIN)
	@TEBIKI_BUILD=$(B) sh tests/run.sh

check:
	@$(MAKE) --no-print-directory B=build-check \
	    CFLAGS="-g -O1 $(SAN) -Werror" LDFLAGS="$(SAN)" \
	    build-check/tebiki unit tools
	@TEBIKI_BUILD=build-check sh tests/run.sh

valgrind: all unit tools
	TEBIKI_BUILD=$(B) TEBIKI_VALGRIND="valgrind -q --leak-check=full \
	    --errors-for-leak-kinds=definite --error-exitcode=99" sh tests/run.sh

site: $(PROG)
	./$(PROG) build

deps:
	sh scripts/deps.sh

bench: $(PROG) tools
	sh tests/bench/run.sh

FUZZ_TIME ?= 60
fuzz:
	sh tests/fuzz/run.sh $(FUZZ_TIME)

install: $(PROG)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/$(PROG)
	cp -R themes filters catalogs schema $(DESTDIR)$(SHAREDIR)/
	install -m 644 docs/tebiki.1 $(DESTDIR)$(MANDIR)/man1/tebiki.1

format:
	clang-format -i generator/*.c generator/*.h

lint:
	clang-tidy --warnings-as-errors='*' generator/*.c -- $(XCFLAGS) -Igenerator

clean:
	rm -rf build build-check $(PROG)

-include $(LIBOBJ:.o=.d) $(B)/obj/main.d
