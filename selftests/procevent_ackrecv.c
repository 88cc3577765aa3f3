// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: PROCEVENT_IOC_ACK_RECV, the ack of one event and the receive
 * of the next in one call.  The ack comes first, with exactly ACK's
 * errors, and nothing is received when it fails; the receive follows
 * RECV's rules; .acked tells whether the ack took effect, whatever the
 * receive did after it.
 */
#include "procevent_util.h"
#include "kselftest_harness.h"

FIXTURE(ackrecv) {
	int unused;
};

FIXTURE_SETUP(ackrecv)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(ackrecv)
{
	pe_cleanup();
}

/* ACK_RECV with @ar as given: 0 or -errno. */
static int ar_call(int fd, struct procevent_ack_recv *ar)
{
	return pe_ioctl(fd, PROCEVENT_IOC_ACK_RECV, ar);
}

/* Ack @id with @flags and receive into @ar (filled with garbage first). */
static int ar_full(int fd, uint64_t id, uint32_t ack_flags, uint32_t flags,
		   struct procevent_ack_recv *ar)
{
	pe_fill(ar, sizeof(*ar));
	ar->ack.id = id;
	ar->ack.flags = ack_flags;
	ar->ack.reserved = 0;
	ar->flags = flags;
	return ar_call(fd, ar);
}

static int ar(int fd, uint64_t id, struct procevent_ack_recv *a)
{
	return ar_full(fd, id, 0, 0, a);
}

static int all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		if (*c++)
			return 0;
	return 1;
}

/* The held child stays held (not reapable) for a quiet while. */
static int still_held(pid_t pid)
{
	pe_sleep_ms(PE_QUIET_MS);
	return pe_alive(pid) == 1;
}

TEST_F(ackrecv, get_info_advertises_it)
{
	struct procevent_info info;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, PROCEVENT_IOC_GET_INFO, &info));
	EXPECT_TRUE(info.features & PROCEVENT_FEATURE_ACK_RECV);
	EXPECT_LE(_IOC_NR(PROCEVENT_IOC_ACK_RECV), info.last_ioctl);
	EXPECT_LE(0x000400u, info.version);
}

/* Id 0: no ack, a plain receive; every field as RECV fills it. */
TEST_F(ackrecv, id_zero_receives_like_recv)
{
	struct procevent_ack_recv a;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 7));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(1, pe_poll_in(fd, PE_WAIT_MS));
	ASSERT_EQ(0, ar(fd, 0, &a));
	EXPECT_EQ(0, a.acked);
	EXPECT_EQ(PE_REC, a.event.size);
	EXPECT_EQ(PROCEVENT_EXIT, a.event.type);
	EXPECT_NE(0, a.event.id);
	EXPECT_EQ(k.pid, a.event.pid);
	EXPECT_EQ(k.pid, a.event.tgid);
	EXPECT_EQ(getpid(), a.event.ppid);
	EXPECT_EQ(getuid(), a.event.uid);
	EXPECT_TRUE(WIFEXITED(a.event.status));
	EXPECT_EQ(7, WEXITSTATUS(a.event.status));
	/* SIGNAL's fields are 0 in any other event (SPEC 2). */
	EXPECT_EQ(0, a.event.signo);
	EXPECT_EQ(0, a.event.si_code);
	EXPECT_EQ(0, a.event.sender_pid);
	EXPECT_EQ(0, a.event.sender_uid);
	EXPECT_EQ(0, a.event.flags);
	EXPECT_NE(0, a.event.time_ns);
	EXPECT_EQ('\0', a.event.comm[sizeof(a.event.comm) - 1]);
	/* The input is left as it was. */
	EXPECT_EQ(0, a.ack.id);
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(1, still_held(k.pid));
	EXPECT_EQ(0, pe_ack_reap(fd, a.event.id, k.pid, NULL));
}

/*
 * The ack takes effect (the first child is released) and the next event
 * comes back in the same call; the second child stays held.
 */
TEST_F(ackrecv, acks_one_and_receives_the_next)
{
	struct procevent_event first;
	struct procevent_ack_recv a;
	struct pe_child k[2];
	int fd = pe_open(), i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pe_spawn_exit(&k[i], i));
	ASSERT_EQ(0, pe_go(&k[0], 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &first, PE_WAIT_MS));
	ASSERT_EQ(k[0].pid, first.pid);
	ASSERT_EQ(0, pe_go(&k[1], 'x'));
	ASSERT_EQ(0, pe_fdinfo_wait(fd, "queued", 1, PE_WAIT_MS));
	EXPECT_EQ(1, still_held(k[0].pid));

	ASSERT_EQ(0, ar(fd, first.id, &a));
	EXPECT_EQ(1, a.acked);
	EXPECT_EQ(PE_REC, a.event.size);
	EXPECT_EQ(PROCEVENT_EXIT, a.event.type);
	EXPECT_EQ(k[1].pid, a.event.pid);
	EXPECT_LT(first.id, a.event.id);
	EXPECT_EQ(1, a.event.status >> 8);
	EXPECT_EQ(0, pe_reap(k[0].pid, PE_WAIT_MS, NULL))
		TH_LOG("the acked task was not released");
	EXPECT_EQ(1, still_held(k[1].pid));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_fdv(fd, "queued"));
	EXPECT_EQ(1, pe_fdv(fd, "acked"));
	/* A second ack of the first event is refused: it took effect once. */
	EXPECT_EQ(-ENOENT, pe_ack(fd, first.id));
	EXPECT_EQ(0, pe_ack_reap(fd, a.event.id, k[1].pid, NULL));
}

/* A refused ack receives nothing: the queued event stays queued. */
TEST_F(ackrecv, bad_id_enoent_receives_nothing)
{
	struct procevent_event ev;
	struct procevent_ack_recv a;
	struct pe_child k[2];
	int fd = pe_open(), i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_two_queued_exits(fd, k));
	ASSERT_EQ(0, pe_recv(fd, &ev));
	EXPECT_EQ(-ENOENT, ar(fd, ev.id + 1000, &a));
	EXPECT_EQ(0, a.acked);
	EXPECT_TRUE(all_zero(&a.event, sizeof(a.event)));
	EXPECT_EQ(-ENOENT, ar(fd, ~0ULL, &a));
	EXPECT_EQ(0, a.acked);
	/* Not yet received: ENOENT as for ACK. */
	EXPECT_EQ(-ENOENT, ar(fd, ev.id + 1, &a));
	EXPECT_EQ(0, a.acked);
	EXPECT_EQ(1, pe_fdv(fd, "queued"));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(1, pe_alive(k[i].pid));
	ASSERT_EQ(0, ar(fd, ev.id, &a));
	EXPECT_EQ(1, a.acked);
	EXPECT_EQ(0, pe_reap(ev.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(0, pe_ack_reap(fd, a.event.id, a.event.pid, NULL));
}

TEST_F(ackrecv, double_ack_enoent)
{
	struct procevent_event ev;
	struct procevent_ack_recv a;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	EXPECT_EQ(-EAGAIN, ar(fd, ev.id, &a));
	EXPECT_EQ(1, a.acked);
	EXPECT_EQ(-ENOENT, ar(fd, ev.id, &a));
	EXPECT_EQ(0, a.acked);
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(-ENOENT, ar(fd, ev.id, &a));
	EXPECT_EQ(0, a.acked);
	/* An ack already done through ACK is refused the same way. */
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
}

/* On another handle, an event it does not hold: ENOENT, as for ACK. */
TEST_F(ackrecv, ack_on_other_handle_enoent)
{
	struct procevent_event ev;
	struct procevent_ack_recv a;
	struct pe_child k;
	int fa = pe_open(), fb = pe_open();

	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, pe_set_mask(fa, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(fb, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fa, &k, 0, &ev));
	EXPECT_EQ(-ENOENT, ar(fb, ev.id, &a));
	EXPECT_EQ(0, a.acked);
	EXPECT_EQ(1, still_held(k.pid));
	EXPECT_EQ(1, pe_fdv(fa, "received"));
	EXPECT_EQ(0, pe_ack(fa, ev.id));
	/* Now on fb, queued: its ack before the receive is ENOENT too. */
	ASSERT_EQ(1, pe_poll_in(fb, PE_WAIT_MS));
	EXPECT_EQ(-ENOENT, ar(fb, ev.id, &a));
	EXPECT_EQ(0, a.acked);
	EXPECT_EQ(1, pe_fdv(fb, "queued"));
	ASSERT_EQ(0, ar(fb, 0, &a));
	EXPECT_EQ(ev.id, a.event.id);
	EXPECT_EQ(0, pe_ack_reap(fb, ev.id, k.pid, NULL));
}

/* Not subscribed: ENOMSG for a receive, ENOENT for any ack. */
TEST_F(ackrecv, unsubscribed_enomsg_or_enoent)
{
	struct procevent_ack_recv a;
	int fd = pe_open(), bfd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, bfd);
	EXPECT_EQ(-ENOMSG, ar(fd, 0, &a));
	EXPECT_EQ(0, a.acked);
	/* A blocking handle does not block: nothing can arrive. */
	EXPECT_EQ(-ENOMSG, ar(bfd, 0, &a));
	EXPECT_EQ(-ENOENT, ar(fd, 1, &a));
	EXPECT_EQ(0, a.acked);
	EXPECT_EQ(-ENOENT, ar(bfd, 12345, &a));
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	EXPECT_EQ(-ENOMSG, ar(fd, 0, &a));
}

/*
 * The last ack of a handle unsubscribed with leftovers: it takes effect,
 * the handle leaves the list, and the receive says ENOMSG.
 */
TEST_F(ackrecv, last_leftover_acked_then_enomsg)
{
	struct procevent_event ev;
	struct procevent_ack_recv a;
	struct pe_child k;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	EXPECT_EQ(-ENOMSG, ar(fd, ev.id, &a));
	EXPECT_EQ(1, a.acked);
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(ackrecv, bad_flags_einval_nothing_done)
{
	struct procevent_event ev;
	struct procevent_ack_recv a;
	struct pe_child k[2];
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_two_queued_exits(fd, k));
	ASSERT_EQ(0, pe_recv(fd, &ev));
	/* ACK's own refusals: unknown ack flags, reserved, kill on EXIT. */
	EXPECT_EQ(-EINVAL, ar_full(fd, ev.id, 2, 0, &a));
	EXPECT_EQ(0, a.acked);
	EXPECT_EQ(-EINVAL, ar_full(fd, ev.id, 0x80000000u, 0, &a));
	EXPECT_EQ(-EINVAL, ar_full(fd, ev.id, PROCEVENT_ACK_KILL, 0, &a));
	EXPECT_EQ(0, a.acked);
	pe_fill(&a, sizeof(a));
	a.ack.id = ev.id;
	a.ack.flags = 0;
	a.ack.reserved = 1;
	a.flags = 0;
	EXPECT_EQ(-EINVAL, ar_call(fd, &a));
	EXPECT_EQ(0, a.acked);
	/* Its own: unknown call flags. */
	EXPECT_EQ(-EINVAL, ar_full(fd, ev.id, 0, 2, &a));
	EXPECT_EQ(-EINVAL, ar_full(fd, ev.id, 0, 0x80000000u, &a));
	/* No ack (id 0) with ack flags or reserved bits. */
	EXPECT_EQ(-EINVAL, ar_full(fd, 0, PROCEVENT_ACK_KILL, 0, &a));
	pe_fill(&a, sizeof(a));
	a.ack.id = 0;
	a.ack.flags = 0;
	a.ack.reserved = 5;
	a.flags = 0;
	EXPECT_EQ(-EINVAL, ar_call(fd, &a));
	/* Nothing was acked nor received. */
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(1, pe_fdv(fd, "queued"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));
	EXPECT_EQ(1, still_held(k[0].pid));
	EXPECT_EQ(1, pe_alive(k[1].pid));
	ASSERT_EQ(0, ar(fd, ev.id, &a));
	EXPECT_EQ(0, pe_reap(ev.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(0, pe_ack_reap(fd, a.event.id, a.event.pid, NULL));
}

static int runs_child(void *arg)
{
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

/* The veto through ACK_RECV: the forked child dies before it runs. */
TEST_F(ackrecv, kill_ack_vetoes_then_receives)
{
	struct procevent_ack_recv a;
	struct procevent_event ev;
	struct pe_child k, e;
	char c;
	int st = 0, fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK | PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, k.pid, &ev));
	/* Blocks until the vetoed child's exit arrives. */
	ASSERT_EQ(0, ar_full(fd, ev.id, PROCEVENT_ACK_KILL, 0, &a));
	EXPECT_EQ(1, a.acked);
	/* The vetoed child's exit is the event received in the same call. */
	EXPECT_EQ(PROCEVENT_EXIT, a.event.type);
	EXPECT_EQ(k.pid, a.event.pid);
	EXPECT_TRUE(WIFSIGNALED(a.event.status));
	EXPECT_EQ(SIGKILL, WTERMSIG(a.event.status));
	EXPECT_EQ(0, pe_ack(fd, a.event.id));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st));
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(0, read(k.report, &c, 1)) TH_LOG("the vetoed child ran");
	/* A plain fork ack lets the next child run. */
	ASSERT_EQ(0, pe_spawn(&e, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, e.pid, &ev));
	EXPECT_EQ(-EAGAIN, ar_full(fd, ev.id, 0, PROCEVENT_ACK_RECV_NONBLOCK,
				   &a));
	EXPECT_EQ(1, a.acked);
	EXPECT_EQ('R', pe_expect_byte(&e, PE_WAIT_MS));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
}

/* Faults before the ack: nothing done, the event stays received. */
TEST_F(ackrecv, efault_before_the_ack_does_nothing)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct procevent_ack_recv *a;
	struct procevent_event ev;
	struct pe_child k;
	char *m;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_ACK_RECV, NULL));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_ACK_RECV, pe_unmapped()));

	/* Readable ack, read-only results. */
	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	a = (struct procevent_ack_recv *)m;
	memset(a, 0, sizeof(*a));
	a->ack.id = ev.id;
	ASSERT_EQ(0, mprotect(m, pg, PROT_READ));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_ACK_RECV, a));
	EXPECT_EQ(1, still_held(k.pid));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));

	/* The ack on one page, the event record on the next, unmapped. */
	ASSERT_EQ(0, mprotect(m, pg, PROT_READ | PROT_WRITE));
	a = (struct procevent_ack_recv *)(m + pg - 24);
	memset(a, 0, 24);
	a->ack.id = ev.id;
	ASSERT_EQ(0, munmap(m + pg, pg));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_ACK_RECV, a));
	EXPECT_EQ(1, still_held(k.pid));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));
	munmap(m, pg);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

/*
 * Non-blocking, nothing else waiting: EAGAIN after the ack, which took
 * effect (the task is released) and says so.  Both ways to ask: the
 * handle's O_NONBLOCK and the call's flag on a blocking handle.
 */
TEST_F(ackrecv, nonblocking_eagain_after_the_ack_took_effect)
{
	struct procevent_ack_recv a;
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open(), bfd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	EXPECT_EQ(-EAGAIN, ar(fd, ev.id, &a));
	EXPECT_EQ(1, a.acked);
	EXPECT_TRUE(all_zero(&a.event, sizeof(a.event)));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL))
		TH_LOG("the ack before EAGAIN did not release the task");
	EXPECT_EQ(1, pe_fdv(fd, "acked"));
	EXPECT_EQ(-EAGAIN, ar(fd, 0, &a));
	EXPECT_EQ(0, a.acked);

	ASSERT_EQ(0, pe_set_mask(bfd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	ASSERT_EQ(0, pe_exit_event(bfd, &k, 0, &ev));
	EXPECT_EQ(-EAGAIN, ar_full(bfd, ev.id, 0, PROCEVENT_ACK_RECV_NONBLOCK,
				   &a));
	EXPECT_EQ(1, a.acked);
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(-EAGAIN, ar_full(bfd, 0, 0, PROCEVENT_ACK_RECV_NONBLOCK,
				   &a));
	EXPECT_EQ(0, a.acked);
}

struct blocked {
	int fd;
	uint64_t id;
	int ret;
	int acked;		/* .acked of the call that acked */
	int interrupted;	/* that call ended in EINTR after its ack */
	pid_t tid;
	struct procevent_ack_recv a;
};

/*
 * Ack and wait for the next event, as a subscriber's loop does: the
 * signals a test process may get go to the other thread (SIGUSR2 stays,
 * for pe_join()), and an EINTR after the ack took effect is what the
 * interface allows for any signal: the loop then receives with id 0.
 */
static void *blocked_fn(void *arg)
{
	struct blocked *b = arg;
	sigset_t set;
	int ret;

	sigfillset(&set);
	sigdelset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	__atomic_store_n(&b->tid, pe_gettid(), __ATOMIC_RELEASE);
	ret = ar(b->fd, b->id, &b->a);
	b->acked = b->a.acked;
	if (ret == -EINTR && b->a.acked) {
		b->interrupted = 1;
		ret = ar(b->fd, 0, &b->a);
	}
	__atomic_store_n(&b->ret, ret, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Blocking: the held task is released by the ack while the caller still
 * waits for the next event, and the next event ends the wait.
 */
TEST_F(ackrecv, blocking_releases_before_it_waits)
{
	struct blocked b = { .ret = 1 };
	struct procevent_event ev;
	struct pe_child k[2];
	pthread_t th;
	int i;

	b.fd = pe_open_blocking();
	ASSERT_LE(0, b.fd);
	ASSERT_EQ(0, pe_set_mask(b.fd, PROCEVENT_EXIT));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pe_spawn_exit(&k[i], 0));
	ASSERT_EQ(0, pe_go(&k[0], 'x'));
	ASSERT_EQ(0, pe_wait_event(b.fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(1, still_held(k[0].pid));
	b.id = ev.id;
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_fn, &b));
	EXPECT_EQ(0, pe_reap(k[0].pid, PE_WAIT_MS, NULL))
		TH_LOG("the task was not released by the blocked call's ack");
	pe_sleep_ms(PE_QUIET_MS);
	EXPECT_EQ(1, __atomic_load_n(&b.ret, __ATOMIC_ACQUIRE))
		TH_LOG("the call returned with nothing to receive");
	ASSERT_EQ(0, pe_go(&k[1], 'x'));
	ASSERT_EQ(0, pe_join(th, PE_WAIT_MS));
	EXPECT_EQ(0, b.ret);
	EXPECT_EQ(1, b.acked);
	if (b.interrupted)
		TH_LOG("the wait after the ack was interrupted (EINTR, acked 1)");
	EXPECT_EQ(k[1].pid, b.a.event.pid);
	EXPECT_EQ(1, still_held(k[1].pid));
	EXPECT_EQ(0, pe_ack_reap(b.fd, b.a.event.id, k[1].pid, NULL));
}

/*
 * A signal during the wait after an ack: EINTR even with SA_RESTART (a
 * restart would ack again), .acked 1, the task released.
 */
TEST_F(ackrecv, signal_after_the_ack_eintr_not_restarted)
{
	struct procevent_ack_recv a;
	struct procevent_event ev;
	struct sigaction sa;
	struct pe_child k;
	uint64_t t0;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pe_noop_handler;
	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	t0 = pe_mono();
	alarm(1);
	EXPECT_EQ(-EINTR, ar(fd, ev.id, &a));
	alarm(0);
	EXPECT_LE(900 * PE_MS, pe_mono() - t0);
	EXPECT_EQ(1, a.acked);
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	/* Without SA_RESTART, the same. */
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	pe_interrupt_with(SIGALRM);
	alarm(1);
	EXPECT_EQ(-EINTR, ar(fd, ev.id, &a));
	alarm(0);
	EXPECT_EQ(1, a.acked);
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

struct later {
	struct pe_child *k;
	int ms;
};

static void *go_later_fn(void *arg)
{
	struct later *l = arg;

	pe_sleep_ms(l->ms);
	pe_go(l->k, 'x');
	return NULL;
}

/*
 * With nothing to ack (id 0) a signal is as for RECV: under SA_RESTART
 * the call is restarted and still returns the event that comes later.
 */
TEST_F(ackrecv, signal_without_ack_restarts)
{
	struct procevent_ack_recv a;
	struct sigaction sa;
	struct pe_child k;
	struct later l = { .k = &k, .ms = 1500 };
	pthread_t th;
	sigset_t set;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 3));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pe_noop_handler;
	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	/* The signal is for this thread, not the helper. */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, go_later_fn, &l));
	ASSERT_EQ(0, pthread_sigmask(SIG_UNBLOCK, &set, NULL));
	alarm(1);
	EXPECT_EQ(0, ar(fd, 0, &a));
	alarm(0);
	pthread_join(th, NULL);
	EXPECT_EQ(0, a.acked);
	EXPECT_EQ(k.pid, a.event.pid);
	EXPECT_EQ(0, pe_ack_reap(fd, a.event.id, k.pid, NULL));
}

/*
 * Two subscribers, each looping on ACK_RECV: every event visits the
 * first, then the second, in order; a task is released only by the
 * second's ack.
 */
TEST_F(ackrecv, two_subscribers_in_order)
{
	struct procevent_ack_recv a, b;
	struct pe_child k[3];
	uint64_t ids[3];
	int fa = pe_open(), fb = pe_open(), i;

	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, pe_set_mask(fa, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(fb, PROCEVENT_EXIT));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pe_spawn_exit(&k[i], i));
		ASSERT_EQ(0, pe_go(&k[i], 'x'));
		ASSERT_EQ(0, pe_fdinfo_wait(fa, "queued", i + 1, PE_WAIT_MS));
	}
	/* The first subscriber drains with one call per event. */
	ASSERT_EQ(0, ar(fa, 0, &a));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(k[i].pid, a.event.pid);
		ids[i] = a.event.id;
		if (i)
			EXPECT_LT(ids[i - 1], ids[i]);
		if (i < 2) {
			ASSERT_EQ(0, ar(fa, ids[i], &a));
		} else {
			EXPECT_EQ(-EAGAIN, ar(fa, ids[i], &a));
		}
		EXPECT_EQ(1, a.acked);
	}
	/* None released yet: each waits on the second subscriber now. */
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1, pe_alive(k[i].pid));
	ASSERT_EQ(0, pe_fdinfo_wait(fb, "queued", 3, PE_WAIT_MS));
	ASSERT_EQ(0, ar(fb, 0, &b));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(ids[i], b.event.id);
		EXPECT_EQ(k[i].pid, b.event.pid);
		EXPECT_EQ(1, still_held(k[i].pid));
		if (i < 2) {
			ASSERT_EQ(0, ar(fb, ids[i], &b));
		} else {
			EXPECT_EQ(-EAGAIN, ar(fb, ids[i], &b));
		}
		EXPECT_EQ(1, b.acked);
		EXPECT_EQ(0, pe_reap(k[i].pid, PE_WAIT_MS, NULL));
	}
}

/* A newer, larger struct: the module fills what it knows, zeroes the rest. */
TEST_F(ackrecv, larger_struct_rest_zeroed)
{
	unsigned char buf[PROCEVENT_ACK_RECV_SIZE_VER0 + 40];
	struct procevent_ack_recv *a = (struct procevent_ack_recv *)buf;
	unsigned long cmd = _IOWR(PROCEVENT_IOC_MAGIC, 7, buf);
	struct procevent_event ev;
	struct pe_child k[2];
	size_t i;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k[0], 0, &ev));
	ASSERT_EQ(0, pe_spawn_exit(&k[1], 0));
	ASSERT_EQ(0, pe_go(&k[1], 'x'));
	ASSERT_EQ(0, pe_fdinfo_wait(fd, "queued", 1, PE_WAIT_MS));
	memset(buf, 0xa5, sizeof(buf));
	memset(a, 0, 24);
	a->ack.id = ev.id;
	ASSERT_EQ(0, pe_ioctl(fd, cmd, buf));
	EXPECT_EQ(1, a->acked);
	EXPECT_EQ(PE_REC, a->event.size);
	EXPECT_EQ(k[1].pid, a->event.pid);
	for (i = PROCEVENT_ACK_RECV_SIZE_VER0; i < sizeof(buf); i++)
		ASSERT_EQ(0, buf[i]) TH_LOG("byte %zu", i);
	EXPECT_EQ(0, pe_reap(k[0].pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(0, pe_ack_reap(fd, a->event.id, k[1].pid, NULL));
}

TEST_F(ackrecv, smaller_than_first_version_or_wrong_direction_enotty)
{
	unsigned char buf[PROCEVENT_ACK_RECV_SIZE_VER0 - 8];
	struct procevent_ack_recv a;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	memset(buf, 0, sizeof(buf));
	memset(&a, 0, sizeof(a));
	EXPECT_EQ(-ENOTTY, pe_ioctl(fd, _IOWR(PROCEVENT_IOC_MAGIC, 7, buf),
				    buf));
	EXPECT_EQ(-ENOTTY, pe_ioctl(fd, _IOW(PROCEVENT_IOC_MAGIC, 7, a), &a));
	EXPECT_EQ(-ENOTTY, pe_ioctl(fd, _IOR(PROCEVENT_IOC_MAGIC, 7, a), &a));
}

TEST_HARNESS_MAIN
