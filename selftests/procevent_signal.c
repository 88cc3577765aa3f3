// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: PROCEVENT_SIGNAL events (SPEC sections 1, 2 and 4.5): a
 * thread about to run a handler is held until the ack; the record names
 * the signal and its sender (unverified, and labelled so, for SI_QUEUE and
 * the like: SPEC 9.8); ignored and default actions raise nothing; a fatal
 * signal during the hold withdraws the event.
 */
#include "procevent_util.h"
#include <sys/time.h>
#include "kselftest_harness.h"

FIXTURE(signal) {
	int unused;
};

FIXTURE_SETUP(signal)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(signal)
{
	pe_cleanup();
}

enum sig_mode { HANDLE, IGNORE, DEFAULT, BLOCKED_HANDLE };

struct sigspec {
	int sig;
	enum sig_mode mode;
	uid_t uid;
};

/* The handler reports which signal it ran for. */
static void on_sig(int sig)
{
	pe_report_byte((char)sig);
}

/*
 * A child that sets up one signal as told, reports 'R', then obeys the
 * gate: 'u' unblocks the signal, 'a' arms a 50 ms SIGALRM timer, anything
 * else makes it exit 0.
 */
static int sig_child(void *arg)
{
	const struct sigspec *s = arg;
	struct sigaction sa;
	sigset_t set;
	int c;

	prctl(PR_SET_NAME, "pe-sigchild");
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = s->mode == IGNORE ? SIG_IGN :
			s->mode == DEFAULT ? SIG_DFL : on_sig;
	if (sigaction(s->sig, &sa, NULL))
		return 100;
	sigemptyset(&set);
	sigaddset(&set, s->sig);
	if (s->mode == BLOCKED_HANDLE)
		sigprocmask(SIG_BLOCK, &set, NULL);
	if (s->uid && setuid(s->uid))
		return 101;
	pe_report_byte('R');
	for (;;) {
		c = pe_gate_wait();
		if (c == 'u') {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
		} else if (c == 'a') {
			struct itimerval it = { .it_value = { 0, 50000 } };

			setitimer(ITIMER_REAL, &it, NULL);
		} else {
			return 0;
		}
	}
}

static int spawn_sig_child(struct pe_child *k, struct sigspec *s)
{
	int r = pe_spawn(k, sig_child, s);

	if (r)
		return r;
	return pe_expect_byte(k, PE_WAIT_MS) == 'R' ? 0 : -EPROTO;
}

/* Let a sig_child exit and reap it (its exit must not be held). */
static int finish_child(struct pe_child *k)
{
	int r = pe_go(k, 'x');

	return r ? r : pe_reap(k->pid, PE_WAIT_MS, NULL);
}

TEST_F(signal, signal_held_before_handler_runs)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_SIGNAL, ev.type);
	EXPECT_EQ(k.pid, ev.pid);
	/* The handler has not run: its pipe stays empty. */
	EXPECT_EQ(0, pe_poll_in(k.report, 300))
		TH_LOG("the handler ran before the ack");
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, finish_child(&k));
}

TEST_F(signal, signal_held_until_last_ack)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	struct procevent_event ev;
	struct pe_child k;
	int a = pe_open(), b = pe_open();

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	EXPECT_EQ(0, pe_poll_in(k.report, PE_QUIET_MS))
		TH_LOG("the handler ran before the last ack");
	ASSERT_EQ(0, pe_ack(b, ev.id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, finish_child(&k));
}

TEST_F(signal, signal_event_fields_from_kill)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	struct procevent_event ev;
	unsigned long long ticks = 0, tick_ns;
	struct pe_child k;
	uint64_t t0, t1, cg = 0;
	int fd, cgr;

	tick_ns = 1000000000ULL / sysconf(_SC_CLK_TCK);
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, pe_start_ticks(k.pid, &ticks));
	cgr = pe_cgroup_id(k.pid, &cg);
	t0 = pe_mono();
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	t1 = pe_mono();

	EXPECT_EQ(PE_REC, ev.size);
	EXPECT_EQ(PROCEVENT_SIGNAL, ev.type);
	EXPECT_LT(0, ev.id);
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(k.pid, ev.tgid);
	EXPECT_EQ(getpid(), ev.ppid);
	EXPECT_EQ(0, ev.uid);
	EXPECT_EQ(0, ev.status);
	EXPECT_EQ(SIGUSR1, ev.signo);
	EXPECT_EQ(SI_USER, ev.si_code);
	EXPECT_EQ(getpid(), ev.sender_pid);
	EXPECT_EQ(0, ev.sender_uid);
	EXPECT_EQ(0, ev.flags);
	EXPECT_LE(ticks * tick_ns, ev.start_time_ns);
	EXPECT_GT((ticks + 1) * tick_ns, ev.start_time_ns);
	EXPECT_LE(t0, ev.time_ns);
	EXPECT_GE(t1, ev.time_ns);
	if (cgr == 0) {
		EXPECT_EQ(cg, ev.cgroup_id);
	} else {
		EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, ev.cgroup_id);
	}
	EXPECT_STREQ("pe-sigchild", ev.comm);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, finish_child(&k));
}

TEST_F(signal, signal_si_queue_from_sigqueue)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	union sigval val = { .sival_int = 42 };
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, sigqueue(k.pid, SIGUSR1, val));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(SIGUSR1, ev.signo);
	EXPECT_EQ(SI_QUEUE, ev.si_code);
	/* What glibc wrote in si_pid/si_uid, labelled unverified (9.8). */
	EXPECT_EQ(getpid(), ev.sender_pid);
	EXPECT_EQ(0, ev.sender_uid);
	EXPECT_EQ(PROCEVENT_F_SENDER_UNVERIFIED, ev.flags);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, finish_child(&k));
}

TEST_F(signal, signal_si_tkill_from_tgkill)
{
	struct sigspec s = { SIGUSR2, HANDLE, 0 };
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, syscall(SYS_tgkill, k.pid, k.pid, SIGUSR2));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(SIGUSR2, ev.signo);
	EXPECT_EQ(SI_TKILL, ev.si_code);
	EXPECT_EQ(getpid(), ev.sender_pid);
	EXPECT_EQ(0, ev.flags);
	EXPECT_EQ(k.pid, ev.pid);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(SIGUSR2, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, finish_child(&k));
}

/* Sends SIGUSR1 to the pid it is given, as uid 1234, when told to. */
static int unprivileged_sender(void *arg)
{
	pid_t target = (pid_t)(long)arg;

	if (setuid(1234))
		return 100;
	pe_gate_wait();
	if (kill(target, SIGUSR1))
		pe_report_byte('E');
	else
		pe_report_byte('K');
	pe_gate_wait();
	return 0;
}

TEST_F(signal, signal_sender_uid_of_unprivileged_sender)
{
	struct sigspec s = { SIGUSR1, HANDLE, 1234 };
	struct procevent_event ev;
	struct pe_child k, snd;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, pe_spawn(&snd, unprivileged_sender, (void *)(long)k.pid));
	ASSERT_EQ(0, pe_go(&snd, 'k'));
	ASSERT_EQ('K', pe_expect_byte(&snd, PE_WAIT_MS));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(1234, ev.uid);
	EXPECT_EQ(SI_USER, ev.si_code);
	EXPECT_EQ(snd.pid, ev.sender_pid);
	EXPECT_EQ(1234, ev.sender_uid);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, finish_child(&snd));
	EXPECT_EQ(0, finish_child(&k));
}

/* Sends SIGUSR1 to the pid it is given when told to, then exits. */
static int sender_then_exit(void *arg)
{
	pe_gate_wait();
	return kill((pid_t)(long)arg, SIGUSR1) ? 100 : 0;
}

TEST_F(signal, signal_sender_reaped_before_delivery_reads_zero)
{
	struct sigspec s = { SIGUSR1, BLOCKED_HANDLE, 0 };
	struct procevent_event ev;
	struct pe_child k, snd;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, pe_spawn(&snd, sender_then_exit, (void *)(long)k.pid));
	ASSERT_EQ(0, pe_go(&snd, 'k'));
	ASSERT_EQ(0, pe_reap(snd.pid, PE_WAIT_MS, &status));
	ASSERT_EQ(0, status);
	/* Blocked: pending, not delivered, no event yet. */
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev));
	ASSERT_EQ(0, pe_go(&k, 'u'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(SIGUSR1, ev.signo);
	EXPECT_EQ(SI_USER, ev.si_code);
	EXPECT_EQ(0, ev.sender_pid);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, finish_child(&k));
}

TEST_F(signal, signal_from_kernel_has_no_sender)
{
	struct sigspec s = { SIGALRM, HANDLE, 0 };
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, pe_go(&k, 'a'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(SIGALRM, ev.signo);
	EXPECT_EQ(SI_KERNEL, ev.si_code);
	EXPECT_EQ(0, ev.sender_pid);
	EXPECT_EQ(0, ev.sender_uid);
	EXPECT_EQ(0, ev.flags);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(SIGALRM, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, finish_child(&k));
}

TEST_F(signal, signal_each_delivery_raises_one_event)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	struct procevent_event ev;
	struct pe_child k;
	uint64_t last = 0;
	int fd, i;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, kill(k.pid, SIGUSR1));
		ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
		EXPECT_LT(last, ev.id);
		last = ev.id;
		ASSERT_EQ(0, pe_ack(fd, ev.id));
		EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
		EXPECT_EQ(0, pe_quiet(fd, 50, &ev));
	}
	EXPECT_EQ(3, pe_fdv(fd, "acked"));
	EXPECT_EQ(0, finish_child(&k));
}

TEST_F(signal, signal_ignored_raises_nothing)
{
	struct sigspec s = { SIGUSR1, IGNORE, 0 };
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev))
		TH_LOG("event type %u signo %d", ev.type, ev.signo);
	EXPECT_EQ(1, pe_alive(k.pid));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(signal, signal_default_ignored_raises_nothing)
{
	static const int sigs[] = { SIGCHLD, SIGWINCH, SIGURG, SIGCONT };
	struct sigspec s = { SIGWINCH, DEFAULT, 0 };
	struct procevent_event ev;
	struct pe_child k;
	unsigned int i;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ASSERT_EQ(0, kill(k.pid, sigs[i]));
	}
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev))
		TH_LOG("event type %u signo %d", ev.type, ev.signo);
	EXPECT_EQ(1, pe_alive(k.pid));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(signal, signal_default_fatal_raises_only_exit)
{
	struct sigspec s = { SIGTERM, DEFAULT, 0 };
	struct procevent_event ev;
	struct pe_child k;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, kill(k.pid, SIGTERM));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(0, ev.signo);
	EXPECT_TRUE(WIFSIGNALED(ev.status));
	EXPECT_EQ(SIGTERM, WTERMSIG(ev.status));
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &status));
	EXPECT_EQ(status, ev.status);
	EXPECT_EQ(0, pe_quiet(fd, 50, &ev));
}

TEST_F(signal, signal_not_raised_without_signal_in_mask)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	struct procevent_event ev;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	/* The handler runs at once. */
	EXPECT_EQ(SIGUSR1, pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, pe_quiet(fd, 50, &ev));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

/* Wait until the signal withdrawn counter passes old (or 300 ms). */
static void wait_withdrawn(long long old)
{
	uint64_t end = pe_mono() + 300 * PE_MS;
	struct pe_stats s;

	while (pe_mono() < end) {
		if (pe_stats_read(&s) == 0 && s.signal.withdrawn > old)
			return;
		pe_sleep_ms(5);
	}
}

TEST_F(signal, signal_withdrawn_by_sigkill_after_receive)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	struct procevent_event ev, ex;
	struct pe_stats s0, s1;
	struct pe_child k;
	char c;
	int fd, status = 0, have_stats;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	ASSERT_EQ(PROCEVENT_SIGNAL, ev.type);
	have_stats = pe_stats_read(&s0) == 0;
	ASSERT_EQ(0, kill(k.pid, SIGKILL));
	/* The killed task leaves the hold and exits: its EXIT comes next. */
	ASSERT_EQ(0, pe_wait_event(fd, &ex, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXIT, ex.type);
	EXPECT_EQ(k.pid, ex.pid);
	EXPECT_TRUE(WIFSIGNALED(ex.status));
	EXPECT_EQ(SIGKILL, WTERMSIG(ex.status));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_ack_reap(fd, ex.id, k.pid, &status));
	EXPECT_EQ(status, ex.status);
	/* The handler never ran. */
	EXPECT_EQ(0, read(k.report, &c, 1));
	if (have_stats) {
		ASSERT_EQ(0, pe_stats_read(&s1));
		EXPECT_EQ(s0.signal.withdrawn + 1, s1.signal.withdrawn);
		EXPECT_EQ(s0.signal.acked, s1.signal.acked);
	}
}

TEST_F(signal, signal_withdrawn_by_sigkill_while_queued)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	struct procevent_event ev;
	struct pe_stats s0;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, spawn_sig_child(&k, &s));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_fdinfo_wait(fd, "queued", 1, PE_WAIT_MS));
	if (pe_stats_read(&s0))
		s0.signal.withdrawn = 0;
	ASSERT_EQ(0, kill(k.pid, SIGKILL));
	wait_withdrawn(s0.signal.withdrawn);
	/* The queued SIGNAL event is gone; the EXIT event is what remains. */
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type) TH_LOG("got type %u", ev.type);
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_fdv(fd, "queued"));
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	EXPECT_EQ(0, pe_quiet(fd, 50, &ev));
}

/*
 * The module finds a received event by its id in a table of 4096 buckets
 * indexed by the id's low bits.  Two events received at once whose ids
 * are 4096 apart share a bucket: each is found by its own id, in either
 * order, and an id between them that is not received is not.  Signal
 * events are the cheap way to take 4096 ids: one child stays held on the
 * first, the other takes a signal at a time.
 */
TEST_F_TIMEOUT(signal, ack_finds_events_whose_ids_share_low_bits, 300)
{
	struct sigspec s = { SIGUSR1, HANDLE, 0 };
	struct procevent_event ev, first;
	struct pe_child a, b;
	uint64_t other = 0;
	int fd, n;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, spawn_sig_child(&a, &s));
	ASSERT_EQ(0, spawn_sig_child(&b, &s));
	ASSERT_EQ(0, kill(a.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event(fd, &first, PE_WAIT_MS));
	ASSERT_EQ(a.pid, first.pid);
	/* Signals to b, acked as they come, until one lands in first's bucket. */
	for (n = 0; n < 8192 && !other; n++) {
		ASSERT_EQ(0, kill(b.pid, SIGUSR1));
		do {
			ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
			ASSERT_LT(first.id, ev.id);
			if ((ev.id - first.id) % 4096 == 0)
				other = ev.id;
			else
				ASSERT_EQ(0, pe_ack(fd, ev.id));
		} while (ev.pid != b.pid);
	}
	ASSERT_NE(0, other);
	EXPECT_EQ(2, pe_fdv(fd, "received"));
	EXPECT_EQ(-ENOENT, pe_ack(fd, first.id + 2048));
	/* The older one first: it is behind the newer one in its bucket. */
	EXPECT_EQ(0, pe_ack(fd, first.id));
	EXPECT_EQ(-ENOENT, pe_ack(fd, first.id));
	EXPECT_EQ(0, pe_ack(fd, other));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	EXPECT_EQ(0, finish_child(&a));
	EXPECT_EQ(0, finish_child(&b));
}

TEST_HARNESS_MAIN
