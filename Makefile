# Front door for people and CI. Every target installs what is missing first.
#   make run        build, check policies/workstation.bh (printing the checked policy) and
#                   compile it into build/out
#   make test       build and run every test
#   make test-asan  the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      check, compile and audit on generated policies (BENCH_LARGE=1 adds 10,000
#                   qubes), policy.d import, pre-commit latency, and (root) the emitted
#                   ruleset on a real kernel; tables in bench/results/latest.md
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: deps build run test test-asan bench fuzz clean

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Qubes' shipped policy from the shared corpus, when it sits beside the checkout.
CORPUS ?= ../shared/corpus/qubes-policy
BASELINE = $(if $(wildcard $(CORPUS)/policy.d),--baseline $(CORPUS)/policy.d --baseline-legacy $(CORPUS)/legacy)

run: build
	./$(BUILD)/bulkhead check --show-model $(BASELINE) policies/workstation.bh
	./$(BUILD)/bulkhead compile $(BASELINE) policies/workstation.bh -o $(BUILD)/out

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBULKHEAD_SANITIZE=ON

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Figures only, written to bench/results/latest.md; no time is asserted anywhere.
bench: build
	BUILD=$(BUILD) CORPUS=$(CORPUS) bench/run.sh

# libFuzzer targets built with clang; each runs FUZZ_SECONDS (tests/fuzz/README.md).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
$(FUZZ_BUILD)/CMakeCache.txt: | deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DBULKHEAD_FUZZ=ON -DBULKHEAD_WERROR=OFF

fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_dsl fuzz_check fuzz_qrexec \
	  fuzz_nft_json fuzz_inventory
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
