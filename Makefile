# vio4wd: thin entry points; the work is done by CMake (interop/) and dotnet (Vio4wd.sln).
SHELL := /bin/bash
.DEFAULT_GOAL := build

CONFIGURATION ?= Release
VERSION := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
OUT := $(CURDIR)/out
NATIVE_BUILD := $(OUT)/build/native
DOTNET ?= dotnet

# Debian packages, named by what the targets run and read (tools/deps.sh checks for those, not
# for package names, and installs only the packages whose programs or files are missing):
# building (`make deps`); the demo on top (`make demo-deps`); the tests, fuzzers and benches on
# top of both (`make test-deps`). DPDK is built from Debian's source package where it can be
# fetched (interop/dpdk/build.sh), hence its build dependencies; elsewhere build.sh installs
# libdpdk-dev itself.
BUILD_NEEDS := gcc:build-essential make:make cmake:cmake pkg-config:pkg-config help2man:help2man \
	dpkg-source:dpkg-dev patch:patch meson:meson ninja:ninja-build py:elftools:python3-pyelftools \
	/usr/include/numa.h:libnuma-dev /usr/include/pcap.h:libpcap-dev /usr/include/libelf.h:libelf-dev \
	pc:libbsd:libbsd-dev /usr/include/libfdt.h:libfdt-dev \
	/usr/include/infiniband/verbs.h:libibverbs-dev lib:libzmq.so.5:libzmq5
DEMO_NEEDS := dpdk-testpmd:dpdk-dev ovsdb-server:openvswitch-switch ovs-vsctl:openvswitch-switch \
	ovsdb-tool:openvswitch-switch /usr/share/openvswitch/vswitch.ovsschema:openvswitch-switch \
	ip:iproute2 ping:iputils-ping
TEST_NEEDS := $(DEMO_NEEDS) py:zmq:python3-zmq py:google.protobuf:python3-protobuf protoc:protobuf-compiler \
	afl-fuzz:afl++ clang:clang '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-dev' \
	/usr/share/bash-completion/bash_completion:bash-completion go:golang-go \
	/usr/share/gocode/src/github.com/Masterminds/sprig:golang-github-masterminds-sprig-dev \
	/usr/share/gocode/src/gopkg.in/yaml.v3:golang-gopkg-yaml.v3-dev prometheus:prometheus promtool:prometheus \
	ethtool:ethtool nc:netcat-openbsd

.PHONY: deps demo-deps test-deps build dpdk native dotnet launchers chart-render test bench demo fuzz fuzz-native publish man install install-config deb image package-test clean

deps:
	@tools/deps.sh $@ $(BUILD_NEEDS)
	@command -v $(DOTNET) >/dev/null || { echo "deps: the .NET 10 SDK ('dotnet') is required and is not on PATH (README: Before you start)" >&2; exit 1; }

demo-deps:
	@tools/deps.sh $@ $(DEMO_NEEDS)

test-deps:
	@tools/deps.sh $@ $(TEST_NEEDS)

build: deps native dotnet launchers

# Our DPDK: built once per version and options, cached in ~/.cache/vio4wd (VIO4WD_CACHE_DIR).
DPDK_BUILD := interop/dpdk/build.sh
dpdk:
	$(DPDK_BUILD)

native:
	$(eval DPDK_PREFIX := $(shell $(DPDK_BUILD)))
	@[ -n "$(DPDK_PREFIX)" ] || { echo "native: building DPDK failed (run $(DPDK_BUILD) to see why)" >&2; exit 1; }
	cmake -S interop -B $(NATIVE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIO4WD_DPDK_PREFIX=$(DPDK_PREFIX) >/dev/null
	cmake --build $(NATIVE_BUILD) --parallel
	mkdir -p $(OUT)/native
	cp $(NATIVE_BUILD)/libvio4wd.so $(NATIVE_BUILD)/relay_selftest $(OUT)/native/
	cmake -S interop -B $(NATIVE_BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DVIO4WD_ASAN=ON -DVIO4WD_DPDK_PREFIX=$(DPDK_PREFIX) >/dev/null
	cmake --build $(NATIVE_BUILD)-asan --parallel
	mkdir -p $(OUT)/native-asan
	cp $(NATIVE_BUILD)-asan/libvio4wd.so $(NATIVE_BUILD)-asan/relay_selftest $(OUT)/native-asan/

dotnet: native
	$(DOTNET) build Vio4wd.sln -c $(CONFIGURATION) --nologo -v quiet

# The chart renderer the chart tests use (Go text/template + sprig from Debian's packages, offline):
# sprig and semver are /v3 import paths, which GOPATH mode finds through these two links.
GO_PATH := $(OUT)/go
chart-render:
	mkdir -p $(GO_PATH)/src/github.com/Masterminds/sprig $(GO_PATH)/src/github.com/Masterminds/semver $(OUT)/bin
	ln -sfn /usr/share/gocode/src/github.com/Masterminds/sprig $(GO_PATH)/src/github.com/Masterminds/sprig/v3
	ln -sfn /usr/share/gocode/src/github.com/Masterminds/semver $(GO_PATH)/src/github.com/Masterminds/semver/v3
	GO111MODULE=off GOPATH=$(GO_PATH):/usr/share/gocode GOCACHE=$(OUT)/go-cache go build -o $(OUT)/bin/chart-render ./charts/render

# out/bin/<tool> runs the built program from the source tree.
launchers:
	mkdir -p $(OUT)/bin
	printf '#!/bin/sh\nexec dotnet "%s" "$$@"\n' \
		"$(CURDIR)/src/Vio4wd.Daemon/bin/$(CONFIGURATION)/net10.0/virtio-forwarder.dll" > $(OUT)/bin/virtio-forwarder
	printf '#!/bin/sh\nexec dotnet "%s" "$$@"\n' \
		"$(CURDIR)/src/Vio4wd.Ctl/bin/$(CONFIGURATION)/net10.0/vio4wdctl.dll" > $(OUT)/bin/vio4wdctl
	printf '#!/bin/sh\nexec dotnet "%s" "$$@"\n' \
		"$(CURDIR)/src/Vio4wd.CoreScheduler/bin/$(CONFIGURATION)/net10.0/vio4wd-core-scheduler.dll" > $(OUT)/bin/vio4wd-core-scheduler
	chmod +x $(OUT)/bin/*

test: build test-deps chart-render
	# One test assembly at a time (-m:1): the dataplane and daemon tests each keep both CPUs of a
	# small machine busy, and the daemon tests check how fast it reacts.
	# TEST_FILTER narrows it (dotnet test --filter), e.g. TEST_FILTER='TestCategory!=Qemu'.
	$(DOTNET) test Vio4wd.sln -c $(CONFIGURATION) --no-build --nologo -m:1 $(if $(TEST_FILTER),--filter "$(TEST_FILTER)")
	# A few seconds of each fuzzer (the saved corpus is replayed by the tests above).
	fuzz/run.sh --smoke

# Every fuzzing target until a million executions or ten minutes each; minutes of busy CPUs.
fuzz: build test-deps
	fuzz/run.sh

# libFuzzer harnesses of the C code that reads untrusted input, with ASan and UBSan.
FUZZ_CC ?= clang
fuzz-native:
	$(eval DPDK_PREFIX := $(shell $(DPDK_BUILD)))
	CC=$(FUZZ_CC) cmake -S interop -B $(NATIVE_BUILD)-fuzz -DCMAKE_BUILD_TYPE=Debug -DVIO4WD_FUZZ=ON \
		-DVIO4WD_DPDK_PREFIX=$(DPDK_PREFIX) >/dev/null
	cmake --build $(NATIVE_BUILD)-fuzz --parallel --target flowhash_fuzz devargs_fuzz
	mkdir -p $(OUT)/fuzz/native
	cp $(NATIVE_BUILD)-fuzz/flowhash_fuzz $(NATIVE_BUILD)-fuzz/devargs_fuzz $(OUT)/fuzz/native/

# The main job on one machine: ovsdb-server, the daemon, a tap VF and a testpmd VM; ping across.
demo: build demo-deps
	demo/demo.sh

# Forwarding rate against dpdk-testpmd; minutes of busy CPUs, so not part of `make test`.
bench: build test-deps publish
	/usr/bin/python3 bench/relay_bench.py
	/usr/bin/python3 bench/ovsdb_convergence.py
	/usr/bin/python3 bench/startup.py
	/usr/bin/python3 bench/observability.py
	/usr/bin/python3 bench/power.py
	/usr/bin/python3 bench/scale.py
	/usr/bin/python3 bench/cycles.py

# Installation: self-contained .NET programs (no SDK or runtime needed on the host), compiled
# ahead of time (ReadyToRun), with libvio4wd.so beside them in $(PREFIX)/lib/vio4wd.
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
BINDIR := $(PREFIX)/bin
LIBDIR := $(PREFIX)/lib/vio4wd
TOOLSDIR := $(PREFIX)/lib/virtio-forwarder
MANDIR := $(PREFIX)/share/man
COMPLETIONDIR := $(PREFIX)/share/bash-completion/completions
RID := linux-x64
PUBLISH := $(OUT)/publish
PROGRAMS := virtio-forwarder vio4wdctl vio4wd-core-scheduler

publish: native
	rm -rf $(PUBLISH)
	for project in Vio4wd.Daemon Vio4wd.Ctl Vio4wd.CoreScheduler; do \
		$(DOTNET) publish src/$$project -c $(CONFIGURATION) -r $(RID) --self-contained \
			-p:PublishReadyToRun=true -p:SatelliteResourceLanguages=en -p:DebugType=none \
			-o $(PUBLISH) --nologo -v quiet || exit 1; \
	done
	# The runtime's LTTng tracing provider is optional and would make the package need liblttng-ust.
	rm -f $(PUBLISH)/libcoreclrtraceptprovider.so

man: publish
	mkdir -p $(OUT)/man
	help2man --no-info --section=8 --version-string=$(VERSION) --include=man/virtio-forwarder.h2m \
		--name="relay SR-IOV VFs to the vhost-user ports of VMs" $(PUBLISH)/virtio-forwarder > $(OUT)/man/virtio-forwarder.8
	help2man --no-info --section=8 --version-string=$(VERSION) --include=man/vio4wdctl.h2m \
		--name="status and operations of a running virtio-forwarder" $(PUBLISH)/vio4wdctl > $(OUT)/man/vio4wdctl.8
	help2man --no-info --section=8 --version-string=$(VERSION) --include=man/vio4wd-core-scheduler.h2m \
		--name="balance virtio-forwarder relays over its worker CPUs" $(PUBLISH)/vio4wd-core-scheduler > $(OUT)/man/vio4wd-core-scheduler.8

install: publish man
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/default \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR)
	cp -a $(PUBLISH)/. $(DESTDIR)$(LIBDIR)/
	# Assemblies and their JSON are data to the runtime, not programs.
	find $(DESTDIR)$(LIBDIR) -type f \( -name '*.dll' -o -name '*.json' \) -exec chmod 644 {} +
	# Links keep each program's own name as its process name; relative, so DESTDIR trees work too.
	for program in $(PROGRAMS); do \
		ln -sfn $$(realpath -m --relative-to=$(BINDIR) $(LIBDIR))/$$program $(DESTDIR)$(BINDIR)/$$program; \
	done
	for unit in systemd/*.service; do \
		sed 's|/usr/bin/|$(BINDIR)/|g; s|/etc/default/|$(SYSCONFDIR)/default/|g' $$unit > $(DESTDIR)$(UNITDIR)/$$(basename $$unit); \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$(basename $$unit); \
	done
	install -m 644 $(OUT)/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 completion/vio4wdctl $(DESTDIR)$(COMPLETIONDIR)/vio4wdctl
	# The original's tools at its paths (launchers of vio4wdctl) with its message definitions;
	# lib64 too, which os-vif's agilio_ovs plug hard-codes.
	install -d $(DESTDIR)$(TOOLSDIR) $(DESTDIR)$(PREFIX)/lib64
	install -m 755 tools/original/virtioforwarder_*.py $(DESTDIR)$(TOOLSDIR)/
	install -m 644 src/Vio4wd.Contracts/Protocol/virtioforwarder.proto $(DESTDIR)$(TOOLSDIR)/
	ln -sfn ../lib/virtio-forwarder $(DESTDIR)$(PREFIX)/lib64/virtio-forwarder
	$(MAKE) -s install-config

# An existing /etc/default/virtioforwarder is the operator's (the original's, or an edited one):
# never overwritten. The shipped file goes beside it, as dpkg leaves a .dpkg-dist.
CONFIG_FILE = $(DESTDIR)$(SYSCONFDIR)/default/virtioforwarder
install-config:
	install -d $(DESTDIR)$(SYSCONFDIR)/default
	if [ -e $(CONFIG_FILE) ] || [ -L $(CONFIG_FILE) ]; then \
		install -m 644 config/virtioforwarder $(CONFIG_FILE).new; \
		echo "install: $(CONFIG_FILE) exists and is kept; the shipped one is $(CONFIG_FILE).new"; \
	else \
		install -m 644 config/virtioforwarder $(CONFIG_FILE); \
	fi

# The Debian package, built with debhelper (debian/); the .deb, its -dbgsym (libvio4wd.so's debug
# symbols), .buildinfo and .changes go to out/deb, nothing stays beside the source tree.
DEB_NEEDS := dh:debhelper dpkg-buildpackage:dpkg-dev fakeroot:fakeroot lintian:lintian
deb: deps
	@tools/deps.sh $@ $(DEB_NEEDS)
	dpkg-buildpackage -b -uc -us
	mkdir -p $(OUT)/deb
	mv ../vio4wd_$(VERSION)_amd64.deb ../vio4wd-dbgsym_$(VERSION)_amd64.deb ../vio4wd_$(VERSION)_amd64.buildinfo \
		../vio4wd_$(VERSION)_amd64.changes $(OUT)/deb/
	lintian --fail-on error $(OUT)/deb/vio4wd_$(VERSION)_amd64.deb

# The OCI image (out/image/vio4wd_<version>.oci.tar, named vio4wd:<version>), without a container daemon.
IMAGE_NEEDS := mmdebstrap:mmdebstrap umoci:umoci skopeo:skopeo
image: deb
	@tools/deps.sh $@ $(IMAGE_NEEDS)
	image/build.sh

# What an installation holds and does: from a temporary DESTDIR, the .deb in a fresh Debian 12
# root made with mmdebstrap, and the image unpacked (CI runs it after make test).
package-test: build test-deps image
	tests/package/install-check.sh
	tests/package/deb-check.sh
	tests/package/image-check.sh

clean:
	rm -rf $(OUT)
	$(DOTNET) clean Vio4wd.sln --nologo -v quiet || true
	find src tests -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
