// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: PROCEVENT_FORK events (SPEC section 8.1): a new process is
 * held before its first instruction until the last ack, threads raise
 * nothing, the hold is killable, and vfork/posix_spawn keep working, also
 * for a subscriber that spawns.
 */
#include "procevent_util.h"
#include <spawn.h>
#include "kselftest_harness.h"

PE_EXEC_HELPER()

FIXTURE(fork) {
	int unused;
};

FIXTURE_SETUP(fork)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(fork)
{
	pe_cleanup();
	pe_helper_remove();
}

/* The first thing the child does is to tell the parent it runs. */
static int runs_child(void *arg)
{
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(fork, fork_child_held_before_it_runs)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, k.pid, &ev))
		TH_LOG("type %u pid %d, expected FORK of %d", ev.type, ev.pid,
		       k.pid);
	EXPECT_EQ(0, pe_poll_in(k.report, PE_QUIET_MS))
		TH_LOG("the child ran before the ack");
	EXPECT_EQ(1, pe_alive(k.pid));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

/* Renames itself first: during the hold comm must still be the parent's. */
static int rename_child(void *arg)
{
	prctl(PR_SET_NAME, "pe-renamed");
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(fork, fork_event_fields_are_all_written)
{
	unsigned long long ticks = 0, tick_ns;
	struct procevent_event ev;
	char comm[16] = "";
	struct pe_child k;
	uint64_t t0, t1, cgid = 0;
	int fd = pe_open(), cg;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, prctl(PR_GET_NAME, comm));
	t0 = pe_mono();
	ASSERT_EQ(0, pe_spawn(&k, rename_child, NULL));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	t1 = pe_mono();

	EXPECT_EQ(PE_REC, ev.size);
	EXPECT_EQ(PROCEVENT_FORK, ev.type);
	EXPECT_LT(0, ev.id);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, ev.id);
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(k.pid, ev.tgid);
	EXPECT_EQ(getpid(), ev.ppid);
	EXPECT_EQ(getuid(), ev.uid);
	EXPECT_EQ(0, ev.status);
	EXPECT_EQ(0, ev.signo);
	EXPECT_EQ(0, ev.si_code);
	EXPECT_EQ(0, ev.sender_pid);
	EXPECT_EQ(0, ev.sender_uid);
	EXPECT_EQ(0, ev.flags);
	EXPECT_LE(t0, ev.time_ns);
	EXPECT_GE(t1, ev.time_ns);
	/* The child has not run its prctl(): it still has the parent's name. */
	EXPECT_STREQ(comm, ev.comm);
	EXPECT_EQ(0, ev.comm[15]);

	tick_ns = 1000000000ULL / sysconf(_SC_CLK_TCK);
	ASSERT_EQ(0, pe_start_ticks(k.pid, &ticks));
	EXPECT_LE(ticks * tick_ns, ev.start_time_ns);
	EXPECT_GT((ticks + 1) * tick_ns, ev.start_time_ns);

	cg = pe_cgroup_id(k.pid, &cgid);
	if (cg != -ENOSYS) {
		EXPECT_EQ(0, cg);
		EXPECT_EQ(cgid, ev.cgroup_id);
	}
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

/* Forks a grandchild on 'f' and reports 'P' as soon as fork() returned. */
static int forking_child(void *arg)
{
	pid_t pid;
	int st = 0;

	while (pe_gate_wait() == 'f') {
		pid = fork();
		if (pid == 0) {
			pe_report_byte('G');
			_exit(3);
		}
		if (pid < 0)
			return 100;
		pe_report_byte('P');
		pe_report(&pid, sizeof(pid));
		if (waitpid(pid, &st, 0) != pid)
			return 101;
		pe_report(&st, sizeof(st));
	}
	return 0;
}

TEST_F(fork, fork_parent_runs_while_child_held)
{
	struct procevent_event ev;
	struct pe_child k;
	pid_t gpid = 0;
	int fd = pe_open(), st = -1;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_spawn_acked(fd, &k, forking_child, NULL));
	ASSERT_EQ(0, pe_go(&k, 'f'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_FORK, ev.type);
	EXPECT_EQ(k.pid, ev.ppid);
	/* The parent got its fork() return while the grandchild is held. */
	ASSERT_EQ('P', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_expect(&k, &gpid, sizeof(gpid), PE_WAIT_MS));
	EXPECT_EQ(gpid, ev.pid);
	EXPECT_EQ(0, pe_poll_in(k.report, PE_QUIET_MS))
		TH_LOG("the grandchild ran before the ack");
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ('G', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_expect(&k, &st, sizeof(st), PE_WAIT_MS));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(3, WEXITSTATUS(st));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

static void *thread_reports(void *arg)
{
	pe_report_byte('T');
	return NULL;
}

/* Starts a thread on 't' and reports 'J' once it has joined it. */
static int threading_child(void *arg)
{
	pthread_t th;

	if (pe_gate_wait() != 't')
		return 0;
	if (pthread_create(&th, NULL, thread_reports, NULL))
		return 100;
	pthread_join(th, NULL);
	pe_report_byte('J');
	pe_gate_wait();
	return 0;
}

TEST_F(fork, fork_not_raised_for_threads)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_spawn_acked(fd, &k, threading_child, NULL));
	ASSERT_EQ(0, pe_go(&k, 't'));
	EXPECT_EQ('T', pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ('J', pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev))
		TH_LOG("event type %u pid %d for a thread", ev.type, ev.pid);
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(fork, fork_held_until_last_subscriber_acks)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a = pe_open(), b = pe_open();

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(a, PROCEVENT_FORK, k.pid, &ev));
	EXPECT_EQ(0, pe_quiet(b, PE_QUIET_MS, &ev2)) TH_LOG("B before A's ack");
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event_for(b, PROCEVENT_FORK, k.pid, &ev2));
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(0, pe_poll_in(k.report, PE_QUIET_MS))
		TH_LOG("the child ran before the last ack");
	ASSERT_EQ(0, pe_ack(b, ev2.id));
	EXPECT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(fork, fork_withdrawn_by_sigkill_after_receive)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd = pe_open(), st = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, k.pid, &ev));
	ASSERT_EQ(0, kill(k.pid, SIGKILL));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st))
		TH_LOG("SIGKILL did not end the fork hold");
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(0, pe_drain(k.report, NULL, 0, PE_WAIT_MS))
		TH_LOG("the killed child ran");
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.fork.withdrawn + 1, s1.fork.withdrawn);
	EXPECT_EQ(s0.fork.acked, s1.fork.acked);
}

TEST_F(fork, fork_withdrawn_by_sigkill_while_queued)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open(), st = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(1, pe_poll_in(fd, PE_WAIT_MS));
	EXPECT_EQ(1, pe_fdv(fd, "queued"));
	ASSERT_EQ(0, kill(k.pid, SIGKILL));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st))
		TH_LOG("SIGKILL did not end the fork hold");
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(0, pe_fdv(fd, "queued"));
	EXPECT_EQ(-EAGAIN, pe_recv(fd, &ev));
}

TEST_F(fork, fork_counted_in_proc)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_spawn(&k, runs_child, NULL));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_FORK, k.pid, &ev));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(1, s1.held);
	EXPECT_EQ(s0.fork.raised + 1, s1.fork.raised);
	EXPECT_EQ(s0.fork.delivered + 1, s1.fork.delivered);
	EXPECT_EQ(s0.fork.acked, s1.fork.acked);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(0, s1.held);
	EXPECT_EQ(s0.fork.acked + 1, s1.fork.acked);
	EXPECT_EQ(s0.exit.raised, s1.exit.raised);
	EXPECT_EQ(s0.exec.raised, s1.exec.raised);
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

/*
 * A child that is no subscriber spawns the helper program, by vfork() and
 * execve() or by posix_spawn(), on the gate's word; it reports 'V' and the
 * new pid when the call returned, then the helper's wait status.
 */
static int spawning_child(void *arg)
{
	int wfd = (int)(long)arg >> 8, how = (int)(long)arg & 0xff;
	pid_t pid = -1;
	int st = 0;

	if (pe_gate_wait() != 's')
		return 0;
	if (dup2(wfd, PE_HELPER_FD) < 0)
		return 100;
	if (how == 'v') {
		pid = vfork();
		if (pid == 0) {
			execve(pe_helper_path, pe_helper_argv, pe_helper_envp);
			_exit(127);
		}
	} else if (posix_spawn(&pid, pe_helper_path, NULL, NULL,
			       pe_helper_argv, pe_helper_envp)) {
		pid = -1;
	}
	pe_report_byte('V');
	pe_report(&pid, sizeof(pid));
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 101;
	pe_report(&st, sizeof(st));
	pe_gate_wait();
	return 0;
}

/*
 * vfork() and posix_spawn() by a process that is no subscriber: the new
 * child is held at FORK (its parent waits, as vfork implies), then at
 * EXEC; the parent returns from the call once the child has exec'd.
 */
static void spawn_by_non_subscriber(struct __test_metadata *_metadata,
				    int how)
{
	struct procevent_event ev;
	struct pe_child k;
	pid_t pid = 0;
	int fd, hp[2], st = -1;
	char c = 0;

	ASSERT_EQ(0, pe_helper_install());
	ASSERT_EQ(0, pipe2(hp, O_CLOEXEC));
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK | PROCEVENT_EXEC));
	ASSERT_EQ(0, pe_spawn_acked(fd, &k, spawning_child,
				    (void *)(long)(hp[1] << 8 | how)));
	close(hp[1]);
	ASSERT_EQ(0, pe_go(&k, 's'));

	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_FORK, ev.type);
	EXPECT_EQ(k.pid, ev.ppid);
	EXPECT_NE(k.pid, ev.pid);
	pid = ev.pid;
	/* The parent waits for the held child, as vfork implies. */
	EXPECT_EQ(0, pe_poll_in(k.report, PE_QUIET_MS))
		TH_LOG("the parent returned before its child exec'd");
	ASSERT_EQ(0, pe_ack(fd, ev.id));

	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXEC, pid, &ev))
		TH_LOG("type %u pid %d, expected EXEC of %d", ev.type, ev.pid,
		       pid);
	EXPECT_STREQ(PE_HELPER_NAME, ev.comm);
	EXPECT_EQ(k.pid, ev.ppid);
	/* Released from vfork by the exec, while the new program is held. */
	EXPECT_EQ('V', pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, pe_expect(&k, &pid, sizeof(pid), PE_WAIT_MS));
	EXPECT_EQ(ev.pid, pid);
	EXPECT_EQ(0, pe_poll_in(hp[0], 0)) TH_LOG("the helper ran before the ack");
	ASSERT_EQ(0, pe_ack(fd, ev.id));

	/* Its parent still holds the pipe: read the byte, not to the end. */
	EXPECT_EQ(1, pe_poll_in(hp[0], PE_WAIT_MS));
	EXPECT_EQ(1, read(hp[0], &c, 1));
	EXPECT_EQ('N', c);
	ASSERT_EQ(0, pe_expect(&k, &st, sizeof(st), PE_WAIT_MS));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(PE_HELPER_CODE, WEXITSTATUS(st));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(0, pe_quiet(fd, 0, &ev));
	close(hp[0]);
}

TEST_F(fork, vfork_by_non_subscriber_held_and_acked)
{
	spawn_by_non_subscriber(_metadata, 'v');
}

TEST_F(fork, posix_spawn_by_non_subscriber_held_and_acked)
{
	spawn_by_non_subscriber(_metadata, 'p');
}

struct spawner {
	int wfd;
	pid_t pid;
	int err;
	volatile int done;
};

static void *spawn_thread(void *arg)
{
	posix_spawn_file_actions_t fa;
	struct spawner *s = arg;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, s->wfd, PE_HELPER_FD);
	s->err = posix_spawn(&s->pid, pe_helper_path, &fa, NULL,
			     pe_helper_argv, pe_helper_envp);
	posix_spawn_file_actions_destroy(&fa);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The subscriber itself calls posix_spawn(): its vfork-style child is not
 * held at FORK (that would hold the subscriber in the call), but the
 * child's EXEC is.  The call runs in a thread so that a module that does
 * hold it is answered from here and the test fails instead of hanging.
 */
TEST_F(fork, posix_spawn_by_subscriber_does_not_deadlock)
{
	struct spawner s = { .pid = -1 };
	struct procevent_event ev;
	uint64_t end;
	pthread_t th;
	int fd, hp[2], st = 0, forks = 0, have_exec = 0;
	char c = 0;

	ASSERT_EQ(0, pe_helper_install());
	ASSERT_EQ(0, pipe2(hp, O_CLOEXEC));
	s.wfd = hp[1];
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK | PROCEVENT_EXEC));
	ASSERT_EQ(0, pthread_create(&th, NULL, spawn_thread, &s));

	end = pe_mono() + PE_WAIT_MS * PE_MS;
	while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) && pe_mono() < end) {
		if (pe_poll_in(fd, 10) != 1)
			continue;
		ASSERT_EQ(0, pe_recv(fd, &ev));
		if (ev.type == PROCEVENT_FORK) {
			forks++;
			pe_ack(fd, ev.id);
		} else {
			have_exec = 1;
			break;
		}
	}
	EXPECT_EQ(0, forks) TH_LOG("the subscriber's posix_spawn child was held at FORK");
	while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) && pe_mono() < end)
		pe_sleep_ms(5);
	ASSERT_EQ(1, __atomic_load_n(&s.done, __ATOMIC_ACQUIRE))
		TH_LOG("posix_spawn did not return");
	ASSERT_EQ(0, pe_join(th, PE_WAIT_MS));
	ASSERT_EQ(0, s.err);
	pe_track_pid(s.pid);
	close(hp[1]);

	if (!have_exec)
		ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXEC, ev.type);
	EXPECT_EQ(s.pid, ev.pid);
	EXPECT_EQ(0, pe_poll_in(hp[0], PE_QUIET_MS))
		TH_LOG("the spawned program ran before the ack");
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(1, pe_drain(hp[0], &c, 1, PE_WAIT_MS));
	EXPECT_EQ('N', c);
	ASSERT_EQ(0, pe_reap(s.pid, PE_WAIT_MS, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(PE_HELPER_CODE, WEXITSTATUS(st));
	close(hp[0]);
}

TEST_HARNESS_MAIN
