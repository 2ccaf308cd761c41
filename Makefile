# The two commands: `make demo` and `make test`. Each installs what is missing (Debian
# packages, the npm lockfile), configures and builds, then runs.
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)

APT_PACKAGES := g++ cmake ninja-build pkg-config libgtest-dev libgmock-dev libbenchmark-dev \
  libonnx-dev libprotobuf-dev protobuf-compiler nlohmann-json3-dev libcli11-dev libfmt-dev \
  libfp16-dev clang clang-format libclang-rt-14-dev time python3-numpy python3-onnx

.PHONY: all deps apt-deps npm-deps venv configure build test demo bench fuzz clean install

all: build

deps: apt-deps npm-deps venv

# Installs only the Debian packages that are not there yet.
apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing; \
	fi
	@command -v node >/dev/null || { echo "installing Debian nodejs"; apt-get install -y nodejs npm; }

# ONNX Runtime 1.30 for the tests, pinned by tests/ort/package-lock.json.
npm-deps: tests/ort/node_modules/.e2o-installed
tests/ort/node_modules/.e2o-installed: tests/ort/package.json tests/ort/package-lock.json
	cd tests/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
	touch $@

# The tests' pinned Python environment (tests/python/requirements.txt: the official onnx
# checker, onnxruntime, torch, transformers, numpy 2), made once and made again only when
# the pins change. Never used by the product's build.
VENV := tests/python/.venv
venv: $(VENV)/.e2o-installed
$(VENV)/.e2o-installed: tests/python/requirements.txt
	@command -v python3 >/dev/null || { echo "make venv: python3 is not installed" >&2; exit 1; }
	rm -rf $(VENV)
	python3 -m venv $(VENV)
	@set -o pipefail; $(VENV)/bin/pip install --quiet --disable-pip-version-check -r $< 2>&1 \
	  | { grep -v "^WARNING: Location .* is ignored" || true; } \
	  || { echo "make venv: cannot install the pinned test environment ($<) from PyPI: is PyPI reachable?" >&2; \
	       rm -rf $(VENV); exit 1; }
	cp $< $@

configure: apt-deps
	@if [ ! -f $(BUILD)/build.ninja ]; then cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release; fi

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Opt-in, never part of `make test`: ours vs the I/O floor and the original pipeline,
# ONNX Runtime load cost, and each tier set vs its floor (bench/RESULTS.md).
# bench-large: a 2 GiB table.
.PHONY: bench-large
bench: deps build
	bash bench/run_bench.sh $(BUILD)
	bash bench/tiers_vs_floor.sh $(BUILD)
	bash bench/int4_error.sh $(BUILD)

bench-large: deps build
	bash bench/run_bench.sh $(BUILD) --large

# The venv install (mostly downloading and unpacking wheels) runs beside the C++ build
# (CPU), not before it: from a fresh clone that overlaps 3-5 minutes of the two. The Debian
# packages come first: both need them.
test: apt-deps npm-deps
	$(MAKE) --no-print-directory -j2 venv build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: deps build
	bash tools/demo.sh $(BUILD)

# Each libFuzzer target for 5 minutes (fuzz/run.sh; clang from APT_PACKAGES).
fuzz: apt-deps
	bash fuzz/run.sh fuzz 300

# Installs bin/embed2onnx, its man page, the headers, libembed2onnx.a, the CMake package
# and embed2onnx.pc under PREFIX (DESTDIR, when set, is put in front as usual).
PREFIX ?= /usr/local
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

clean:
	rm -rf $(BUILD) build-*
