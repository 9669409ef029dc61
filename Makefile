# mod_errwatch build, tests and demo.
#
#   make          build .libs/mod_errwatch.so with apxs
#   make run      start a throwaway Apache with the module on 127.0.0.1:$(PORT)
#   make test     unit tests (Check), then integration tests against real apache2,
#                 then a smoke run of the benchmark harness
#   make bench    the benchmarks (~9 min): bench/out/bench-last.md; see BENCHMARKS.md
#   make install  install the module and conf/errwatch.{load,conf} for a2enmod
#
# `make run` and `make test` install missing Debian packages themselves.

APXS ?= apxs
PORT ?= 8080
CC ?= cc

# Packages the build, the demo and the tests need (Debian 12).
DEB_PACKAGES = gcc libc6-dev make apache2 apache2-dev libapache2-mod-php php-cli php-fpm check pkg-config \
	curl jq perl libjson-pp-perl prometheus python3-prometheus-client \
	wrk valgrind apache2-utils iproute2

# Pure C parts: no httpd.h. Linked into the module and into the unit tests.
PURE_SRC = src/store.c src/buf.c src/escape.c src/format_auto.c src/format_json.c \
	src/format_html.c src/format_metrics.c src/format_time.c src/net.c src/attribution.c src/query.c
# httpd glue.
HTTPD_SRC = mod_errwatch.c src/config.c src/capture.c src/status_handler.c src/shm.c \
	src/server_stats.c src/status_hook.c

HEADERS = $(wildcard include/*.h)

STD_FLAGS = -std=c11 -D_GNU_SOURCE
WARN_FLAGS = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-align -Wformat=2 -Wundef -Wvla
# -Wconversion is applied to the pure parts; httpd's and APR's macros trip it
# in the glue.
PURE_WARN_FLAGS = $(WARN_FLAGS) -Wconversion -Wsign-conversion

MODULE = .libs/mod_errwatch.so

.PHONY: all deps run test unit unit-sanitize unit-valgrind memcheck integration bench bench-smoke \
	bench-store install \
	clean format check-format

all: $(MODULE)

# apxs passes -Wc,X to the compiler and -Wl,X to the linker. The version
# script keeps every symbol but errwatch_module local.
$(MODULE): $(PURE_SRC) $(HTTPD_SRC) $(HEADERS) errwatch.map
	$(APXS) -c -o mod_errwatch.la -I include \
	    $(foreach f,$(STD_FLAGS) $(WARN_FLAGS),-Wc,$(f)) \
	    -Wl,-Wl,--version-script=$(CURDIR)/errwatch.map \
	    $(HTTPD_SRC) $(PURE_SRC) >build.log 2>&1 || { cat build.log; exit 1; }
	@grep -E '(warning|error):' build.log || true
	@rm -f build.log

# Install whatever Debian packages are missing (needs root, as on CI).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run: deps
	@$(MAKE) --no-print-directory all
	@PORT=$(PORT) tools/demo.sh

# ---- unit tests (Check), linked against the pure sources only ----
UNIT_CFLAGS = $(STD_FLAGS) $(PURE_WARN_FLAGS) -g -O1 -I include -DEW_STORE_TESTING \
	$(shell pkg-config --cflags apr-1 check 2>/dev/null)
UNIT_LIBS = $(shell pkg-config --libs apr-1 check 2>/dev/null) -pthread

build/unit_tests: $(PURE_SRC) $(wildcard t/unit/*.c t/unit/*.h) $(HEADERS)
	@mkdir -p build
	$(CC) $(UNIT_CFLAGS) -I t/unit -o $@ $(wildcard t/unit/*.c) $(PURE_SRC) $(UNIT_LIBS)

unit: deps build/unit_tests
	CK_DEFAULT_TIMEOUT=60 build/unit_tests

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer; any
# report fails the run (Check's forked test processes report it as an error).
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
build/unit_tests_sanitized: $(PURE_SRC) $(wildcard t/unit/*.c t/unit/*.h) $(HEADERS)
	@mkdir -p build
	$(CC) $(UNIT_CFLAGS) $(SANITIZE_FLAGS) -I t/unit -o $@ $(wildcard t/unit/*.c) $(PURE_SRC) \
	    $(UNIT_LIBS)

unit-sanitize: deps build/unit_tests_sanitized
	CK_DEFAULT_TIMEOUT=120 ASAN_OPTIONS=detect_leaks=0 build/unit_tests_sanitized

# The unit tests under valgrind's memcheck.
unit-valgrind: deps build/unit_tests
	CK_DEFAULT_TIMEOUT=300 valgrind --error-exitcode=1 --leak-check=no --quiet build/unit_tests

# The module inside a real apache2 -X under valgrind's memcheck: every failure
# case and status format, then SIGTERM; fails on any error or leak in module
# code. Not part of `make test`. See the top of tools/memcheck.sh.
memcheck: deps all
	@$(MAKE) --no-print-directory -C t/modules
	tools/memcheck.sh

integration: deps all
	@$(MAKE) --no-print-directory -C t/modules
	prove -v t/integration/

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-sanitize
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory bench-smoke

# Benchmarks (BENCHMARKS.md has the figures and the method). bench-smoke runs
# each part for a few seconds to check that the harness works, not timings.
bench: deps all
	@$(MAKE) --no-print-directory -C t/modules
	bench/run.sh

bench-smoke: deps all
	@$(MAKE) --no-print-directory -C t/modules
	SMOKE=1 bench/run.sh

# Store micro-benchmark (lock hold times); see bench/README.md.
build/store_bench: bench/store_bench.c $(PURE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(STD_FLAGS) $(PURE_WARN_FLAGS) -O2 -I include $(shell pkg-config --cflags apr-1) \
	    -o $@ bench/store_bench.c $(PURE_SRC) $(UNIT_LIBS)

bench-store: build/store_bench
	build/store_bench 1024 256
	build/store_bench 100000 256

install: all
	install -d $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR) $(DESTDIR)/etc/apache2/mods-available
	install -m 644 $(MODULE) $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR)/mod_errwatch.so
	install -m 644 conf/errwatch.load conf/errwatch.conf $(DESTDIR)/etc/apache2/mods-available/
	@echo "now: a2enmod errwatch && apachectl configtest && systemctl reload apache2"

format:
	clang-format -i mod_errwatch.c src/*.c include/*.h t/unit/*.c t/modules/*.c

check-format:
	clang-format --dry-run -Werror mod_errwatch.c src/*.c include/*.h t/unit/*.c t/modules/*.c

clean:
	rm -rf .libs build src/.libs t/tmp *.la *.lo *.slo *.o src/*.la src/*.lo src/*.slo src/*.o
	@$(MAKE) --no-print-directory -C t/modules clean 2>/dev/null || true
