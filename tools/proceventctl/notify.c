// SPDX-License-Identifier: GPL-2.0
/*
 * proceventctl: READY=1 and WATCHDOG=1 for systemd (see notify.h).
 * libsystemd's sd_notify() when the build has it (PE_HAVE_SYSTEMD, set by
 * tools/Makefile for the dynamically linked tool), else nothing.
 */
#include "notify.h"

#ifdef PE_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void pe_notify_ready(void)
{
	sd_notify(0, "READY=1\nSTATUS=subscribed");
}

void pe_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t pe_notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	/* > 0 only when $WATCHDOG_USEC is set for this very process. */
	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
	return 0;
}

#else

void pe_notify_ready(void)
{
}

void pe_notify_watchdog(void)
{
}

uint64_t pe_notify_watchdog_usec(void)
{
	return 0;
}

#endif
