# mod_errwatch build, tests and demo.
#
#   make          build .libs/mod_errwatch.so with apxs
#   make run      start a throwaway Apache with the module on 127.0.0.1:$(PORT)
#   make test     everything below that tests: unit tests (Check), under valgrind,
#                 integration tests against real apache2, make sanitize, make lint,
#                 make fuzz, then a smoke run of the benchmark harness
#   make sanitize unit + integration tests with the module under ASan + UBSan
#   make fuzz     every libFuzzer target for FUZZ_SECONDS (default 10) each
#   make lint     cppcheck and clang-tidy over src/, mod_errwatch.c, include/
#   make bench    the benchmarks (~9 min): bench/out/bench-last.md; see BENCHMARKS.md
#   make deb      dist/libapache2-mod-errwatch_<version>_<arch>.deb (debian/, lintian-clean)
#   make deb-test install, use, a2dismod and purge the .deb in a Debian 12 chroot
#   make rules    promtool check + test of conf/prometheus/errwatch.rules.yml
#   make install  install the module and conf/errwatch.{load,conf} for a2enmod
#   make php-check DOCROOT=/var/www/html   php -l and missing includes (tools/php-precheck)
#
# `make run` and `make test` install missing Debian packages themselves.

APXS ?= apxs
PORT ?= 8080
CC ?= cc

# Packages the build, the demo and the tests need (Debian 12).
DEB_PACKAGES = gcc libc6-dev make apache2 apache2-dev libapache2-mod-php php-cli php-fpm check pkg-config \
	curl jq perl libjson-pp-perl prometheus python3-prometheus-client apache2-utils iproute2 \
	clang libclang-rt-14-dev llvm valgrind cppcheck clang-tidy wrk debhelper dpkg-dev build-essential lintian debootstrap \
	libapache2-mod-wsgi-py3 chromium prometheus-apache-exporter nghttp2-client openssl mtail
# apache2-utils (ab), iproute2: load and remote-client tests; clang +
# libclang-rt-14-dev: make fuzz and make sanitize (llvm: the symbolizer for
# their stacks); valgrind: unit-valgrind, memcheck, bench; cppcheck,
# clang-tidy: make lint; wrk: bench; debhelper, dpkg-dev, build-essential,
# lintian, debootstrap: make deb and deb-test; libapache2-mod-wsgi-py3: the
# threaded crash test; chromium: the page in a real browser (63-timeline.t,
# 82-proxy-access.t); prometheus-apache-exporter: the real scraper of ?auto
# (82-proxy-access.t) and bench/compare.sh's mod_status set-up; mtail: the
# access-log tailer of bench/compare.sh; nghttp2-client (h2load), openssl
# (a throwaway certificate): HTTP/2 streams (67-http2.t).

# Pure C parts: no httpd.h. Linked into the module and into the unit tests.
PURE_SRC = src/access.c src/cause.c src/ids.c src/store_causes.c src/story.c src/excerpt.c src/store.c src/store_slots.c src/buf.c src/escape.c src/format_auto.c src/format_json.c src/format_chart.c \
	src/format_html.c src/format_metrics.c src/format_time.c src/net.c src/attribution.c src/query.c \
	src/format_tail.c src/tail_wait.c src/store_persist.c src/store_history.c src/accept.c
# httpd glue.
HTTPD_SRC = mod_errwatch.c src/config.c src/capture.c src/crash.c src/status_handler.c src/shm.c src/tail.c \
	src/server_stats.c src/status_hook.c src/status_map.c src/persist.c src/version.c

HEADERS = $(wildcard include/*.h src/*.h)

STD_FLAGS = -std=c11 -D_GNU_SOURCE
WARN_FLAGS = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-align -Wformat=2 -Wundef -Wvla
# -Wconversion is applied to the pure parts; httpd's and APR's macros trip it
# in the glue.
PURE_WARN_FLAGS = $(WARN_FLAGS) -Wconversion -Wsign-conversion

MODULE = .libs/mod_errwatch.so

.PHONY: all deps php-check run test unit unit-sanitize unit-valgrind memcheck integration bench bench-smoke \
	bench-store bench-slots bench-lock bench-cause fuzz-state-seeds install clean rules deb deb-test version-check format check-format fuzz fuzz-build \
	sanitize sanitize-module lint

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

# Pre-deploy check of a PHP tree; needs only php-cli. PRECHECK_FLAGS=--json
# for machine-readable output. See docs/php-precheck.md.
php-check:
	@if [ -z "$(DOCROOT)" ]; then \
	    echo "php-check: give the tree to check: make php-check DOCROOT=/var/www/html" >&2; exit 2; fi
	@if [ ! -d "$(DOCROOT)" ]; then echo "php-check: DOCROOT '$(DOCROOT)' is not a directory" >&2; exit 2; fi
	@$(MAKE) --no-print-directory deps DEB_PACKAGES=php-cli
	@tools/php-precheck $(PRECHECK_FLAGS) "$(DOCROOT)"

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

# The same tests under AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer (clang, as for the module); any report fails the
# run (Check's forked test processes report it as an error).
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
build/unit_tests_sanitized: $(PURE_SRC) $(wildcard t/unit/*.c t/unit/*.h) $(HEADERS)
	@mkdir -p build
	$(SAN_CC) $(UNIT_CFLAGS) $(SANITIZE_FLAGS) -I t/unit -o $@ $(wildcard t/unit/*.c) $(PURE_SRC) \
	    $(UNIT_LIBS)

unit-sanitize: deps build/unit_tests_sanitized
	CK_DEFAULT_TIMEOUT=120 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    build/unit_tests_sanitized

# ---- make sanitize: the module and the unit tests under ASan + UBSan ----
# The module is built with clang from a copy of the sources in
# build/sanitize (libtool writes its objects next to the sources, so
# building in place would clobber the normal .libs/mod_errwatch.so). apache2
# itself is not instrumented: the harness starts it with the ASan runtime in
# LD_PRELOAD (ERRWATCH_PRELOAD), which also carries UBSan's handlers, and
# with an empty PHP_INI_SCAN_DIR, because the ASan runtime refuses
# opcache's dlopen(RTLD_DEEPBIND). Every report fails the run: UBSan halts
# on the first error, and the harness flags sanitizer lines in the error log
# (t/lib/ErrWatchTest.pm, sanitizer_reports). See t/sanitize/README.md.
SAN_CC ?= clang
# The integration files run against the sanitized module: all but the load
# and timing files (70, 71, 79), whose code paths the others and the
# sanitized unit tests already cover, and which take a third of the time
# under ASan, and the fleet file (83), which tests the Prometheus rules
# with ?metrics requests that 40-metrics-status.t already sanitizes. `make sanitize SANITIZE_TESTS=t/integration/71-restart-load.t`
# runs any file.
SANITIZE_SKIP = 70-load.t 71-restart-load.t 79-no-false-crash.t 83-fleet.t
SANITIZE_TESTS ?= $(filter-out $(addprefix t/integration/,$(SANITIZE_SKIP)),$(sort $(wildcard t/integration/*.t)))
SAN_DIR = build/sanitize
SAN_MODULE = $(SAN_DIR)/.libs/mod_errwatch.so
SAN_RUNTIME = $(shell $(SAN_CC) -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
# clang flags httpd's {NULL} command_rec terminator as a missing initializer.
SAN_COMPILE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
	-g -O1 -Wno-missing-field-initializers
# The harness gives each server a copy of lsan.supp in its world-readable
# temp dir (the children, as www-data, cannot read a checkout under /root).
SAN_ENV = ASAN_OPTIONS=detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/t/sanitize/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ERRWATCH_SANITIZE=1 ERRWATCH_SO=$(CURDIR)/$(SAN_MODULE) ERRWATCH_PRELOAD=$(SAN_RUNTIME)

$(SAN_MODULE): $(PURE_SRC) $(HTTPD_SRC) $(HEADERS) errwatch.map
	@rm -rf $(SAN_DIR) && mkdir -p $(SAN_DIR)
	cp --parents $(HTTPD_SRC) $(PURE_SRC) $(wildcard src/*.h) $(SAN_DIR)/
	cd $(SAN_DIR) && $(APXS) -S CC=$(SAN_CC) -c -o mod_errwatch.la -I $(CURDIR)/include \
	    $(foreach f,$(STD_FLAGS) $(WARN_FLAGS) $(SAN_COMPILE_FLAGS),-Wc,$(f)) \
	    -Wl,-Wl,--version-script=$(CURDIR)/errwatch.map \
	    $(HTTPD_SRC) $(PURE_SRC) >build.log 2>&1 || { cat build.log; exit 1; }

sanitize-module: deps $(SAN_MODULE)

# Unit tests, then the integration suite (SANITIZE_TESTS) against the sanitized module.
sanitize: deps $(SAN_MODULE)
	@$(MAKE) --no-print-directory unit-sanitize
	@nm -D $(SAN_MODULE) | grep -q ' U __asan_report_load' && nm -D $(SAN_MODULE) | grep -q ' U __ubsan_handle' \
	    || { echo "$(SAN_MODULE) is not instrumented"; exit 1; }
	@$(MAKE) --no-print-directory -C t/modules
	$(SAN_ENV) prove $(SANITIZE_TESTS)

# ---- static analysis: cppcheck and clang-tidy (.clang-tidy) ----
# Both must be silent; a finding that stays is suppressed where it occurs
# (cppcheck-suppress / NOLINTNEXTLINE) with the reason next to it.
LINT_FLAGS = $(STD_FLAGS) -DLINUX -D_REENTRANT -DEW_STORE_TESTING -I include \
	-I$(shell $(APXS) -q INCLUDEDIR 2>/dev/null) $(shell pkg-config --cflags-only-I apr-1 2>/dev/null)

lint: deps
	cppcheck --enable=warning,style,performance,portability --std=c11 --inline-suppr \
	    --error-exitcode=1 --quiet -I include -DEW_STORE_TESTING --suppress=missingIncludeSystem \
	    src/ mod_errwatch.c include/
	@mkdir -p build
	@printf '%s\n' $(HTTPD_SRC) $(PURE_SRC) | xargs -P 2 -n 3 sh -c \
	    'clang-tidy --quiet "$$@" -- $(LINT_FLAGS)' sh >build/clang-tidy.log 2>&1; rc=$$?; \
	if [ $$rc -ne 0 ] || grep -qE '(warning|error):' build/clang-tidy.log; then \
	    grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated' build/clang-tidy.log; \
	    echo "clang-tidy: findings above (build/clang-tidy.log)"; exit 1; \
	fi
	@echo "lint: cppcheck and clang-tidy clean"

# The unit tests under valgrind's memcheck. CK_FORK=no runs every test in
# the one process valgrind watches, so that definite and indirect leaks are
# counted as errors too (the tests that fork children of their own still do,
# and valgrind follows them).
VALGRIND_UNIT = CK_FORK=no CK_DEFAULT_TIMEOUT=300 valgrind --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --quiet
unit-valgrind: deps build/unit_tests
	$(VALGRIND_UNIT) build/unit_tests

# The module inside a real apache2 -X under valgrind's memcheck: every failure
# case and status format, then SIGTERM; fails on any error or leak in module
# code. Not part of `make test`. See the top of tools/memcheck.sh.
memcheck: deps all
	@$(MAKE) --no-print-directory -C t/modules
	tools/memcheck.sh

integration: deps all
	@$(MAKE) --no-print-directory -C t/modules
	prove -v t/integration/

# make sanitize runs the sanitized unit tests (unit-sanitize) too.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-valgrind
	@$(MAKE) --no-print-directory rules
	@$(MAKE) --no-print-directory deb-test
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory -j2 fuzz
	@$(MAKE) --no-print-directory bench-smoke

# ---- Debian package (debian/, dh_apache2) ----
# Built from a copy of the tracked files in a temp dir, so the checkout stays
# clean; the .deb lands in dist/. The version lives in include/ew_version.h
# only: debian/changelog must carry the same one (version-check).
EW_VERSION := $(shell sed -n 's/^\#define EW_VERSION "\(.*\)"/\1/p' include/ew_version.h)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE = dist/libapache2-mod-errwatch_$(EW_VERSION)_$(DEB_ARCH).deb

version-check:
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); \
	if [ "$$v" != "$(EW_VERSION)" ]; then \
	    echo "debian/changelog says $$v, include/ew_version.h says $(EW_VERSION)" >&2; exit 1; fi

deb: version-check
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="debhelper apache2-dev dpkg-dev lintian"
	@tmp=$$(mktemp -d /tmp/errwatch-deb.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir "$$tmp/src" && git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t "$$tmp/src" && \
	(cd "$$tmp/src" && dpkg-buildpackage -us -uc -b >"$$tmp/build.log" 2>&1) \
	    || { tail -40 "$$tmp/build.log"; exit 1; }; \
	mkdir -p dist && cp "$$tmp"/libapache2-mod-errwatch_$(EW_VERSION)_$(DEB_ARCH).deb dist/ && \
	lintian --allow-root --fail-on error,warning $(DEB_FILE) && echo "built $(DEB_FILE)"

# The .deb in a throwaway Debian 12 root (debootstrap, cached under
# /var/cache/errwatch-deb-test): install, a recorded PHP 500, a2dismod, purge.
deb-test: deb
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="debootstrap curl jq"
	tools/deb-test.sh $(DEB_FILE)

# Prometheus rules: syntax, then their unit tests (conf/prometheus).
rules: deps
	promtool check rules conf/prometheus/errwatch.rules.yml
	cd conf/prometheus && promtool test rules *.test.yml

# ---- libFuzzer targets (t/fuzz/README.md) ----
# One binary per target, each linked with the pure sources; every target
# checks its format's invariants and aborts on a broken one. `make fuzz` runs
# each for FUZZ_SECONDS from the committed seeds (t/fuzz/corpus/<target>);
# new inputs go to build/fuzz/corpus/<target>, crashes to build/fuzz/artifacts.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_TARGETS = escape time query attribution net format_html format_json format_auto format_metrics \
	tail state story excerpt cause
FUZZ_CFLAGS = $(STD_FLAGS) $(WARN_FLAGS) -g -O1 -I include -I t/fuzz -fno-omit-frame-pointer \
	-fno-sanitize-recover=all $(shell pkg-config --cflags apr-1 2>/dev/null)
FUZZ_SAN = address,undefined
FUZZ_OBJS = $(patsubst %.c,build/fuzz/obj/%.o,$(PURE_SRC) t/fuzz/fuzz_support.c)
# Longest input per target: the formatters read whole snapshots.
FUZZ_MAX_LEN_escape = 4096
FUZZ_MAX_LEN_time = 32
FUZZ_MAX_LEN_query = 1024
FUZZ_MAX_LEN_attribution = 8192
FUZZ_MAX_LEN_net = 32
FUZZ_MAX_LEN_format = 40000
FUZZ_MAX_LEN_state = 20000
FUZZ_MAX_LEN_story = 20000
FUZZ_MAX_LEN_excerpt = 20000
FUZZ_MAX_LEN_cause = 20000

build/fuzz/obj/%.o: %.c $(HEADERS) t/fuzz/fuzz_support.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

build/fuzz/fuzz_%: t/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ \
	    $(shell pkg-config --libs apr-1 2>/dev/null) -pthread

.SECONDARY: $(FUZZ_OBJS)

fuzz-build: deps $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))

# Fails at the first crash, leak, timeout or broken invariant. The targets
# are independent: `make -j2 fuzz` runs two at a time.
fuzz: $(addprefix fuzz-run-,$(FUZZ_TARGETS))

fuzz-run-%: fuzz-build
	@t/fuzz/run.sh $* $(FUZZ_SECONDS) $(or $(FUZZ_MAX_LEN_$*),$(FUZZ_MAX_LEN_format))

# Benchmarks (BENCHMARKS.md has the figures and the method). bench/run.sh runs
# every part (hotpath, throughput, compare, status, memory, store); PARTS=compare
# bench/run.sh runs one. bench-smoke runs each part for a few seconds to check
# that the harness works, not timings.
bench: deps all
	@$(MAKE) --no-print-directory -C t/modules
	bench/run.sh
	@$(MAKE) --no-print-directory bench-slots
	@$(MAKE) --no-print-directory bench-lock
	@$(MAKE) --no-print-directory bench-cause

bench-smoke: deps all
	@$(MAKE) --no-print-directory -C t/modules
	SMOKE=1 bench/run.sh
	@$(MAKE) --no-print-directory build/slots_bench
	build/slots_bench 2 1000000

# Store micro-benchmark (lock hold times); see bench/README.md.
build/store_bench: bench/store_bench.c bench/bench_failure.h $(PURE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(STD_FLAGS) $(PURE_WARN_FLAGS) -O2 -I include $(shell pkg-config --cflags apr-1) \
	    -o $@ bench/store_bench.c $(PURE_SRC) $(UNIT_LIBS)

# Per-worker slots against shared atomics, 2 processes (issue 11).
build/slots_bench: bench/slots_bench.c $(PURE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(STD_FLAGS) $(PURE_WARN_FLAGS) -O2 -I include $(shell pkg-config --cflags apr-1) \
	    -o $@ bench/slots_bench.c $(PURE_SRC) $(UNIT_LIBS)

# The state-file fuzz seeds, regenerated when the file format changes.
fuzz-state-seeds: $(PURE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(STD_FLAGS) -O1 -I include $(shell pkg-config --cflags apr-1) -o build/make_state_seeds \
	    t/fuzz/make_state_seeds.c $(PURE_SRC) $(UNIT_LIBS)
	build/make_state_seeds t/fuzz/corpus/state

# Lock hold per reader at the largest table sizes (issue 17).
build/lock_bench: bench/lock_bench.c bench/bench_failure.h $(PURE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(STD_FLAGS) $(PURE_WARN_FLAGS) -O2 -DEW_STORE_BENCH -I include \
	    $(shell pkg-config --cflags apr-1) -o $@ bench/lock_bench.c $(PURE_SRC) $(UNIT_LIBS)

bench-lock: build/lock_bench
	build/lock_bench

# 2 processes, then (on a machine with more) one per core.
bench-slots: build/slots_bench
	build/slots_bench 2
	@n=$$(nproc); if [ "$$n" -gt 2 ]; then build/slots_bench "$$n"; fi

build/cause_bench: bench/cause_bench.c $(PURE_SRC) $(HEADERS)
	@mkdir -p build
	$(CC) $(STD_FLAGS) $(PURE_WARN_FLAGS) -O2 -I include $(shell pkg-config --cflags apr-1) \
	    -o $@ bench/cause_bench.c $(PURE_SRC) $(UNIT_LIBS)

bench-cause: build/cause_bench
	build/cause_bench

bench-store: build/store_bench
	build/store_bench 1024 256
	build/store_bench 100000 256

install: all
	install -d $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR) $(DESTDIR)/etc/apache2/mods-available
	install -m 644 $(MODULE) $(DESTDIR)$(shell $(APXS) -q LIBEXECDIR)/mod_errwatch.so
	install -m 644 conf/errwatch.load conf/errwatch.conf $(DESTDIR)/etc/apache2/mods-available/
	@echo "now: a2enmod errwatch && apachectl configtest && systemctl reload apache2"

format:
	clang-format -i mod_errwatch.c src/*.c src/*.h include/*.h t/unit/*.c t/modules/*.c t/fuzz/*.c t/fuzz/*.h

check-format:
	clang-format --dry-run -Werror mod_errwatch.c src/*.c src/*.h include/*.h t/unit/*.c t/modules/*.c t/fuzz/*.c t/fuzz/*.h

clean:
	rm -rf .libs build dist src/.libs t/tmp *.la *.lo *.slo *.o src/*.la src/*.lo src/*.slo src/*.o
	@$(MAKE) --no-print-directory -C t/modules clean 2>/dev/null || true
