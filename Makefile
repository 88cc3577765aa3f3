# SPDX-License-Identifier: GPL-2.0
#
# procevent: build, test and check.  The kernel build system reads Kbuild
# (it takes precedence over this file when building with M=).
#
#   make                  the module, the selftests and the tools
#   make module [KDIR=]   the module against one kernel build tree, built
#                         in build/module/<release>/
#   make selftests        the selftests (static programs in selftests/)
#   make tools            libprocevent, proceventctl and their tests, in
#                         build/tools/ (tools/Makefile)
#   make demo             watch a monitor hold processes in a VM
#   make race             the lock server race benchmark (examples/lockd)
#                         on the 6.1 and 6.12 kernels in QEMU
#   make stress           load, faults, fuzzing, lifecycle and privilege
#                         runs on every kernel, in QEMU (stress/run.sh)
#   make check            everything, on every installed kernel, in QEMU
#                         (selftests/vm/check.sh)
#   make system-test      the .deb packages installed with apt on a Debian
#                         12 root (mmdebstrap, cached), booted with systemd
#                         in QEMU on the 6.1 and 6.12 kernels, used and
#                         purged as an administrator would
#                         (scripts/system-test.sh)
#   make bench            the benchmark, in QEMU on every installed kernel:
#                         table, build/bench/bench.csv and bench.png
#                         (bench/run.sh)
#   make realbench        procevent against forkstat, auditd, bpftrace and
#                         strace on real workloads (a Debian source build,
#                         gzip's test suite, a fork/exec storm) in a Debian
#                         12 VM: table, build/realbench/realbench.csv and
#                         realbench.png (bench/realbench.sh; not in check)
#   make profile          guest instructions per function of a held exit,
#                         a seccomp and a pipe round trip and a burst drain
#                         (a QEMU plugin, bench/profile/), in build/profile/
#   make install          and more install targets: see "installing" below
#   make deb              Debian packages in build/deb/
#   make clean

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# The running kernel's build tree if there is one, else the newest
# installed generic amd64 headers.
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
ifeq ($(origin KDIR),undefined)
ifneq ($(wildcard $(RUNNING_KDIR)/Makefile),)
KDIR := $(RUNNING_KDIR)
else
KDIR := $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
		grep -v -e '-cloud-amd64$$' -e '-rt-amd64$$' | sort -V | tail -n 1)
KDIR_NOTE := no build tree for the running kernel $(shell uname -r); using $(KDIR)
endif
endif

# The release the module is built for, as vermagic states it (Debian's
# include/config/kernel.release may hold the upstream version instead).
KREL := $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODULE_OUT := $(ROOT)/build/module/$(or $(KREL),$(notdir $(KDIR)))

all: module selftests tools

module:
ifneq ($(KDIR_NOTE),)
	@echo "note: $(KDIR_NOTE)"
endif
	@test -n "$(KDIR)" || { echo "no kernel headers found; run scripts/deps.sh or pass KDIR=" >&2; exit 1; }
	$(ROOT)/scripts/build-module.sh $(KDIR) $(MODULE_OUT)
	@echo "module: $(MODULE_OUT)/procevent.ko"

selftests:
	$(MAKE) -C $(ROOT)/selftests

tools:
	$(MAKE) -C $(ROOT)/tools

check:
	$(ROOT)/selftests/vm/check.sh

system-test:
	$(ROOT)/scripts/system-test.sh

demo:
	@$(ROOT)/tools/demo/demo.sh

bench:
	$(ROOT)/bench/run.sh

realbench:
	$(ROOT)/bench/realbench.sh

profile:
	PEBENCH_MODES=profile $(ROOT)/bench/run.sh --out $(ROOT)/build/profile

race:
	$(MAKE) -C $(ROOT)/examples/lockd race

stress:
	$(ROOT)/stress/run.sh

clean:
	rm -rf $(ROOT)/build
	-$(MAKE) -C $(ROOT)/selftests clean
	@if [ -f "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C $(KDIR) M=$(ROOT) clean; \
	fi

.PHONY: all module selftests tools check system-test demo race stress bench realbench profile clean

# --- installing -------------------------------------------------------------
#
#   make install          install-module, install-tools, install-headers and
#                         install-data, below
#   make install-module   procevent.ko for KDIR's kernel into
#                         /lib/modules/<release>/extra (modules_install),
#                         then depmod
#   make install-tools    proceventctl (linked against libprocevent.so),
#                         libprocevent (.so, .a, .pc), the headers, the man
#                         pages and the bash completion (tools/Makefile);
#                         then ldconfig, when DESTDIR is empty and LIBDIR is
#                         a directory the dynamic linker searches
#   make install-headers  <procevent.h> and <linux/procevent.h> only
#   make install-data     the udev rule, and the modules-load.d and systemd
#                         unit examples (in DOCDIR/examples)
#   make uninstall        remove all of that again (same variables)
#   make dkms-src         module sources and dkms.conf into
#                         /usr/src/procevent-<version>, for "dkms add"
#   make deb              the Debian packages procevent-dkms, procevent-tools,
#                         libprocevent0 and libprocevent-dev in build/deb/
#                         (dpkg-buildpackage; scripts/build-deb.sh)
#
# Variables: DESTDIR (staging root, default none), PREFIX (/usr/local),
# BINDIR, LIBDIR, INCLUDEDIR, MANDIR, DOCDIR, BASHCOMPDIR
# ($(PREFIX)/share/bash-completion/completions), UDEVRULESDIR, KDIR.
#
# Everything goes under DESTDIR/PREFIX except, by design: the module, in
# DESTDIR/lib/modules/<release>/extra (where modprobe looks), followed by
# depmod; the udev rule, in DESTDIR$(UDEVRULESDIR) (/lib/udev/rules.d: udev
# does not look under PREFIX; install-data); and dkms-src's
# DESTDIR/usr/src/procevent-<version> (where DKMS looks).  "make install"
# never writes into /etc: enabling the modules-load.d and systemd examples
# is left to the administrator.

VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(ROOT)/dkms.conf)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR ?= $(PREFIX)/share/doc/procevent
UDEVRULESDIR ?= /lib/udev/rules.d
DKMS_SRC := /usr/src/procevent-$(VERSION)
INSTALL_DIRS := DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) BINDIR=$(BINDIR) \
	LIBDIR=$(LIBDIR) INCLUDEDIR=$(INCLUDEDIR) MANDIR=$(MANDIR) \
	BASHCOMPDIR=$(BASHCOMPDIR)
# depmod works on the staging root when there is one.
DEPMOD := depmod $(if $(DESTDIR),-b $(DESTDIR))

install: install-module install-tools install-headers install-data

# A distribution kernel's signing key is not in its headers: the module is
# installed unsigned (DKMS signs with its own key where that is set up).
install-module: module
	$(MAKE) -C $(KDIR) M=$(MODULE_OUT)/src INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=extra CONFIG_MODULE_SIG_ALL= modules_install
	$(DEPMOD) $(KREL)

install-tools:
	$(MAKE) -C $(ROOT)/tools install $(INSTALL_DIRS)

install-headers:
	install -d $(DESTDIR)$(INCLUDEDIR)/linux
	install -m 644 $(ROOT)/tools/lib/procevent.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(ROOT)/uapi/linux/procevent.h $(DESTDIR)$(INCLUDEDIR)/linux/

install-data:
	install -d $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 644 $(ROOT)/packaging/60-procevent.rules $(DESTDIR)$(UDEVRULESDIR)/
	install -m 644 $(ROOT)/packaging/procevent.modules-load.conf \
		$(ROOT)/packaging/procevent-monitor.service \
		$(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KREL)/extra/procevent.ko*
	if [ -d $(DESTDIR)/lib/modules/$(KREL) ]; then $(DEPMOD) $(KREL); fi
	$(MAKE) -C $(ROOT)/tools uninstall $(INSTALL_DIRS)
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-procevent.rules
	rm -rf $(DESTDIR)$(DOCDIR)

# The files DKMS builds from: Kbuild, module/, uapi/ and dkms.conf.
dkms-src:
	rm -rf $(DESTDIR)$(DKMS_SRC)
	install -d $(DESTDIR)$(DKMS_SRC)/module $(DESTDIR)$(DKMS_SRC)/uapi/linux
	install -m 644 $(ROOT)/dkms.conf $(ROOT)/Kbuild $(DESTDIR)$(DKMS_SRC)/
	install -m 644 $(ROOT)/module/*.[ch] $(DESTDIR)$(DKMS_SRC)/module/
	install -m 644 $(ROOT)/uapi/linux/procevent.h $(DESTDIR)$(DKMS_SRC)/uapi/linux/

deb:
	$(ROOT)/scripts/build-deb.sh $(ROOT)/build/deb

.PHONY: install install-module install-tools install-headers install-data \
	uninstall dkms-src deb
