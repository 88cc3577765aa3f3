// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: PROCEVENT_EXEC events (SPEC section 8.1): the task is held
 * after the new image is loaded and before its first instruction, /proc
 * shows the new program during the hold, the hold is killable, and a
 * failed exec raises nothing.
 */
#include "procevent_util.h"
#include "kselftest_harness.h"

PE_EXEC_HELPER()

FIXTURE(exec) {
	int hp[2];	/* the helper program writes to hp[1] */
};

FIXTURE_SETUP(exec)
{
	PE_SETUP_REQUIRE_MODULE();
	self->hp[0] = self->hp[1] = -1;
	ASSERT_EQ(0, pe_helper_install());
	ASSERT_EQ(0, pipe2(self->hp, O_CLOEXEC));
}

FIXTURE_TEARDOWN(exec)
{
	pe_cleanup();
	pe_helper_remove();
	close(self->hp[0]);
	close(self->hp[1]);
}

/*
 * A child that execs the helper when told ('e'), or execs a file that
 * does not exist ('n') and reports the errno.
 */
static int exec_child(void *arg)
{
	int wfd = (int)(long)arg, c, err;

	prctl(PR_SET_NAME, "pe-before-exec");
	c = pe_gate_wait();
	if (c == 'e')
		return 100 + pe_helper_exec(wfd);
	if (c == 'n') {
		execl("/nonexistent/pe-no-such-program", "x", (char *)NULL);
		err = errno;
		pe_report(&err, sizeof(err));
		pe_gate_wait();
	}
	return 0;
}

/* Spawn an exec_child and let it exec the helper. */
static int spawn_exec(FIXTURE_DATA(exec) *self, struct pe_child *k)
{
	int r = pe_spawn(k, exec_child, (void *)(long)self->hp[1]);

	if (r)
		return r;
	/* Only the child and the helper it becomes hold the write end. */
	close(self->hp[1]);
	self->hp[1] = -1;
	return pe_go(k, 'e');
}

TEST_F(exec, exec_held_before_new_program_runs)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open(), st = 0;
	char c = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXEC));
	ASSERT_EQ(0, spawn_exec(self, &k));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXEC, k.pid, &ev))
		TH_LOG("type %u pid %d, expected EXEC of %d", ev.type, ev.pid,
		       k.pid);
	EXPECT_EQ(0, pe_poll_in(self->hp[0], PE_QUIET_MS))
		TH_LOG("the new program ran before the ack");
	EXPECT_EQ(1, pe_alive(k.pid));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(1, pe_drain(self->hp[0], &c, 1, PE_WAIT_MS));
	EXPECT_EQ('N', c);
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(PE_HELPER_CODE, WEXITSTATUS(st));
}

static int read_file(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

TEST_F(exec, exec_proc_shows_new_program_during_hold)
{
	static const char cmdline[] = PE_HELPER_NAME "\0one\0two";
	struct procevent_event ev;
	char path[64], buf[512];
	struct pe_child k;
	ssize_t n;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXEC));
	ASSERT_EQ(0, spawn_exec(self, &k));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXEC, k.pid, &ev));

	snprintf(path, sizeof(path), "/proc/%d/exe", k.pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_STREQ(pe_helper_path, buf);
	EXPECT_EQ((int)strlen(PE_HELPER_NAME) + 1,
		  read_file(k.pid, "comm", buf, sizeof(buf)));
	EXPECT_STREQ(PE_HELPER_NAME "\n", buf);
	EXPECT_EQ((int)sizeof(cmdline), read_file(k.pid, "cmdline", buf,
						  sizeof(buf)));
	EXPECT_EQ(0, memcmp(cmdline, buf, sizeof(cmdline)));
	EXPECT_EQ(0, pe_poll_in(self->hp[0], 0));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(exec, exec_event_fields_are_all_written)
{
	unsigned long long ticks = 0, tick_ns;
	struct procevent_event ev;
	struct pe_child k;
	uint64_t t0, t1, cgid = 0;
	int fd = pe_open(), cg;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXEC));
	t0 = pe_mono();
	ASSERT_EQ(0, spawn_exec(self, &k));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	t1 = pe_mono();

	EXPECT_EQ(PE_REC, ev.size);
	EXPECT_EQ(PROCEVENT_EXEC, ev.type);
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
	/* The new program's name, not "pe-before-exec". */
	EXPECT_STREQ(PE_HELPER_NAME, ev.comm);
	EXPECT_EQ(0, ev.comm[15]);
	/* exec keeps the process, and so its start time. */
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
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(exec, exec_withdrawn_by_sigkill_during_hold)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd = pe_open(), st = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXEC));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, spawn_exec(self, &k));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXEC, k.pid, &ev));
	ASSERT_EQ(0, kill(k.pid, SIGKILL));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st))
		TH_LOG("SIGKILL did not end the exec hold");
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(0, pe_drain(self->hp[0], NULL, 0, PE_WAIT_MS))
		TH_LOG("the new program ran");
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.exec.withdrawn + 1, s1.exec.withdrawn);
	EXPECT_EQ(s0.exec.acked, s1.exec.acked);
}

TEST_F(exec, exec_failed_raises_nothing)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open(), err = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXEC));
	ASSERT_EQ(0, pe_spawn(&k, exec_child, (void *)(long)self->hp[1]));
	ASSERT_EQ(0, pe_go(&k, 'n'));
	ASSERT_EQ(0, pe_expect(&k, &err, sizeof(err), PE_WAIT_MS));
	EXPECT_EQ(ENOENT, err);
	EXPECT_EQ(0, pe_quiet(fd, PE_QUIET_MS, &ev))
		TH_LOG("event type %u pid %d for a failed exec", ev.type,
		       ev.pid);
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(exec, exec_counted_in_proc)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXEC));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, spawn_exec(self, &k));
	ASSERT_EQ(0, pe_wait_event_for(fd, PROCEVENT_EXEC, k.pid, &ev));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(1, s1.held);
	EXPECT_EQ(s0.exec.raised + 1, s1.exec.raised);
	EXPECT_EQ(s0.exec.delivered + 1, s1.exec.delivered);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(0, s1.held);
	EXPECT_EQ(s0.exec.acked + 1, s1.exec.acked);
	EXPECT_EQ(s0.fork.raised, s1.fork.raised);
	EXPECT_EQ(s0.exit.raised, s1.exit.raised);
}

/* A thread of the child execs: the whole process becomes the new program. */
static void *exec_thread(void *arg)
{
	pe_helper_exec((int)(long)arg);
	return NULL;
}

static int thread_exec_child(void *arg)
{
	pthread_t th;

	if (pe_gate_wait() != 'e')
		return 0;
	if (pthread_create(&th, NULL, exec_thread, arg))
		return 100;
	pthread_join(th, NULL);
	return 101;
}

TEST_F(exec, exec_from_thread_names_the_process)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open(), st = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXEC));
	ASSERT_EQ(0, pe_spawn(&k, thread_exec_child,
			      (void *)(long)self->hp[1]));
	close(self->hp[1]);
	self->hp[1] = -1;
	ASSERT_EQ(0, pe_go(&k, 'e'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXEC, ev.type);
	/* The exec'ing thread took over the process' pid. */
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(k.pid, ev.tgid);
	EXPECT_STREQ(PE_HELPER_NAME, ev.comm);
	EXPECT_EQ(0, pe_poll_in(self->hp[0], PE_QUIET_MS));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(PE_HELPER_CODE, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
