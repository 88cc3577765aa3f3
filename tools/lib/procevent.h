/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libprocevent: a small library for procevent subscribers.
 *
 * A subscriber opens /dev/procevent with a mask of event types, receives
 * events and acknowledges each one; the process an event is about stays
 * held until the acknowledgement.  The record layout and the rules are in
 * uapi/linux/procevent.h and the project README.
 *
 * Conventions, for every function here:
 *  - errors are returned as a negative errno value (-EPERM, -ENOSPC, ...);
 *    errno itself is left as the failing system call set it;
 *  - the library never prints, never allocates except in
 *    procevent_status_read(), keeps no global state and is thread-safe as
 *    far as the handle is (several threads may receive and acknowledge on
 *    one handle);
 *  - a handle is a plain file descriptor: poll it, pass it to epoll, close
 *    it with close(2).  Closing releases every event still waiting on it to
 *    the next subscriber, so no process stays held.
 *
 * Timeouts of the receive functions are in milliseconds: a negative value
 * waits as long as it takes (on an O_NONBLOCK handle too: the library
 * polls), 0 only looks, a positive value waits at most that long.
 *
 * ABI: symbols are only ever added.  struct procevent_event is the kernel's
 * record and only grows at its end; struct procevent_status is allocated by
 * the library, so fields may be appended to it too.
 */
#ifndef PROCEVENT_LIB_H
#define PROCEVENT_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/procevent.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PROCEVENT_LIB_VERSION_MAJOR	0
#define PROCEVENT_LIB_VERSION_MINOR	2

#define PROCEVENT_DEVICE	"/dev/procevent"
#define PROCEVENT_PROC_FILE	"/proc/procevent"

/*
 * The event types of SPEC sections 1-6: what "every event" means to the
 * tools.  Fork and exec events (0.2) are asked for by name.
 */
#define PROCEVENT_ALL		(PROCEVENT_EXIT | PROCEVENT_SIGNAL)

/* --- handles ------------------------------------------------------------ */

/*
 * Open /dev/procevent and, when @mask is not 0, subscribe to @mask.
 * @oflags: 0 or O_NONBLOCK and/or O_CLOEXEC (anything else: -EINVAL).
 * Returns the handle (a file descriptor) or:
 *   -ENOENT   no /dev/procevent: the module is not loaded
 *   -EACCES, -EPERM   not privileged (CAP_SYS_ADMIN is needed)
 *   -ENOSPC   every subscriber slot (module parameter max_subscribers) is taken
 *   -EINVAL   bits in @mask the module does not know, or bad @oflags
 * Nothing stays open on failure.
 */
int procevent_open(uint32_t mask, int oflags);

/* Change the mask (keeps the place in line); 0 unsubscribes. */
int procevent_set_mask(int fd, uint32_t mask);

/* Ack deadline in nanoseconds for events that reach @fd from now on; 0 waits forever. */
int procevent_set_timeout(int fd, uint64_t timeout_ns);

/* --- scope (0.2) ---------------------------------------------------------- */

/*
 * Limit @fd to the events of some tasks (PROCEVENT_IOC_SET_SCOPE).  An
 * event outside the scope passes the handle by as a mask miss does; the
 * handle keeps its place in line and the events already queued to it.
 *
 * procevent_set_scope() is the ioctl as it is: @kind is a
 * PROCEVENT_SCOPE_* value, @scope_fd a cgroup v2 directory for
 * PROCEVENT_SCOPE_CGROUP, -1 for PROCEVENT_SCOPE_PIDNS, ignored for
 * PROCEVENT_SCOPE_ALL.  Errors:
 *   -EBADF    @scope_fd is not an open file descriptor
 *   -ENOTDIR  @scope_fd is not a directory of a cgroup v2 file system
 *   -EINVAL   unknown @kind, or PIDNS with @scope_fd other than -1
 * The others are shorthands:
 *   _all      every task again (the default)
 *   _cgroup   the cgroup v2 directory @path (for example
 *             "/sys/fs/cgroup/app.slice") and everything below it;
 *             also -ENOENT, -EACCES, ... from opening @path (the library
 *             closes it again: the kernel keeps its own reference)
 *   _cgroup_fd  the same with a directory already open
 *   _pidns    tasks visible in the caller's pid namespace
 */
int procevent_set_scope(int fd, uint32_t kind, int scope_fd);
int procevent_set_scope_all(int fd);
int procevent_set_scope_cgroup(int fd, const char *path);
int procevent_set_scope_cgroup_fd(int fd, int cgroup_dirfd);
int procevent_set_scope_pidns(int fd);

/* --- receiving ---------------------------------------------------------- */

/*
 * Receive the oldest event waiting for @fd into @ev.
 * Returns 0, or:
 *   -EAGAIN     @timeout_ms is 0 and no event is waiting
 *   -ETIMEDOUT  @timeout_ms > 0 passed without an event
 *   -ENOMSG     the handle is not subscribed and nothing is left for it
 *   -EINTR      a signal handler ran while waiting
 * With a timeout on a blocking handle, an event another thread takes
 * between the wake-up and the receive makes the call block until the next
 * one; open the handle O_NONBLOCK when several threads receive.
 */
int procevent_recv(int fd, struct procevent_event *ev, int timeout_ms);

/*
 * Receive up to @max events at once (one read(2)).  Waits as
 * procevent_recv() does for the first one, then takes whatever else is
 * already waiting.  Returns the number received (>= 1) or a negative
 * errno as procevent_recv().
 */
ssize_t procevent_recv_many(int fd, struct procevent_event *evs, size_t max,
			    int timeout_ms);

/* --- acknowledging ------------------------------------------------------ */

/*
 * Acknowledge one received event.  -ENOENT: it is not waiting for this
 * handle's ack (already acked, withdrawn because the task was killed, or
 * its ack deadline passed).
 */
int procevent_ack(int fd, uint64_t id);

/*
 * Acknowledge @n events in order, as few system calls as possible.  Stops
 * at the first that fails: returns the number acknowledged (so ids[ret]
 * failed when ret < n), or that failure's negative errno when the first
 * one failed.
 */
ssize_t procevent_ack_many(int fd, const uint64_t *ids, size_t n);

/*
 * Veto (0.2): acknowledge with PROCEVENT_ACK_KILL.  The task of a fork,
 * exec or signal event is released with SIGKILL pending, so it dies
 * before it runs another instruction of its own; the subscribers after
 * this one are not asked.  For an exit event the kernel says -EINVAL and
 * the event stays received, waiting for a plain ack.  Otherwise the
 * errors of procevent_ack().
 */
int procevent_ack_kill(int fd, uint64_t id);

/* procevent_ack_many(), every ack with PROCEVENT_ACK_KILL. */
ssize_t procevent_ack_kill_many(int fd, const uint64_t *ids, size_t n);

/*
 * Acknowledge @n events, each with its own flags, in order (plain acks
 * and kill-acks mixed).  @acks[i].reserved must be 0.  Returns as
 * procevent_ack_many() does.
 */
ssize_t procevent_ack_records(int fd, const struct procevent_ack *acks,
			      size_t n);

/* --- event loop helper -------------------------------------------------- */

/*
 * What a dispatch handler returns for an event:
 *   PROCEVENT_ACK    acknowledge it now (batched after the handler calls)
 *   PROCEVENT_KEEP   the handler acknowledges it later with procevent_ack()
 *   PROCEVENT_KILL   acknowledge it with PROCEVENT_ACK_KILL (0.2; fork,
 *                    exec and signal events only: on an exit event the
 *                    kernel refuses, dispatch returns -EINVAL and the
 *                    event stays received)
 *   negative errno   stop; events received so far are still acked as asked,
 *                    the rest of the batch is handed back unacked (the
 *                    kernel keeps them received: ack or close later)
 */
#define PROCEVENT_ACK	0
#define PROCEVENT_KEEP	1
#define PROCEVENT_KILL	2

typedef int (*procevent_handler_t)(int fd, const struct procevent_event *ev,
				   void *arg);

/*
 * For poll/epoll loops: call when @fd is readable (or on a timer; it does
 * not block).  Receives what is waiting, up to @max events (0: 16), calls
 * @handler for each in order and acknowledges the ones it returned
 * PROCEVENT_ACK for.  Returns the number of events handled (0: none was
 * waiting), the handler's negative return value, or a negative errno.
 */
int procevent_dispatch(int fd, procevent_handler_t handler, void *arg,
		       unsigned int max);

/* --- formatting --------------------------------------------------------- */

/* "exit", "signal", "fork", "exec", or NULL (0 or not exactly one known bit). */
const char *procevent_type_name(uint32_t type);

/* "SIGKILL", "SIGRTMIN+2", ...; NULL when @signo is not a signal number. */
const char *procevent_signal_name(int signo);

/*
 * A wait(2) status as a shell would explain $?: "exited with status 3",
 * "killed by SIGKILL", "killed by SIGSEGV (core dumped)".  snprintf(3)
 * conventions: returns the length the full text needs.
 */
int procevent_format_status(int status, char *buf, size_t len);

/* procevent_format() flags */
#define PROCEVENT_FORMAT_JSON	0x1u	/* one JSON object, no newline */

/*
 * One event as one line of text (no newline), for example
 *   exit pid 312 (worker) ppid 1 uid 0: exited with status 3 [id 17]
 *   signal pid 40 (srv) tgid 38 ppid 1 uid 0: SIGUSR1 from pid 12 uid 0 [id 18]
 *   fork pid 313 (worker) ppid 312 uid 0: new process [id 19]
 *   exec pid 313 (sort) ppid 312 uid 0: new program [id 20]
 * (a fork event is about the child, with its parent as ppid; an exec
 * event's comm is already the new program's), or, with
 * PROCEVENT_FORMAT_JSON, an object with every field of struct
 * procevent_event under its own name ("type" as a name, "comm" as a
 * string), plus decoded fields: "signal" (name of signo) for a signal
 * event; "exit_code", or "term_signal" and "core_dumped", for an exit.
 * snprintf(3) conventions; -EINVAL for unknown @flags.
 */
int procevent_format(const struct procevent_event *ev, char *buf, size_t len,
		     unsigned int flags);

/* --- introspection (/proc/procevent) ------------------------------------ */

struct procevent_counters {
	uint64_t raised, delivered, acked, withdrawn, timedout, lost;
};

struct procevent_subscriber {
	unsigned int pos;		/* 1-based place in line */
	pid_t pid;			/* opener's process */
	char comm[16];			/* opener's name */
	uint32_t mask;
	unsigned int waiting;		/* queued, not received */
	unsigned int received;		/* received, not acked */
	uint64_t acked;
	uint64_t timeouts;
	uint64_t timeout_ns;		/* 0: waits forever */
};

/*
 * More about each subscriber (0.2), in a separate array parallel to
 * subscribers[] so that the stride of that array never changes.
 */
struct procevent_subscriber_ext {
	char scope[16];			/* "all", "cgroup", "pidns"; "" if not shown */
};

struct procevent_type_counters {
	char name[16];			/* "exit", "signal", ... as the module names it */
	struct procevent_counters c;
};

struct procevent_status {
	unsigned int held;			/* tasks held right now */
	struct procevent_counters exit;		/* PROCEVENT_EXIT */
	struct procevent_counters signal;	/* PROCEVENT_SIGNAL */
	unsigned int nr_subscribers;
	struct procevent_subscriber *subscribers;	/* in list order */
	unsigned int nr_types;			/* every "events:" line, in order */
	struct procevent_type_counters *types;
	/* 0.2 */
	struct procevent_counters fork;		/* PROCEVENT_FORK */
	struct procevent_counters exec;		/* PROCEVENT_EXEC */
	struct procevent_subscriber_ext *subscribers_ext; /* [nr_subscribers] */
};

/*
 * Read and parse /proc/procevent (needs root: the file is 0400).
 * *@out is allocated; free it with procevent_status_free().  Lines and keys
 * the library does not know are skipped.  -ENOENT: module not loaded.
 */
int procevent_status_read(struct procevent_status **out);
/* Same, from text already read (for tests and remote copies). */
int procevent_status_parse(const char *text, struct procevent_status **out);
void procevent_status_free(struct procevent_status *st);

#ifdef __cplusplus
}
#endif

#endif /* PROCEVENT_LIB_H */
