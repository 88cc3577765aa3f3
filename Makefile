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
#   make check            everything, on every installed kernel, in QEMU
#                         (selftests/vm/check.sh)
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

demo:
	@$(ROOT)/tools/demo/demo.sh

clean:
	rm -rf $(ROOT)/build
	-$(MAKE) -C $(ROOT)/selftests clean
	@if [ -f "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C $(KDIR) M=$(ROOT) clean; \
	fi

.PHONY: all module selftests tools check demo clean
