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
#define PROCEVENT_LIB_VERSION_MINOR	5

#define PROCEVENT_DEVICE	"/dev/procevent"
#define PROCEVENT_PROC_FILE	"/proc/procevent"

/*
 * Every event type this library knows (0.3: fork and exec included; 0.2
 * meant exit and signal only).  procevent_open(PROCEVENT_ALL, ...) on a
 * module that does not raise all of them fails with -EOPNOTSUPP.
 */
#define PROCEVENT_ALL		(PROCEVENT_EXIT | PROCEVENT_SIGNAL | \
				 PROCEVENT_FORK | PROCEVENT_EXEC)

/* --- handles ------------------------------------------------------------ */

/*
 * Open /dev/procevent and, when @mask is not 0, subscribe to @mask.
 * @oflags: 0 or O_NONBLOCK and/or O_CLOEXEC (anything else: -EINVAL).
 * Returns the handle (a file descriptor) or:
 *   -ENOENT   no /dev/procevent: the module is not loaded
 *   -EACCES, -EPERM   not privileged (CAP_SYS_ADMIN is needed)
 *   -ENOSPC   every subscriber slot (module parameter max_subscribers) is taken
 *   -EOPNOTSUPP  @mask holds event types this library knows (PROCEVENT_ALL)
 *             but the running module is too old to raise
 *   -EINVAL   bits in @mask nobody knows, or bad @oflags
 * Nothing stays open on failure.
 */
int procevent_open(uint32_t mask, int oflags);

/* Change the mask (keeps the place in line); 0 unsubscribes.  Errors as
 * procevent_open() for the mask. */
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
 *   -EOPNOTSUPP  the module predates scopes (0.1)
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

/* --- acknowledging and receiving in one call (0.4) ---------------------- */

/*
 * Acknowledge one event and receive the next, in one system call
 * (PROCEVENT_IOC_ACK_RECV), as a MINIX server answered and received with
 * sendrec().  A subscriber that handles one event at a time loops
 *
 *	struct procevent_ack ack = { 0 };	(id 0: nothing to ack yet)
 *	for (;;) {
 *		r = procevent_ack_recv(fd, &ack, &ev, -1, NULL);
 *		if (r < 0) ...
 *		handle(&ev);
 *		ack.id = ev.id;			(flags: 0 or PROCEVENT_ACK_KILL)
 *	}
 *
 * @ack is performed first, exactly as procevent_ack_records() performs
 * one record (NULL, or id 0 with flags 0: no ack); only when it succeeded
 * is the next event received into @ev, waiting as procevent_recv() does
 * with @timeout_ms.  Returns 0 (the ack done, an event received), or a
 * negative errno; then *@acked (when @acked is not NULL) says whether the
 * ack took effect:
 *   0: the ack failed and nothing was received: -ENOENT (not waiting for
 *      this handle's ack), -EINVAL (bad flags; a kill-ack on an exit
 *      event), -EPERM (a kill-ack on the system's init)
 *   1: the ack took effect, then the receive failed: -EAGAIN, -ETIMEDOUT,
 *      -ENOMSG, -EINTR as for procevent_recv()
 * (*@acked is 0 when there was no ack to do.)  A module before 0.4 gets
 * PROCEVENT_IOC_ACK and then the receive: the same results in two calls.
 */
int procevent_ack_recv(int fd, const struct procevent_ack *ack,
		       struct procevent_event *ev, int timeout_ms,
		       int *acked);

/* --- event loop helper -------------------------------------------------- */

/*
 * What a dispatch handler returns for an event.  The values are the
 * library's own and deliberately unlike any uapi flag: a handler that
 * returns PROCEVENT_ACK_KILL (a flag of struct procevent_ack, not a return
 * value) is refused as any unknown value is.
 *   PROCEVENT_DISPATCH_ACK   acknowledge it (batched after the handler
 *                            calls); 0, so "return 0" acks
 *   PROCEVENT_DISPATCH_KEEP  the handler takes it over and acknowledges it
 *                            later itself with procevent_ack()
 *   PROCEVENT_DISPATCH_KILL  acknowledge it with PROCEVENT_ACK_KILL (fork,
 *                            exec and signal events; see below for exit)
 *   negative errno           the handler failed on this event
 *
 * No event is ever stranded: every event dispatch receives is shown to the
 * handler, and every one the handler did not KEEP is acknowledged before
 * dispatch returns.  An event the handler failed on (negative value) or
 * answered with an unknown value gets a plain ack; dispatch goes on with
 * the rest of the batch and then returns the first failure (-EINVAL for
 * an unknown value).  A DISPATCH_KILL the kernel refuses (an exit event:
 * -EINVAL; the system's init: -EPERM) is followed by a plain ack and the
 * refusal is returned.  -ENOENT from an ack (the task was killed, or the
 * ack deadline passed) is not an error: the kernel no longer waits.
 */
#define PROCEVENT_DISPATCH_ACK		0
#define PROCEVENT_DISPATCH_KEEP		0x100
#define PROCEVENT_DISPATCH_KILL		0x200

/*
 * The 0.2 names, for old sources only.  They were easy to confuse with the
 * uapi's PROCEVENT_ACK_KILL; they now stand for the values above, which no
 * uapi flag has, and the two that invited the confusion warn when used.
 */
#define PROCEVENT_ACK	PROCEVENT_DISPATCH_ACK
#define PROCEVENT_KEEP	_Pragma("GCC warning \"PROCEVENT_KEEP is deprecated: use PROCEVENT_DISPATCH_KEEP\"") \
			PROCEVENT_DISPATCH_KEEP
#define PROCEVENT_KILL	_Pragma("GCC warning \"PROCEVENT_KILL is deprecated: use PROCEVENT_DISPATCH_KILL\"") \
			PROCEVENT_DISPATCH_KILL

typedef int (*procevent_handler_t)(int fd, const struct procevent_event *ev,
				   void *arg);

/*
 * For poll/epoll loops: call when @fd is readable (or on a timer; it does
 * not block).  Receives what is waiting, up to @max events (0: 16), calls
 * @handler for each in order and acknowledges them as above.  Returns the
 * number of events handled (0: none was waiting), or the first negative
 * errno (the handler's, a refused kill-ack's, or a failed receive or ack).
 * On a module with PROCEVENT_IOC_ACK_RECV (0.4) the last ack of a batch
 * also takes an event that arrived meanwhile, in the same call, and
 * dispatch goes on with it while fewer than @max were handled: events
 * that come one after the other cost one system call each.
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
 * The one escaping rule for names that come from processes (comm, program
 * paths), used by procevent_format() and by proceventctl for all it prints.
 * @s is read up to its first NUL or @len bytes; what comes out is
 * NUL-terminated and follows snprintf(3) conventions (returns the length
 * the whole text needs).
 *
 * Text (@flags 0): printable ASCII and well-formed UTF-8 characters are
 * copied; a backslash becomes "\\"; tab, newline and carriage return become
 * "\t", "\n", "\r"; every other control character (C0, DEL, and C1 as
 * UTF-8), and every byte that is not part of well-formed UTF-8, becomes
 * "\xHH" (the byte in two lower-case hex digits, C1 as its two UTF-8
 * bytes).  The result is one line of valid UTF-8 from which the original
 * bytes can be read back.
 *
 * JSON (PROCEVENT_ESCAPE_JSON): the inside of a JSON string (no quotes),
 * always valid UTF-8.  '"' and '\\' are escaped, control characters
 * (C0, DEL, C1) are written as "\u00XX" ("\n", "\t", "\r", "\b", "\f"
 * for those five), well-formed UTF-8 is copied, and a byte that is not
 * part of well-formed UTF-8 is written as the four characters \xHH, that
 * is "\\xHH" in the JSON text: the decoded string then shows the byte as
 * the text output does.  (A name that really contains a backslash and
 * "xHH" decodes alike; the text output tells them apart.)
 */
#define PROCEVENT_ESCAPE_JSON	0x1u
int procevent_escape(const char *s, size_t len, char *buf, size_t buflen,
		     unsigned int flags);

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

/* --- the running module (0.3) ------------------------------------------- */

/* Parts of struct procevent_info's version. */
#define PROCEVENT_VERSION(maj, min, patch) \
	(((uint32_t)(maj) << 16) | ((uint32_t)(min) << 8) | (uint32_t)(patch))
#define PROCEVENT_VERSION_MAJOR(v)	(((v) >> 16) & 0xffffu)
#define PROCEVENT_VERSION_MINOR(v)	(((v) >> 8) & 0xffu)
#define PROCEVENT_VERSION_PATCH(v)	((v) & 0xffu)

/*
 * What the running module supports (PROCEVENT_IOC_GET_INFO): its version,
 * the event types, ack flags, scope kinds and event flags it knows, and
 * its limits.  @fd is a handle, or -1 to open /dev/procevent just for the
 * question (needs the same privilege as procevent_open()).  *@info is
 * zeroed first, then filled; info->size says how much the module filled.
 * Returns 0, the errors of procevent_open() for @fd -1, or:
 *   -EOPNOTSUPP  the module predates the query (0.2 or older)
 */
int procevent_features(int fd, struct procevent_info *info);

/*
 * 0 when the running module raises every type in @types, accepts every
 * flag in @ack_flags and every scope kind in @scope_kinds (a bit per
 * PROCEVENT_SCOPE_*, as in struct procevent_info); -EOPNOTSUPP when it
 * does not, or predates the query; otherwise as procevent_features().
 */
int procevent_require(int fd, uint32_t types, uint32_t ack_flags,
		      uint32_t scope_kinds);

/*
 * A message for a negative errno from this library, in its terms: for
 * -EOPNOTSUPP "the procevent module is too old for this (update it)", for
 * -ENOENT on open "the procevent module is not loaded", and so on;
 * strerror(3) for the rest.  A static string; never NULL.
 */
const char *procevent_strerror(int err);

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

/* A task held right now (0.3: the module's "held-task:" lines). */
struct procevent_held {
	pid_t pid;			/* held thread */
	pid_t tgid;			/* its process */
	char comm[16];			/* raw bytes, NUL-terminated */
	uint32_t type;			/* PROCEVENT_EXIT, ... (0: unknown) */
	uint64_t id;			/* event id */
	uint64_t held_ns;		/* since the event was raised */
	unsigned int pos;		/* subscriber it waits on (1-based) */
	pid_t sub_pid;			/* that subscriber's owner */
	int received;			/* 1: received, not acked; 0: queued */
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
	/* 0.3 */
	unsigned int nr_held_tasks;		/* lines given, at most 1000 */
	struct procevent_held *held_tasks;	/* in subscriber order */
	unsigned int held_more;			/* held, not listed ("held-more:") */
	int held_listed;			/* the module lists held tasks */
	/* 0.5: the "pool:" line */
	int pool_shown;				/* the module shows its pool */
	unsigned int pool_size;			/* the pool_size parameter */
	unsigned int pool_free;			/* free events right now */
	uint64_t pool_misses;			/* probes that found it empty */
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
