# hlsify: build, demo and test entry points. `make demo` and `make test` work on a
# fresh Debian 12 machine: both first install whatever is missing (scripts/install-deps.sh).

SWIFT      ?= swift
VENV       := .cache/venv
PYTEST     := $(VENV)/bin/pytest
DEMO_INPUT ?= Fixtures/landscape-720p.mp4
DEMO_OUT   ?= demo-output/lecture

.NOTPARALLEL:
.PHONY: all deps build debug demo test test-busy unit-test docs fuzz integration-test asan-test cluster-test cluster-integration-test test-broker-shell fixtures bench audit clean

all: build

## deps: install missing apt packages (as root) and the Python test venv in .cache/venv
deps:
	scripts/install-deps.sh

## build: release build of the package (.build/release/hlsify)
build:
	$(SWIFT) build -c release

## debug: debug build (.build/debug/hlsify, the binary the integration tests use)
debug:
	$(SWIFT) build

## demo: install, build, and transcode a bundled sample into $(DEMO_OUT)
demo: deps build
	"$$($(SWIFT) build -c release --show-bin-path)/hlsify" $(DEMO_INPUT) --out $(DEMO_OUT) --force
	@echo
	@echo "HLS set written to $(CURDIR)/$(DEMO_OUT) (open $(DEMO_OUT)/master.m3u8 in an HLS player)"

## test: install, build, and run every test (Swift unit tests, the HLSKit documentation build, the SRT
##       fuzzer, the Python integration suite, then the unit and hostile-input tests again under
##       AddressSanitizer) against a private RabbitMQ node started for the run and stopped after it
##       (own ports, own epmd, data in a temporary folder; see scripts/rabbitmq-test-node.sh). The
##       tests find it through HLSIFY_TEST_AMQP_URL and HLSIFY_TEST_RABBITMQCTL.
test: deps debug
	scripts/rabbitmq-test-node.sh run -- $(MAKE) --no-print-directory unit-test docs fuzz integration-test asan-test
	$(MAKE) --no-print-directory cluster-test

## test-busy: `make test` with one CPU-bound process (`yes > /dev/null`) beside it the whole time, as on
##            a shared machine: every test waits for observed states, so it must pass like this too
test-busy:
	yes > /dev/null & hog=$$!; trap 'kill $$hog' EXIT; $(MAKE) --no-print-directory test

## unit-test: Swift tests (the broker tests skip unless HLSIFY_TEST_AMQP_URL is set)
unit-test:
	$(SWIFT) test

## docs: HLSKit's DocC documentation (Sources/HLSKit/HLSKit.docc and every public symbol's doc
##       comment) through swift-docc-plugin; any warning fails it (an unresolved ``link``, an
##       undocumented parameter). Output: .build/plugins/Swift-DocC/outputs/HLSKit.doccarchive
##       (coverage: add --experimental-documentation-coverage --coverage-summary-level detailed)
docs:
	$(SWIFT) package generate-documentation --target HLSKit --warnings-as-errors

## fuzz: build the libFuzzer target for the SRT parser (Fuzz/) and run it for 30 s
fuzz:
	Fuzz/run.sh 30

## integration-test: the pytest suite (the worker tests need the variables `make test` sets)
integration-test:
	BIN="$$($(SWIFT) build --show-bin-path)"; \
	HLSIFY_BIN="$${HLSIFY_BIN:-$$BIN/hlsify}" HLSIFY_WORKER_BIN="$${HLSIFY_WORKER_BIN:-$$BIN/transcode-worker}" \
	$(PYTEST) -q Tests/Integration

## cluster-test: split jobs on a private three-node RabbitMQ cluster on loopback: the jobs queue's
##               leader stopped mid-job (test_cluster.py) and test_split_jobs.py's fault tests
##               (scripts/rabbitmq-test-cluster.sh)
cluster-test:
	scripts/rabbitmq-test-cluster.sh run -- $(MAKE) --no-print-directory cluster-integration-test

cluster-integration-test:
	BIN="$$($(SWIFT) build --show-bin-path)"; \
	HLSIFY_REQUIRE_CLUSTER=1 HLSIFY_BIN="$${HLSIFY_BIN:-$$BIN/hlsify}" HLSIFY_WORKER_BIN="$${HLSIFY_WORKER_BIN:-$$BIN/transcode-worker}" \
	$(PYTEST) -q Tests/Integration/test_cluster.py Tests/Integration/test_split_jobs.py -k cluster

## test-broker-shell: a shell with a private broker running and its variables set (exit to stop it)
test-broker-shell:
	scripts/rabbitmq-test-node.sh run -- $${SHELL:-bash}

## asan-test: a debug build with AddressSanitizer in .build-asan: the Swift unit tests (leaks too,
##            but for the Swift runtime's own in scripts/lsan-suppressions.txt; the two wall-clock
##            tests are skipped, a sanitizer's slowdown makes them flaky), then hlsify on the hostile inputs
##            (memory errors only: leaks are the unit tests' job; memory limit raised for the
##            shadow memory)
asan-test:
	ASAN_OPTIONS=detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt:print_suppressions=0 \
	$(SWIFT) test --sanitize=address --scratch-path .build-asan \
	    --skip testPathologicalInputsFinishQuickly --skip testCancellingStopsPromptlyAndLeavesNothing
	$(SWIFT) build --sanitize=address --scratch-path .build-asan --product hlsify
	ASAN_OPTIONS=detect_leaks=0 HLSIFY_RSS_LIMIT_MB=3000 \
	HLSIFY_BIN="$$($(SWIFT) build --sanitize=address --scratch-path .build-asan --show-bin-path)/hlsify" \
	$(PYTEST) -q Tests/Integration/test_hostile.py -k "not sigkill"

## bench: hlsify against the ffmpeg command line (Benchmarks/run.py; not part of the tests;
##        BENCH_ARGS=--quick for a smoke run). Writes Benchmarks/RESULTS.md.
bench:
	python3 Benchmarks/run.py $(BENCH_ARGS)

## audit: hlsify's HLS output for SOURCE beside ffmpeg's own (same ladder and settings, the command
##        Benchmarks/run.py builds), scored rule by rule against RFC 8216 and Apple's authoring spec
##        (Tests/Integration/audit.py; not part of the tests). make audit SOURCE=file [AUDIT_ARGS=...]
##        (AUDIT_ARGS go to hlsify, e.g. "--segment-format ts"); outputs in .cache/audit/
audit: deps debug
	@test -n "$(SOURCE)" || { echo "usage: make audit SOURCE=file [AUDIT_ARGS='--segment-format ts']" >&2; exit 64; }
	BIN="$$($(SWIFT) build --show-bin-path)"; \
	$(VENV)/bin/python Tests/Integration/audit.py --compare "$(SOURCE)" --hlsify "$${HLSIFY_BIN:-$$BIN/hlsify}" \
	    --workdir .cache/audit -- $(AUDIT_ARGS)

## fixtures: regenerate the media in Fixtures/ (the results are committed)
fixtures:
	Fixtures/make-fixtures.sh

clean:
	rm -rf .build demo-output
