// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: events of multi-threaded processes (SPEC section 1): only
 * the last thread's exit raises an event, exactly once, however the group
 * ends; pid names the held thread, tgid its process; a subscriber's own
 * threads raise nothing.
 */
#include "procevent_util.h"
#include "kselftest_harness.h"

#define NTHREADS 8

FIXTURE(thread) {
	int unused;
};

FIXTURE_SETUP(thread)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(thread)
{
	pe_cleanup();
}

/* State letter of /proc/<pid>/stat, or 0. */
static char task_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

static void *thread_returns(void *arg)
{
	return NULL;
}

static void *thread_reports_and_sleeps(void *arg)
{
	pid_t tid = pe_gettid();

	pe_report(&tid, sizeof(tid));
	for (;;)
		pause();
	return NULL;
}

static int non_final_thread_child(void *arg)
{
	pthread_t th[2];
	int i;

	for (i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, thread_returns, NULL))
			return 100;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pe_report_byte('J');
	pe_gate_wait();
	return 0;
}

TEST_F(thread, non_final_thread_exit_raises_nothing)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&k, non_final_thread_child, NULL));
	EXPECT_EQ('J', pe_expect_byte(&k, PE_WAIT_MS))
		TH_LOG("a non-final thread's exit was held");
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev))
		TH_LOG("event type %u pid %d", ev.type, ev.pid);
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(k.pid, ev.tgid);
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &status));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, pe_quiet(fd, 50, &ev));
}

static void *last_thread(void *arg)
{
	pid_t tid = pe_gettid();

	pe_report(&tid, sizeof(tid));
	pe_gate_wait();
	syscall(SYS_exit, 5);
	return NULL;
}

static int leader_exits_first_child(void *arg)
{
	pthread_t th;

	if (pthread_create(&th, NULL, last_thread, NULL))
		return 100;
	/* Only this thread ends: the process lives on in the other one. */
	syscall(SYS_exit, 3);
	return 101;
}

TEST_F(thread, last_thread_exit_names_that_thread_and_wait_status)
{
	struct procevent_event ev;
	struct pe_child k;
	pid_t tid = 0;
	uint64_t end;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&k, leader_exits_first_child, NULL));
	ASSERT_EQ(0, pe_expect(&k, &tid, sizeof(tid), PE_WAIT_MS));
	ASSERT_NE(k.pid, tid);
	/* Wait until the leader is a zombie: its exit raised nothing. */
	end = pe_mono() + PE_WAIT_MS * PE_MS;
	while (task_state(k.pid) != 'Z' && pe_mono() < end)
		pe_sleep_ms(2);
	ASSERT_EQ('Z', task_state(k.pid));
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev))
		TH_LOG("event pid %d for the leader's exit", ev.pid);
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(tid, ev.pid);
	EXPECT_EQ(k.pid, ev.tgid);
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, &status));
	/*
	 * Whatever wait(2) reports: the leader's code (3) before 6.1, the
	 * last thread's (5) since the group exit code is set by the last
	 * thread to leave.
	 */
	EXPECT_EQ(status, ev.status);
	EXPECT_TRUE(WIFEXITED(ev.status));
	EXPECT_TRUE(WEXITSTATUS(ev.status) == 3 || WEXITSTATUS(ev.status) == 5);
}

static int many_threads_child(void *arg)
{
	pthread_t th;
	int i;

	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th, NULL, thread_reports_and_sleeps, NULL))
			return 100;
	pe_gate_wait();
	/* exit() is exit_group(): all NTHREADS + 1 threads end at once. */
	exit(0);
}

/* Start a child with NTHREADS more threads; collect the tids. */
static int start_many_threads(struct pe_child *k, pid_t *tids)
{
	int r = pe_spawn(k, many_threads_child, NULL);

	if (r)
		return r;
	return pe_expect(k, tids, NTHREADS * sizeof(pid_t), PE_WAIT_MS);
}

static int is_thread_of(pid_t pid, pid_t tgid, const pid_t *tids)
{
	int i;

	if (pid == tgid)
		return 1;
	for (i = 0; i < NTHREADS; i++)
		if (tids[i] == pid)
			return 1;
	return 0;
}

TEST_F(thread, exit_group_of_many_threads_raises_one_exit)
{
	struct procevent_event ev;
	pid_t tids[NTHREADS];
	struct pe_child k;
	int fd, i, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, start_many_threads(&k, tids));
		ASSERT_EQ(0, pe_go(&k, 'x'));
		ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS))
			TH_LOG("round %d", i);
		EXPECT_EQ(k.pid, ev.tgid);
		EXPECT_TRUE(is_thread_of(ev.pid, k.pid, tids))
			TH_LOG("pid %d is not a thread of %d", ev.pid, k.pid);
		ASSERT_EQ(0, pe_ack(fd, ev.id));
		ASSERT_EQ(0, pe_quiet(fd, 50, &ev))
			TH_LOG("round %d: second event, pid %d", i, ev.pid);
		ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &status));
		EXPECT_EQ(status, ev.status);
		EXPECT_EQ(-EAGAIN, pe_recv(fd, &ev));
		pe_child_close(&k);
	}
}

TEST_F(thread, fatal_signal_to_many_threads_raises_one_exit)
{
	struct procevent_event ev;
	pid_t tids[NTHREADS];
	struct pe_child k;
	int fd, i, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, start_many_threads(&k, tids));
		ASSERT_EQ(0, kill(k.pid, SIGKILL));
		ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS))
			TH_LOG("round %d", i);
		EXPECT_EQ(PROCEVENT_EXIT, ev.type);
		EXPECT_EQ(k.pid, ev.tgid);
		EXPECT_TRUE(is_thread_of(ev.pid, k.pid, tids));
		EXPECT_TRUE(WIFSIGNALED(ev.status));
		EXPECT_EQ(SIGKILL, WTERMSIG(ev.status));
		ASSERT_EQ(0, pe_ack(fd, ev.id));
		ASSERT_EQ(0, pe_quiet(fd, 50, &ev))
			TH_LOG("round %d: second event, pid %d", i, ev.pid);
		ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &status));
		EXPECT_EQ(status, ev.status);
		pe_child_close(&k);
	}
}

static void on_usr1_report(int sig)
{
	pe_report_byte('S');
}

static void *handling_thread(void *arg)
{
	struct sigaction sa;
	sigset_t set;
	pid_t tid = pe_gettid();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1_report;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	pe_report(&tid, sizeof(tid));
	pe_gate_wait();
	exit(0);
}

static int handling_thread_child(void *arg)
{
	pthread_t th;
	sigset_t set;

	/* Only the second thread takes SIGUSR1. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pthread_create(&th, NULL, handling_thread, NULL))
		return 100;
	for (;;)
		pause();
}

TEST_F(thread, signal_event_pid_is_the_handling_thread)
{
	struct procevent_event ev;
	struct pe_child k;
	pid_t tid = 0;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_spawn(&k, handling_thread_child, NULL));
	ASSERT_EQ(0, pe_expect(&k, &tid, sizeof(tid), PE_WAIT_MS));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_SIGNAL, ev.type);
	EXPECT_EQ(tid, ev.pid);
	EXPECT_EQ(k.pid, ev.tgid);
	EXPECT_EQ(SIGUSR1, ev.signo);
	EXPECT_EQ(SI_USER, ev.si_code);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ('S', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

static volatile sig_atomic_t self_handled;

static void on_usr1_self(int sig)
{
	self_handled = 1;
}

static void *signal_self_thread(void *arg)
{
	syscall(SYS_tgkill, getpid(), pe_gettid(), SIGUSR1);
	return NULL;
}

TEST_F(thread, subscriber_own_threads_raise_nothing)
{
	struct procevent_event ev;
	struct sigaction sa;
	pthread_t th;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));

	/* A thread of the subscribing process exits. */
	ASSERT_EQ(0, pthread_create(&th, NULL, thread_returns, NULL));
	if (pe_quiet(fd, PE_QUIET_MS, &ev)) {
		pe_ack(fd, ev.id);
		EXPECT_EQ(0, ev.type) TH_LOG("own thread's exit raised an event");
	}
	EXPECT_EQ(0, pe_join(th, PE_WAIT_MS));

	/* A thread of the subscribing process takes a handled signal. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1_self;
	sigaction(SIGUSR1, &sa, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, signal_self_thread, NULL));
	if (pe_quiet(fd, PE_QUIET_MS, &ev)) {
		pe_ack(fd, ev.id);
		EXPECT_EQ(0, ev.type) TH_LOG("own thread's signal raised an event");
	}
	EXPECT_EQ(0, pe_join(th, PE_WAIT_MS));
	EXPECT_EQ(1, self_handled);
	EXPECT_EQ(0, pe_fdv(fd, "queued"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));
}

TEST_HARNESS_MAIN
