/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proceventctl: service manager notification (sd_notify(3)) for a monitor
 * run as a Type=notify systemd service with WatchdogSec=.
 *
 * Built with libsystemd (PE_HAVE_SYSTEMD, the dynamically linked tool of
 * the packages) these talk to systemd through $NOTIFY_SOCKET; built
 * without it (the static test build) they do nothing and
 * pe_notify_watchdog_usec() returns 0.  Outside a notify service they do
 * nothing either.  None of them fails or blocks.
 */
#ifndef PROCEVENTCTL_NOTIFY_H
#define PROCEVENTCTL_NOTIFY_H

#include <stdint.h>

/* Subscribed and serving: READY=1 (once, after the mask is set). */
void pe_notify_ready(void);

/* Still acking: WATCHDOG=1 (from the event loop, at least every
 * pe_notify_watchdog_usec() / 2 microseconds). */
void pe_notify_watchdog(void);

/* The service's watchdog interval in microseconds (WatchdogSec=), 0 when
 * there is none for this process or the build has no libsystemd. */
uint64_t pe_notify_watchdog_usec(void);

#endif
