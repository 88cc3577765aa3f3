// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: a subscriber never waits for itself (SPEC 9.2) and a
 * subscription belongs to a process, its owner (SPEC 9.3).
 *
 * User-mode helpers (modprobe for request_module(), the request-key
 * upcall) and an owner's own vfork-style child until it has exec'd raise
 * no event: a subscriber inside the system call that waits for them would
 * otherwise wait for itself.  Every handle here has an ack deadline of
 * PE_DEADLINE_MS, so a module that does hold such a task ends the
 * self-deadlock at the deadline and the test fails on the time the call
 * took instead of hanging.
 *
 * The owner is the process that last set a non-zero mask.  When it exits,
 * the subscription ends as if the handle were closed, although another
 * process (here the owner's child) still holds the file; a holder may
 * take the subscription over while it is listed, or subscribe anew after
 * it ended.
 */
#include "procevent_util.h"
#include <sched.h>
#include <spawn.h>
#include <linux/keyctl.h>
#include <sys/socket.h>
#include "kselftest_harness.h"

PE_EXEC_HELPER()

/* Ack deadline of every handle: ends a self-deadlock in bounded time. */
#define PE_DEADLINE_MS	3000
/* A call that must not wait for the subscriber returns well before it. */
#define PE_PROMPT_MS	1000

FIXTURE(self) {
	int unused;
};

FIXTURE_SETUP(self)
{
	PE_SETUP_REQUIRE_MODULE();
	/* An owner's child outlives it: it is reparented here and reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN(self)
{
	pe_cleanup();
	pe_helper_remove();
}

/* A handle with the deadline, subscribed to mask: the fd or -errno. */
static int open_sub(uint32_t mask)
{
	int fd = pe_open(), r;

	if (fd < 0)
		return fd;
	r = pe_set_timeout(fd, PE_DEADLINE_MS * PE_MS);
	if (!r)
		r = pe_set_mask(fd, mask);
	if (r) {
		pe_close(fd);
		return r;
	}
	return fd;
}

static uint64_t ms_since(uint64_t t0)
{
	return (pe_mono() - t0) / PE_MS;
}

static long long raised_sum(const struct pe_stats *s)
{
	return s->exit.raised + s->signal.raised + s->fork.raised +
	       s->exec.raised;
}

/*
 * Nothing reached fd and nothing was raised since s0: no event waits, the
 * handle had no event time out, and the raised counters did not move.
 */
static void expect_no_event(struct __test_metadata *_metadata, int fd,
			    const struct pe_stats *s0)
{
	struct procevent_event ev;
	struct pe_stats s1;

	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev))
		TH_LOG("event type %u pid %d comm %s", ev.type, ev.pid,
		       ev.comm);
	EXPECT_EQ(0, pe_fdv(fd, "timeouts"))
		TH_LOG("an event waited on this handle until its deadline");
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(raised_sum(s0), raised_sum(&s1))
		TH_LOG("raised: exit %lld signal %lld fork %lld exec %lld",
		       s1.exit.raised - s0->exit.raised,
		       s1.signal.raised - s0->signal.raised,
		       s1.fork.raised - s0->fork.raised,
		       s1.exec.raised - s0->exec.raised);
}

/*
 * "owner=<pid>" ending the /proc/procevent subscriber line at pos: the
 * pid, -1 when there is no such line, -2 when the line does not end so.
 */
static long long proc_owner_at(int pos)
{
	char line[512], pat[32];
	long long r = -1;
	FILE *f;

	f = fopen(PE_PROC, "re");
	if (!f)
		return -1;
	snprintf(pat, sizeof(pat), " pos=%d ", pos);
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;

		if (strncmp(line, "subscriber:", 11) || !strstr(line, pat))
			continue;
		line[strcspn(line, "\n")] = 0;
		r = -2;
		p = strrchr(line, ' ');
		if (p && !strncmp(p, " owner=", 7)) {
			long long v = strtoll(p + 7, &end, 10);

			if (end != p + 7 && !*end)
				r = v;
		}
		break;
	}
	fclose(f);
	return r;
}

/* ---- 9.2: user-mode helpers ------------------------------------------ */

/*
 * socket(AF_APPLETALK) makes the kernel run modprobe (request_module)
 * and wait for it; the VM has no module to load, any errno will do.
 */
static void modprobe_raises_nothing(struct __test_metadata *_metadata,
				    uint32_t mask)
{
	struct pe_stats s0;
	uint64_t t0, ms;
	int fd, s, err;

	fd = open_sub(mask);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_stats_read(&s0));
	t0 = pe_mono();
	s = socket(AF_APPLETALK, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	err = errno;
	ms = ms_since(t0);
	if (s >= 0)
		close(s);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("socket(AF_APPLETALK) took %llu ms (errno %d): the subscriber waited for modprobe",
		       (unsigned long long)ms, s < 0 ? err : 0);
	expect_no_event(_metadata, fd, &s0);
}

TEST_F(self, modprobe_helper_raises_no_exit_event)
{
	modprobe_raises_nothing(_metadata, PROCEVENT_EXIT);
}

TEST_F(self, modprobe_helper_raises_no_event_of_any_type)
{
	modprobe_raises_nothing(_metadata, PROCEVENT_EXIT | PROCEVENT_SIGNAL |
				PROCEVENT_FORK | PROCEVENT_EXEC);
}

/* request_key() with callout info runs /sbin/request-key and waits. */
TEST_F(self, request_key_helper_raises_no_event)
{
	struct pe_stats s0;
	uint64_t t0, ms;
	long r;
	int fd, err;

	fd = open_sub(PROCEVENT_EXIT | PROCEVENT_SIGNAL | PROCEVENT_FORK |
		      PROCEVENT_EXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_stats_read(&s0));
	t0 = pe_mono();
	r = syscall(SYS_request_key, "user", "pe-x", "callout",
		    KEY_SPEC_PROCESS_KEYRING);
	err = errno;
	ms = ms_since(t0);
	if (r < 0 && err == ENOSYS)
		SKIP(return, "request_key: ENOSYS (kernel without CONFIG_KEYS)");
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("request_key took %llu ms (r %ld errno %d): the subscriber waited for the upcall",
		       (unsigned long long)ms, r, r < 0 ? err : 0);
	expect_no_event(_metadata, fd, &s0);
}

/* ---- 9.2: the owner's vfork-style children --------------------------- */

/*
 * glibc's posix_spawn: a CLONE_VM | CLONE_VFORK child whose exec fails
 * exits at once, and the parent waits for it inside libc.
 */
TEST_F(self, failed_posix_spawn_raises_nothing)
{
	static char *const argv[] = { "pe-no-such-program", NULL };
	static char *const envp[] = { NULL };
	struct pe_stats s0;
	pid_t pid = -1;
	uint64_t t0, ms;
	int fd, err;

	fd = open_sub(PROCEVENT_EXIT | PROCEVENT_FORK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_stats_read(&s0));
	t0 = pe_mono();
	err = posix_spawn(&pid, "/nonexistent/pe-no-such-program", NULL,
			  NULL, argv, envp);
	ms = ms_since(t0);
	EXPECT_EQ(ENOENT, err);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("posix_spawn took %llu ms: the subscriber waited for its own child",
		       (unsigned long long)ms);
	expect_no_event(_metadata, fd, &s0);
}

/* struct clone_args, CLONE_ARGS_SIZE_VER0 */
struct pe_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls;
};

/*
 * clone3(CLONE_VFORK) without CLONE_VM: a vfork-style child with its own
 * copy of the memory, exiting at once without an exec.
 */
TEST_F(self, clone3_vfork_child_exiting_without_exec_raises_nothing)
{
	struct pe_clone_args args = {
		.flags = CLONE_VFORK, .exit_signal = SIGCHLD,
	};
	struct pe_stats s0;
	uint64_t t0, ms;
	long pid;
	int fd, st = -1;

	fd = open_sub(PROCEVENT_EXIT | PROCEVENT_FORK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_stats_read(&s0));
	fflush(NULL);
	t0 = pe_mono();
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		_exit(7);
	ms = ms_since(t0);
	if (pid < 0 && errno == ENOSYS)
		SKIP(return, "clone3: ENOSYS");
	ASSERT_LT(0, pid) TH_LOG("clone3: %s", strerror(errno));
	pe_track_pid(pid);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("clone3(CLONE_VFORK) returned after %llu ms: its child was held",
		       (unsigned long long)ms);
	ASSERT_EQ(0, pe_reap(pid, 2 * PE_DEADLINE_MS, &st));
	ms = ms_since(t0);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("the child was reaped %llu ms after clone3: its exit was held",
		       (unsigned long long)ms);
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(7, WEXITSTATUS(st));
	expect_no_event(_metadata, fd, &s0);
}

/* vfork() and exec the helper program; the child's pid or -errno. */
static pid_t __attribute__((noinline)) vfork_helper(int wfd)
{
	pid_t pid;

	pid = vfork();
	if (pid == 0) {
		if (dup2(wfd, PE_HELPER_FD) >= 0)
			execve(pe_helper_path, pe_helper_argv, pe_helper_envp);
		_exit(127);
	}
	return pid < 0 ? -errno : pid;
}

/*
 * Once the owner's vfork child has exec'd, it is an ordinary process: its
 * EXEC is raised (no FORK before it), and so is its exit, which is held
 * until the ack.
 */
TEST_F(self, vfork_child_exec_and_later_exit_are_raised)
{
	struct procevent_event ev;
	uint64_t t0, ms;
	pid_t pid;
	int fd, hp[2], st = -1;
	char c = 0;

	ASSERT_EQ(0, pe_helper_install());
	ASSERT_EQ(0, pipe2(hp, O_CLOEXEC));
	fd = open_sub(PROCEVENT_EXIT | PROCEVENT_FORK | PROCEVENT_EXEC);
	ASSERT_LE(0, fd);
	fflush(NULL);
	t0 = pe_mono();
	pid = vfork_helper(hp[1]);
	ms = ms_since(t0);
	ASSERT_LT(0, pid);
	pe_track_pid(pid);
	close(hp[1]);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("vfork returned after %llu ms", (unsigned long long)ms);

	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXEC, pid, &ev))
		TH_LOG("type %u pid %d, expected EXEC of %d", ev.type, ev.pid,
		       pid);
	EXPECT_STREQ(PE_HELPER_NAME, ev.comm);
	EXPECT_EQ(0, pe_poll_in(hp[0], PE_QUIET_MS))
		TH_LOG("the new program ran before the ack");
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(1, pe_poll_in(hp[0], PE_WAIT_MS));
	EXPECT_EQ(1, read(hp[0], &c, 1));
	EXPECT_EQ('N', c);

	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXIT, pid, &ev))
		TH_LOG("type %u pid %d, expected EXIT of %d", ev.type, ev.pid,
		       pid);
	EXPECT_EQ(PE_HELPER_CODE, WEXITSTATUS(ev.status));
	pe_sleep_ms(PE_QUIET_MS);
	EXPECT_EQ(1, pe_alive(pid)) TH_LOG("the exit was not held");
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, pid, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(PE_HELPER_CODE, WEXITSTATUS(st));
	EXPECT_EQ(0, pe_quiet(fd, 50, &ev));
	close(hp[0]);
}

/* ---- 9.3: the owner -------------------------------------------------- */

TEST_F(self, owner_shown_in_fdinfo_and_proc)
{
	int fd = pe_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pe_fdv(fd, "owner")) TH_LOG("unsubscribed handle");
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	EXPECT_EQ(getpid(), pe_fdv(fd, "owner"));
	EXPECT_EQ(getpid(), proc_owner_at(1))
		TH_LOG("the subscriber line does not end with owner=%d",
		       getpid());
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	EXPECT_EQ(0, pe_fdv(fd, "owner")) TH_LOG("after mask 0");
}

/*
 * The owner S (a child of the test) opens a handle, subscribes it and
 * forks C, which keeps the file: C is a holder, not the owner.  Each
 * obeys commands on its own pipes:
 *   'm' <u32>  SET_MASK               'w'  wait for an event, receive it
 *   'R'        one RECV (no wait)     'D'  one read(2) of a record
 *   'a' <u64>  ACK                    'x' or end of file: exit
 * and answers with a struct reply (r: 0 or -errno, or read's count).
 */
struct reply {
	int32_t r;
	int32_t pid;
	uint64_t id;
};

struct owner_arg {
	uint32_t mask;
	int c_gate;	/* C reads its commands here */
	int c_report;	/* C answers here */
};

struct hello {
	int32_t fd;
	int32_t c;	/* C's pid, or -errno */
};

static int read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

static int holder_loop(int fd, int rd, int wr)
{
	struct procevent_event ev;
	unsigned char c;
	uint32_t mask;
	uint64_t id;

	for (;;) {
		struct reply rep = { 0 };
		ssize_t n;

		if (read_all(rd, &c, 1))
			return 0;
		switch (c) {
		case 'm':
			if (read_all(rd, &mask, sizeof(mask)))
				return 1;
			rep.r = pe_set_mask(fd, mask);
			break;
		case 'w':
			rep.r = pe_wait_event(fd, &ev, PE_WAIT_MS);
			if (!rep.r) {
				rep.pid = ev.pid;
				rep.id = ev.id;
			}
			break;
		case 'R':
			rep.r = pe_recv(fd, &ev);
			break;
		case 'D':
			n = read(fd, &ev, sizeof(ev));
			rep.r = n < 0 ? -errno : (int32_t)n;
			break;
		case 'a':
			if (read_all(rd, &id, sizeof(id)))
				return 1;
			rep.r = pe_ack(fd, id);
			break;
		default:
			return 0;
		}
		if (write(wr, &rep, sizeof(rep)) != sizeof(rep))
			return 1;
	}
}

static int owner_main(void *arg)
{
	const struct owner_arg *a = arg;
	struct hello h = { .fd = -1, .c = 0 };
	pid_t c;
	int fd;

	prctl(PR_SET_NAME, "pe-owner");
	fd = open(PE_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || pe_set_timeout(fd, PE_DEADLINE_MS * PE_MS) ||
	    pe_set_mask(fd, a->mask)) {
		h.c = -errno;
		pe_report(&h, sizeof(h));
		return 100;
	}
	c = fork();
	if (c == 0) {
		/* The owner's death must not take the holder with it. */
		close(pe_gate_rd);
		close(pe_report_wr);
		prctl(PR_SET_NAME, "pe-holder");
		_exit(holder_loop(fd, a->c_gate, a->c_report));
	}
	close(a->c_gate);
	close(a->c_report);
	h.fd = fd;
	h.c = c < 0 ? -errno : c;
	pe_report(&h, sizeof(h));
	return c < 0 ? 101 : holder_loop(fd, pe_gate_rd, pe_report_wr);
}

struct pair {
	struct pe_child s;	/* the owner */
	struct pe_child c;	/* the holder: pid, gate, report */
	int fd;			/* the handle's number in both */
};

/* Start S (subscribed with mask) and C: 0 or -errno. */
static int pair_start(struct pair *p, uint32_t mask)
{
	struct owner_arg a = { .mask = mask };
	struct hello h;
	int g[2], r[2], err;

	if (pipe2(g, O_CLOEXEC) || pipe2(r, O_CLOEXEC))
		return -errno;
	a.c_gate = g[0];
	a.c_report = r[1];
	err = pe_spawn(&p->s, owner_main, &a);
	close(g[0]);
	close(r[1]);
	if (err)
		return err;
	p->c.gate = g[1];
	p->c.report = r[0];
	err = pe_expect(&p->s, &h, sizeof(h), PE_WAIT_MS);
	if (err)
		return err;
	if (h.fd < 0 || h.c <= 0)
		return h.c < 0 ? h.c : -EPROTO;
	p->fd = h.fd;
	p->c.pid = h.c;
	pe_track_pid(h.c);
	return 0;
}

/* Send a command (with its argument) and wait for the reply. */
static int pair_cmd(struct pe_child *k, char c, const void *arg, size_t len,
		    struct reply *rep)
{
	char buf[16];

	buf[0] = c;
	if (len)
		memcpy(buf + 1, arg, len);
	if (write(k->gate, buf, 1 + len) != (ssize_t)(1 + len))
		return -errno;
	memset(rep, 0, sizeof(*rep));
	return pe_expect(k, rep, sizeof(*rep), 2 * PE_WAIT_MS);
}

/* The command's result, or -ETIME when the process did not answer. */
static int32_t pair_do(struct pe_child *k, char c)
{
	struct reply rep;

	return pair_cmd(k, c, NULL, 0, &rep) ? -ETIME : rep.r;
}

static int32_t pair_mask(struct pe_child *k, uint32_t mask)
{
	struct reply rep;

	return pair_cmd(k, 'm', &mask, sizeof(mask), &rep) ? -ETIME : rep.r;
}

static int32_t pair_ack(struct pe_child *k, uint64_t id)
{
	struct reply rep;

	return pair_cmd(k, 'a', &id, sizeof(id), &rep) ? -ETIME : rep.r;
}

/* Let k wait for an event and receive it: 0 with *id, *pid, or -errno. */
static int32_t pair_wait(struct pe_child *k, uint64_t *id, pid_t *pid)
{
	struct reply rep;

	if (pair_cmd(k, 'w', NULL, 0, &rep))
		return -ETIME;
	*id = rep.id;
	*pid = rep.pid;
	return rep.r;
}

/* fdinfo of the holder's copy of the handle: the value or -1. */
static long long holder_fdv(struct pair *p, const char *key)
{
	unsigned long long v = 0;

	return pe_fdinfo_pid(p->c.pid, p->fd, key, &v) ? -1 : (long long)v;
}

/* Wait until the holder's fdinfo key reaches want, for at most ms. */
static int holder_fdv_wait(struct pair *p, const char *key, long long want,
			   int ms)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;

	while (holder_fdv(p, key) != want) {
		if (pe_mono() >= end)
			return -ETIMEDOUT;
		pe_sleep_ms(2);
	}
	return 0;
}

/* SIGKILL the owner and reap it: 0 or -errno. */
static int kill_owner(struct pair *p)
{
	int st = 0, r;

	if (kill(p->s.pid, SIGKILL))
		return -errno;
	r = pe_reap(p->s.pid, PE_WAIT_MS, &st);
	if (r)
		return r;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : -EPROTO;
}

/* A child with a SIGUSR1 handler that reports the signal. */
static void on_usr1(int sig)
{
	pe_report_byte((char)sig);
}

static int usr1_child(void *arg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL))
		return 100;
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(self, owner_exit_ends_subscription_exit_not_held)
{
	struct pair p;
	struct pe_child k;
	uint64_t t0, ms;
	int st = -1;

	ASSERT_EQ(0, pair_start(&p, PROCEVENT_EXIT));
	EXPECT_EQ(1, holder_fdv(&p, "position"));
	ASSERT_EQ(0, kill_owner(&p));
	/* The holder still has the file; nobody is subscribed any more. */
	ASSERT_EQ(0, pe_spawn_exit(&k, 4));
	t0 = pe_mono();
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_reap(k.pid, 2 * PE_DEADLINE_MS, &st));
	ms = ms_since(t0);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("an unrelated exit was held %llu ms after the owner died",
		       (unsigned long long)ms);
	EXPECT_EQ(4, WEXITSTATUS(st));
}

TEST_F(self, owner_exit_removes_subscriber_line)
{
	struct pe_stats s;
	struct pair p;

	ASSERT_EQ(0, pair_start(&p, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(1, s.nsubs);
	EXPECT_EQ(p.s.pid, proc_owner_at(1));
	EXPECT_EQ(p.s.pid, holder_fdv(&p, "owner"));
	ASSERT_EQ(0, kill_owner(&p));
	EXPECT_EQ(0, holder_fdv_wait(&p, "position", 0, PE_WAIT_MS))
		TH_LOG("the handle stayed in the list after its owner died");
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(0, s.nsubs) TH_LOG("a subscriber line is left");
	EXPECT_EQ(0, holder_fdv(&p, "owner"));
}

TEST_F(self, owner_exit_leaves_holder_unsubscribed)
{
	struct pe_child k;
	struct pair p;
	uint64_t id = 0;
	pid_t pid = 0;

	ASSERT_EQ(0, pair_start(&p, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	/* The owner receives k's exit and dies without acking it. */
	ASSERT_EQ(0, pair_wait(&p.s, &id, &pid));
	ASSERT_EQ(k.pid, pid);
	ASSERT_EQ(0, kill_owner(&p));
	EXPECT_EQ(0, holder_fdv_wait(&p, "position", 0, PE_WAIT_MS))
		TH_LOG("the handle stayed in the list after its owner died");
	EXPECT_EQ(-ENOMSG, pair_do(&p.c, 'R'));
	EXPECT_EQ(0, pair_do(&p.c, 'D'));
	EXPECT_EQ(-ENOENT, pair_ack(&p.c, id))
		TH_LOG("the holder acked an event of the ended subscription");
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(self, owner_exit_moves_waiting_events_to_next_in_order)
{
	struct procevent_event ev;
	struct pe_child k1, k2;
	unsigned long long q = 0;
	struct pair p;
	uint64_t id1 = 0, t0, ms, end;
	pid_t pid = 0;
	int t, st = -1;

	ASSERT_EQ(0, pair_start(&p, PROCEVENT_EXIT));
	t = open_sub(PROCEVENT_EXIT);
	ASSERT_LE(0, t);
	EXPECT_EQ(2, pe_fdv(t, "position"));
	/* k1's exit received by the owner, k2's queued to it. */
	ASSERT_EQ(0, pe_spawn_exit(&k1, 1));
	ASSERT_EQ(0, pe_go(&k1, 'x'));
	ASSERT_EQ(0, pair_wait(&p.s, &id1, &pid));
	ASSERT_EQ(k1.pid, pid);
	ASSERT_EQ(0, pe_spawn_exit(&k2, 2));
	ASSERT_EQ(0, pe_go(&k2, 'x'));
	end = pe_mono() + PE_WAIT_MS * PE_MS;
	while (!(pe_fdinfo_pid(p.s.pid, p.fd, "queued", &q) == 0 && q == 1) &&
	       pe_mono() < end)
		pe_sleep_ms(2);
	ASSERT_EQ(1, q);
	EXPECT_EQ(0, pe_quiet(t, 0, &ev));

	t0 = pe_mono();
	ASSERT_EQ(0, kill_owner(&p));
	ASSERT_EQ(0, pe_wait_event(t, &ev, PE_WAIT_MS))
		TH_LOG("the owner's events did not move on");
	ms = ms_since(t0);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("moved on after %llu ms (deadline %d ms)",
		       (unsigned long long)ms, PE_DEADLINE_MS);
	EXPECT_EQ(id1, ev.id);
	EXPECT_EQ(k1.pid, ev.pid);
	ASSERT_EQ(0, pe_ack_reap(t, ev.id, k1.pid, &st));
	EXPECT_EQ(1, WEXITSTATUS(st));
	ASSERT_EQ(0, pe_wait_event(t, &ev, PE_WAIT_MS));
	EXPECT_EQ(k2.pid, ev.pid);
	EXPECT_LT(id1, ev.id);
	ASSERT_EQ(0, pe_ack_reap(t, ev.id, k2.pid, &st));
	EXPECT_EQ(2, WEXITSTATUS(st));
	EXPECT_EQ(0, pe_fdv(t, "timeouts"));
}

TEST_F(self, holder_set_mask_takes_over_and_keeps_place)
{
	struct pair p;
	int t;

	ASSERT_EQ(0, pair_start(&p, PROCEVENT_SIGNAL));
	t = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, t);
	EXPECT_EQ(p.s.pid, holder_fdv(&p, "owner"));
	ASSERT_EQ(0, pair_mask(&p.c, PROCEVENT_SIGNAL | PROCEVENT_FORK));
	EXPECT_EQ(p.c.pid, holder_fdv(&p, "owner"));
	EXPECT_EQ(1, holder_fdv(&p, "position"));
	EXPECT_EQ(PROCEVENT_SIGNAL | PROCEVENT_FORK, holder_fdv(&p, "mask"));
	EXPECT_EQ(2, pe_fdv(t, "position"));
	EXPECT_EQ(p.c.pid, proc_owner_at(1));
	EXPECT_EQ(getpid(), proc_owner_at(2));
}

TEST_F(self, old_owner_exit_does_not_end_taken_over_subscription)
{
	struct procevent_event ev;
	struct pe_child k;
	struct pair p;
	uint64_t id = 0;
	pid_t pid = 0;
	int t;

	ASSERT_EQ(0, pair_start(&p, PROCEVENT_SIGNAL));
	t = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, t);
	ASSERT_EQ(0, pair_mask(&p.c, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, kill_owner(&p));
	pe_sleep_ms(PE_QUIET_MS);
	EXPECT_EQ(1, holder_fdv(&p, "position"))
		TH_LOG("the old owner's exit ended the subscription");
	EXPECT_EQ(p.c.pid, holder_fdv(&p, "owner"));
	EXPECT_EQ(2, pe_fdv(t, "position"));

	/* Still first in line: a signal event reaches it before t. */
	ASSERT_EQ(0, pe_spawn(&k, usr1_child, NULL));
	ASSERT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pair_wait(&p.c, &id, &pid));
	EXPECT_EQ(k.pid, pid);
	EXPECT_EQ(0, pe_quiet(t, PE_QUIET_MS, &ev)) TH_LOG("t before the holder");
	ASSERT_EQ(0, pair_ack(&p.c, id));
	ASSERT_EQ(0, pe_wait_event(t, &ev, PE_WAIT_MS));
	EXPECT_EQ(id, ev.id);
	ASSERT_EQ(0, pe_ack(t, ev.id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(self, holder_subscribing_after_owner_exit_joins_at_end_as_owner)
{
	struct pair p;
	int t;

	ASSERT_EQ(0, pair_start(&p, PROCEVENT_SIGNAL));
	t = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, t);
	ASSERT_EQ(0, kill_owner(&p));
	ASSERT_EQ(0, holder_fdv_wait(&p, "position", 0, PE_WAIT_MS))
		TH_LOG("the handle stayed in the list after its owner died");
	EXPECT_EQ(1, pe_fdv(t, "position"));
	ASSERT_EQ(0, pair_mask(&p.c, PROCEVENT_SIGNAL));
	EXPECT_EQ(2, holder_fdv(&p, "position"));
	EXPECT_EQ(p.c.pid, holder_fdv(&p, "owner"));
	EXPECT_EQ(1, pe_fdv(t, "position"));
	EXPECT_EQ(getpid(), proc_owner_at(1));
	EXPECT_EQ(p.c.pid, proc_owner_at(2));
}

/* The thread of takeover_child that takes the subscription over. */
static void *takeover_thread(void *arg)
{
	uint32_t mask = PROCEVENT_SIGNAL;
	int fd = (int)(long)arg;

	if (pe_gate_wait() == 'm' &&
	    !ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask))
		pe_report_byte('M');
	return NULL;
}

/*
 * Takes a handled SIGUSR1 in its main thread (held: it does not own the
 * subscription yet) while its other thread sets a non-zero mask.
 */
static int takeover_child(void *arg)
{
	struct sigaction sa;
	pthread_t th;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL))
		return 100;
	if (pthread_create(&th, NULL, takeover_thread, arg))
		return 101;
	raise(SIGUSR1);
	pthread_join(th, NULL);
	pe_gate_wait();
	return 0;
}

/*
 * SPEC 9.3 with 9.2: a process that takes a subscription over while one
 * of its own threads is held on it would wait for itself; that event
 * moves on at the take-over (here: no one else, so the thread goes on).
 */
TEST_F(self, take_over_moves_the_new_owners_own_events_on)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, dupfd, st = -1, a, b;
	uint64_t t0, ms;

	fd = open_sub(PROCEVENT_SIGNAL);
	ASSERT_LE(0, fd);
	/* The child closes the tracked handles it inherits; not this one. */
	dupfd = dup(fd);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(0, pe_spawn(&k, takeover_child, (void *)(long)dupfd));
	close(dupfd);
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	ASSERT_EQ(PROCEVENT_SIGNAL, ev.type);
	ASSERT_EQ(k.pid, ev.pid);
	t0 = pe_mono();
	ASSERT_EQ(0, pe_go(&k, 'm'));
	a = pe_expect_byte(&k, 2 * PE_DEADLINE_MS);
	b = pe_expect_byte(&k, 2 * PE_DEADLINE_MS);
	ms = ms_since(t0);
	EXPECT_EQ('M' + SIGUSR1, a + b) TH_LOG("reported %d and %d", a, b);
	EXPECT_GT(PE_PROMPT_MS, ms)
		TH_LOG("the new owner's thread was held %llu ms after it took over",
		       (unsigned long long)ms);
	EXPECT_EQ(k.pid, pe_fdv(fd, "owner"));
	EXPECT_EQ(1, pe_fdv(fd, "position"));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st));
	EXPECT_EQ(0, st);
}

TEST_HARNESS_MAIN
