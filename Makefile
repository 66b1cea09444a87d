# dwsnet — GNU make build.
#   make            bin/dwsnet and bin/dwsnetd
#   make test       installs missing deps (as root), builds, runs every test
#   make test-asan  the same suites built with AddressSanitizer + UBSan
#   make test-deploy  Dockerfile, gateway and Kubernetes checks (also in make test)
#   make test-container  builds the image with podman and tests it running (tests/container/run)
#   make install [PREFIX=/usr/local] [DESTDIR=]  bin/ and share/dwsnet/models/ under PREFIX
#   make uninstall  removes what make install put there
#   make bench      benchmarks (long; not part of make test)
#   make fuzz       libFuzzer targets (clang), each run FUZZ_SECONDS (default 60) on its corpus
#   make clean
#   make help       lists the targets

CC      ?= cc
BUILD   ?= build
BIN     ?= bin
# Where make install puts bin/ and share/dwsnet/models/; compiled into both programs,
# which look for their default models there (core/base/base.h, "model path").
PREFIX  ?= /usr/local
DESTDIR ?=
OPT     ?= -O2
SAN     ?=
# cblas.h lives in a per-variant folder on Debian (openblas-pthread, -openmp, ...).
OPENBLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
CFLAGS  := -std=c11 $(OPT) -g -Wall -Wextra -Wmissing-prototypes -Werror -D_GNU_SOURCE -fno-strict-aliasing \
           -Icore -I$(BUILD)/proto $(OPENBLAS_CFLAGS) $(SAN) $(EXTRA_CFLAGS)
LDFLAGS := $(SAN)
LIBS    := -lprotobuf-c -lopenblas -lcjson -lpng16 -ljpeg -lz -lm -lpthread
SERVER_LIBS := -lmicrohttpd
CHECK_LIBS  := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm)

PROTO_C  := $(BUILD)/proto/onnx.pb-c.c
PROTO_O  := $(BUILD)/proto/onnx.pb-c.o
CORE_SRC := $(wildcard core/*/*.c)
CORE_O   := $(CORE_SRC:%.c=$(BUILD)/%.o)
CORE_LIB := $(BUILD)/libdwscore.a
TOOL_SRC := $(wildcard tools/*.c)
TOOL_O   := $(TOOL_SRC:%.c=$(BUILD)/%.o)
SERVER_SRC := $(wildcard server/*.c)
# The page's files (server/assets/), compiled into dwsnetd as one generated C file.
ASSET_SRC := $(sort $(wildcard server/assets/*))
ASSET_C  := $(BUILD)/server/page_assets.c
ASSET_O  := $(BUILD)/server/page_assets.o
SERVER_O := $(SERVER_SRC:%.c=$(BUILD)/%.o) $(if $(SERVER_SRC),$(ASSET_O))
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRC := $(wildcard tests/unit/helper_*.c)
TEST_HELPER_O := $(TEST_HELPER_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
# The same targets without libFuzzer, replaying the committed corpora in make test.
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
# The daemon's code without its main(), for the request fuzzer.
SERVER_LIB_O := $(filter-out $(BUILD)/server/main.o,$(SERVER_O))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

PROGRAMS := $(BIN)/dwsnet $(if $(SERVER_SRC),$(BIN)/dwsnetd)

.PHONY: all clean help test test-unit test-integration test-asan test-deploy test-container bench deps run fuzz \
        pretrained install uninstall FORCE
all: $(PROGRAMS) ## bin/dwsnet and bin/dwsnetd (the default)

$(PROTO_C): proto/onnx.proto
	@mkdir -p $(dir $@)
	protoc-c --proto_path=proto --c_out=$(BUILD)/proto proto/onnx.proto

# Generated code is not ours to keep warning-free; compile it without -Werror.
$(PROTO_O): $(PROTO_C)
	$(CC) -std=c11 $(OPT) -g -I$(BUILD)/proto $(SAN) -c $< -o $@

$(BUILD)/%.o: %.c $(PROTO_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(ASSET_C): $(ASSET_SRC) scripts/embed-assets
	@mkdir -p $(dir $@)
	scripts/embed-assets $@ $(ASSET_SRC)

$(ASSET_O): $(ASSET_C)
	$(CC) $(CFLAGS) -Iserver -c $< -o $@

# Elementwise loops over whole parameter and image buffers (optimiser steps, byte to
# float conversion) are worth vectorising; errno-free sqrtf is what lets Adam's loop
# vectorise at all. Measured: Adam's step 10x faster.
# (clang, used by make fuzz, has no -fvect-cost-model.)
VEC_FLAGS := -ftree-vectorize -fno-math-errno \
             $(if $(findstring clang,$(CC)),,-fvect-cost-model=dynamic)
$(BUILD)/core/train/optimizer.o $(BUILD)/core/data/samples.o: CFLAGS += $(VEC_FLAGS)
# The domain estimator's image statistics (sums over every pixel, a dozen passes per
# image) need vectorised float sums to stay within 5 ms for 64 images: reassociating
# them changes the last bits, the same way in every run of one build.
$(BUILD)/core/data/domain_stats.o: CFLAGS += $(VEC_FLAGS) -fassociative-math -fno-signed-zeros -fno-trapping-math

# PREFIX is compiled into model_path.o: the stamp changes (and it is rebuilt) only
# when PREFIX does.
$(BUILD)/prefix.stamp: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(PREFIX)' ] || echo '$(PREFIX)' > $@
$(BUILD)/core/base/model_path.o: CFLAGS += -DDWS_PREFIX='"$(PREFIX)"'
$(BUILD)/core/base/model_path.o: $(BUILD)/prefix.stamp

$(CORE_LIB): $(CORE_O) $(PROTO_O)
	rm -f $@ && ar rcs $@ $^

$(BIN)/dwsnet: $(TOOL_O) $(CORE_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(TOOL_O) $(CORE_LIB) $(LIBS)

$(BIN)/dwsnetd: $(SERVER_O) $(CORE_LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $(SERVER_O) $(CORE_LIB) $(SERVER_LIBS) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HELPER_O) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< $(TEST_HELPER_O) $(CORE_LIB) $(CHECK_LIBS) $(LIBS)

# The CLI's option parser and tables are tools/ code: their unit test links them.
CLI_OPTIONS_O := $(BUILD)/tools/options.o $(BUILD)/tools/options_table.o
$(BUILD)/tests/test_cli_options: tests/unit/test_cli_options.c $(CLI_OPTIONS_O) $(TEST_HELPER_O) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/unit -Itools -o $@ $< $(CLI_OPTIONS_O) $(TEST_HELPER_O) $(CORE_LIB) \
	  $(CHECK_LIBS) $(LIBS)

$(BUILD)/bench/%: bench/%.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CORE_LIB) $(LIBS)

deps: ## install missing build and test dependencies (as root; scripts/check-deps)
	@scripts/check-deps

test: deps all $(TEST_BIN) $(REPLAY_BIN) ## build, then run every test (tests/run-all)
	@BUILD=$(BUILD) BIN=$(BIN) tests/run-all

test-unit: all $(TEST_BIN) ## the unit tests (check) only
	@BUILD=$(BUILD) BIN=$(BIN) tests/run-all --unit

test-integration: all $(REPLAY_BIN) ## the integration scripts only
	@BUILD=$(BUILD) BIN=$(BIN) tests/run-all --integration

test-deploy: all ## Dockerfile, gateway and Kubernetes checks
	@BUILD=$(BUILD) BIN=$(BIN) tests/run-all --integration deploy

# The real image, built with podman from a local Debian base, and tested running:
# alone, hardened, behind the gateway, and as the Kubernetes Deployment (kube play).
test-container: all ## build the image with podman and test it running (tests/container/run)
	@BIN=$(BIN) tests/container/run

# Shipped models: the .dws files and their cards (not the evaluation folders).
MODEL_FILES := $(wildcard models/*.dws models/*.md)
install: all ## bin/ and share/dwsnet/models/ under PREFIX (/usr/local), staged in DESTDIR
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/dwsnet/models
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	$(if $(MODEL_FILES),install -m 644 $(MODEL_FILES) $(DESTDIR)$(PREFIX)/share/dwsnet/models/)

uninstall: ## remove what make install put under DESTDIR/PREFIX
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(notdir $(PROGRAMS)))
	rm -rf $(DESTDIR)$(PREFIX)/share/dwsnet

# Sanitizer build in its own folders so it never mixes objects with the normal build.
test-asan: deps ## every test built with AddressSanitizer + UBSan (build-asan/)
	$(MAKE) BUILD=build-asan BIN=build-asan/bin OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  all build-asan-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  BUILD=build-asan BIN=build-asan/bin DWSNET_SANITIZED=1 tests/run-all

.PHONY: build-asan-tests
build-asan-tests: $(TEST_BIN) $(REPLAY_BIN)

# Fuzzing: everything built by clang with the fuzzer's coverage hooks and ASan+UBSan in
# build-fuzz/; tests/fuzz/run runs each target for FUZZ_SECONDS and fails on any crash.
FUZZ_SECONDS ?= 60
fuzz: deps ## libFuzzer targets (clang), FUZZ_SECONDS (60) each on its corpus
	$(MAKE) CC=clang BUILD=build-fuzz BIN=build-fuzz/bin OPT=-O1 \
	  SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  fuzz-targets
	FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=build-fuzz tests/fuzz/run

.PHONY: fuzz-targets
fuzz-targets: $(FUZZ_BIN)

# The targets may build their inputs with the unit tests' ONNX helpers.
FUZZ_HELPERS := tests/unit/helper_onnx.c
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_HELPERS) $(SERVER_LIB_O) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Iserver -Itests/unit -o $@ $< $(FUZZ_HELPERS) $(SERVER_LIB_O) $(CORE_LIB) \
	  $(SERVER_LIBS) $(LIBS)

$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(FUZZ_HELPERS) $(SERVER_LIB_O) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Iserver -Itests/unit -o $@ $< tests/fuzz/replay.c $(FUZZ_HELPERS) $(SERVER_LIB_O) \
	  $(CORE_LIB) $(SERVER_LIBS) $(LIBS)

# Extra daemon flags: make run ARGS="--listen 0.0.0.0:8080" (later flags win).
run: deps all ## dwsnetd on 127.0.0.1:8080 with models/ (extra flags: ARGS="...")
	$(BIN)/dwsnetd --listen 127.0.0.1:8080 --models models $(ARGS)

bench: all $(BENCH_BIN) ## benchmarks (long; not part of make test)
	@BUILD=$(BUILD) BIN=$(BIN) bench/run-all

# Zoos -> specialist -> conditioned adapter -> evaluations -> models/cifar10c-adapter.{dws,md} (about 170 min on 2 cores).
pretrained: all ## zoo -> train-adapter -> eval -> models/cifar10c-adapter.{dws,md}; the domain estimator when missing
	@BIN=$(BIN) scripts/pretrained.sh

# Every target with a "## what" comment on its rule line, one line each.
help: ## list the targets
	@sed -nE 's/^([a-z][a-z-]*):[^#]*## (.*)/  \1\t\2/p' $(firstword $(MAKEFILE_LIST)) | expand -t 20

clean: ## remove build, build-asan, build-fuzz and bin
	rm -rf build build-asan build-fuzz bin

-include $(CORE_O:.o=.d) $(TOOL_O:.o=.d) $(SERVER_O:.o=.d) $(TEST_HELPER_O:.o=.d)
