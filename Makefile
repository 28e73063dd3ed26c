# Weir developer entry points. `make run` and `make test` are the two
# commands a new machine needs; both install missing dependencies first.

BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
COV_BUILD_DIR  ?= build-coverage
CMAKE_FLAGS    ?=

.PHONY: all deps build run test unit-test asan-test integration-test coverage bench docs clean \
        sdk-test sdk-wheel web extension web-test

all: build

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEIR_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR)
	$(MAKE) --no-print-directory web extension

run: build
	scripts/run-dev

unit-test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure

asan-test: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWEIR_SANITIZE=ON -DWEIR_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD_DIR) --target weir_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD_DIR) --output-on-failure

integration-test: build
	WEIR_BIN=$(CURDIR)/$(BUILD_DIR)/weir python3 -m pytest -q tests/integration

test: unit-test integration-test asan-test sdk-test web-test

# Python SDK: unit tests against a local stub server, plus live tests against
# build/weir when it has been built (they skip otherwise).
sdk-test: build
	WEIR_BIN=$(CURDIR)/$(BUILD_DIR)/weir python3 -m pytest -q sdk/python/tests

sdk-wheel: deps
	python3 -m pip wheel --no-deps -w $(BUILD_DIR)/dist sdk/python

# Web UI and browser extension: TypeScript bundled by esbuild into web/dist and
# extension/dist (both git-ignored), type-checked by tsc.
web: deps
	node tools/build-web.mjs

extension: deps
	node tools/build-extension.mjs

# Locale parity, the spec-versus-routes check and the Playwright tests in
# Debian's Chromium against a live build/weir.
web-test: build
	WEIR_BIN=$(CURDIR)/$(BUILD_DIR)/weir node --test --test-concurrency=1 tests/web/

# Regenerates docs/openapi.json from its generator, then the Postman
# collection from that spec.
docs: deps
	python3 tools/build_openapi.py
	node tools/gen-postman.mjs

coverage: deps
	cmake -S . -B $(COV_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWEIR_COVERAGE=ON $(CMAKE_FLAGS)
	cmake --build $(COV_BUILD_DIR)
	find $(COV_BUILD_DIR) -name '*.gcda' -delete
	ctest --test-dir $(COV_BUILD_DIR) --output-on-failure
	WEIR_BIN=$(CURDIR)/$(COV_BUILD_DIR)/weir python3 -m pytest -q tests/integration
	gcovr --root . --filter src/ --object-directory $(COV_BUILD_DIR) --print-summary --gcov-ignore-parse-errors \
	  --txt $(COV_BUILD_DIR)/coverage.txt --fail-under-line 0
	@echo "Line coverage target for src/: 90% (see the summary above)"

bench: build
	bench/gateway/run

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(COV_BUILD_DIR)
