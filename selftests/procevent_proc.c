// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: introspection (SPEC section 5): /proc/procevent and the
 * procevent-* lines of a handle's fdinfo follow the events as they flow.
 */
#include "procevent_util.h"
#include <sys/prctl.h>
#include "kselftest_harness.h"

FIXTURE(proc) {
	int unused;
};

FIXTURE_SETUP(proc)
{
	PE_SETUP_REQUIRE_MODULE();
	if (access(PE_PROC, F_OK))
		PE_SETUP_SKIP("%s does not exist", PE_PROC);
}

FIXTURE_TEARDOWN(proc)
{
	pe_cleanup();
}

static void self_comm(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/comm", "re");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

TEST_F(proc, proc_file_is_0400)
{
	struct stat st;

	ASSERT_EQ(0, stat(PE_PROC, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0400, st.st_mode & 07777);
}

TEST_F(proc, proc_layout_without_subscribers)
{
	struct pe_stats s;

	ASSERT_EQ(0, pe_stats_read(&s))
		TH_LOG("held:, two events: lines and their fields expected");
	EXPECT_EQ(0, s.held);
	EXPECT_EQ(0, s.nsubs);
	/* An open, unsubscribed handle is not in the list. */
	ASSERT_LE(0, pe_open());
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(0, s.nsubs);
}

TEST_F(proc, proc_held_counts_held_tasks)
{
	struct procevent_event ev[2];
	struct pe_child k[2];
	struct pe_stats s;
	int fd, i;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(0, s.held);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pe_exit_event(fd, &k[i], 0, &ev[i]));
		ASSERT_EQ(0, pe_stats_read(&s));
		EXPECT_EQ(i + 1, s.held);
	}
	ASSERT_EQ(0, pe_ack_reap(fd, ev[0].id, k[0].pid, NULL));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(1, s.held);
	ASSERT_EQ(0, pe_ack_reap(fd, ev[1].id, k[1].pid, NULL));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(0, s.held);
}

TEST_F(proc, proc_exit_counters_follow_an_event)
{
	struct procevent_event ev;
	struct pe_stats s0, s1, s2;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.exit.raised + 1, s1.exit.raised);
	EXPECT_EQ(s0.exit.delivered + 1, s1.exit.delivered);
	EXPECT_EQ(s0.exit.acked, s1.exit.acked);
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	ASSERT_EQ(0, pe_stats_read(&s2));
	EXPECT_EQ(s0.exit.raised + 1, s2.exit.raised);
	EXPECT_EQ(s0.exit.acked + 1, s2.exit.acked);
	EXPECT_EQ(s0.exit.withdrawn, s2.exit.withdrawn);
	EXPECT_EQ(s0.exit.timedout, s2.exit.timedout);
	EXPECT_EQ(s0.exit.lost, s2.exit.lost);
	/* The other type did not move. */
	EXPECT_EQ(s0.signal.raised, s2.signal.raised);
	EXPECT_EQ(s0.signal.acked, s2.signal.acked);
}

/*
 * One exit visits A (times out), then B (closed with the event received):
 * every delivery ends in exactly one counter and the task is released.
 */
TEST_F(proc, proc_counters_balance_timeout_and_close)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int a, b;

	a = pe_open();
	b = pe_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_timeout(a, 50 * PE_MS));
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_exit_event(a, &k, 0, &ev));
	/* Not acked on A: it moves on to B when A's deadline passes. */
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	pe_close(b);
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(0, s1.held);
	EXPECT_EQ(s0.exit.raised + 1, s1.exit.raised);
	EXPECT_EQ(s0.exit.released + 1, s1.exit.released);
	EXPECT_EQ(s0.exit.delivered + 2, s1.exit.delivered);
	EXPECT_EQ(s0.exit.timedout + 1, s1.exit.timedout);
	EXPECT_EQ(s0.exit.moved + 1, s1.exit.moved);
	EXPECT_EQ(s0.exit.acked, s1.exit.acked);
	EXPECT_EQ(s0.exit.withdrawn, s1.exit.withdrawn);
	/* The balance a monitor can rely on once nothing is held. */
	EXPECT_EQ(s1.exit.delivered - s0.exit.delivered,
		  (s1.exit.acked - s0.exit.acked) +
		  (s1.exit.timedout - s0.exit.timedout) +
		  (s1.exit.withdrawn - s0.exit.withdrawn) +
		  (s1.exit.moved - s0.exit.moved));
}

static void on_usr1(int sig)
{
	pe_report_byte('S');
}

static int handler_child(void *arg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pe_report_byte('R');
	pe_gate_wait();
	return 0;
}

TEST_F(proc, proc_signal_counters_follow_an_event)
{
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_spawn(&k, handler_child, NULL));
	ASSERT_EQ('R', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, kill(k.pid, SIGUSR1));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ('S', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s1));
	EXPECT_EQ(s0.signal.raised + 1, s1.signal.raised);
	EXPECT_EQ(s0.signal.delivered + 1, s1.signal.delivered);
	EXPECT_EQ(s0.signal.acked + 1, s1.signal.acked);
	EXPECT_EQ(s0.signal.withdrawn, s1.signal.withdrawn);
	EXPECT_EQ(s0.exit.raised, s1.exit.raised);
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(proc, proc_subscriber_lines_in_list_order)
{
	struct procevent_event ev;
	struct pe_sub_line *u;
	struct pe_child k;
	struct pe_stats s;
	char comm[32];
	int fd[3], i;
	static const uint32_t masks[3] = {
		PROCEVENT_EXIT, PROCEVENT_SIGNAL, PE_ALL,
	};

	self_comm(comm, sizeof(comm));
	for (i = 0; i < 3; i++) {
		fd[i] = pe_open();
		ASSERT_LE(0, fd[i]);
	}
	/* Subscribe in the reverse order of opening. */
	for (i = 2; i >= 0; i--) {
		ASSERT_EQ(0, pe_set_mask(fd[i], masks[i]));
	}
	ASSERT_EQ(0, pe_set_timeout(fd[1], 5 * PE_MS));
	ASSERT_EQ(0, pe_stats_read(&s));
	ASSERT_EQ(3, s.nsubs);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(i + 1, s.subs[i].pos);
		EXPECT_EQ(getpid(), s.subs[i].pid);
		EXPECT_STREQ(comm, s.subs[i].comm);
	}
	EXPECT_EQ(PE_ALL, s.subs[0].mask);
	EXPECT_EQ(PROCEVENT_SIGNAL, s.subs[1].mask);
	EXPECT_EQ(PROCEVENT_EXIT, s.subs[2].mask);
	EXPECT_EQ(5 * PE_MS, s.subs[1].timeout_ns);
	EXPECT_EQ(0, s.subs[0].timeout_ns);

	/* An event waits on the first, then is received, then acked. */
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_fdinfo_wait(fd[2], "queued", 1, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s));
	u = pe_stats_sub(&s, 1);
	EXPECT_EQ(1, u->waiting);
	EXPECT_EQ(0, u->received);
	ASSERT_EQ(0, pe_wait_event(fd[2], &ev, 0));
	ASSERT_EQ(0, pe_stats_read(&s));
	u = pe_stats_sub(&s, 1);
	EXPECT_EQ(0, u->waiting);
	EXPECT_EQ(1, u->received);
	ASSERT_EQ(0, pe_ack(fd[2], ev.id));
	/* Now on the third (the second's mask lacks EXIT). */
	ASSERT_EQ(0, pe_fdinfo_wait(fd[0], "queued", 1, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s));
	EXPECT_EQ(1, pe_stats_sub(&s, 1)->acked);
	EXPECT_EQ(0, pe_stats_sub(&s, 2)->waiting);
	EXPECT_EQ(1, pe_stats_sub(&s, 3)->waiting);
	ASSERT_EQ(0, pe_wait_event(fd[0], &ev, 0));
	ASSERT_EQ(0, pe_ack_reap(fd[0], ev.id, k.pid, NULL));

	/* A closed handle's line goes; the others move up. */
	pe_close(fd[2]);
	ASSERT_EQ(0, pe_stats_read(&s));
	ASSERT_EQ(2, s.nsubs);
	EXPECT_EQ(1, s.subs[0].pos);
	EXPECT_EQ(PROCEVENT_SIGNAL, s.subs[0].mask);
	EXPECT_EQ(2, s.subs[1].pos);
	EXPECT_EQ(PROCEVENT_EXIT, s.subs[1].mask);
	EXPECT_EQ(1, s.subs[1].acked);
}

TEST_F(proc, proc_subscriber_line_counts_timeouts)
{
	struct pe_child k;
	struct pe_stats s;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_timeout(fd, 100 * PE_MS));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	ASSERT_EQ(0, pe_stats_read(&s));
	ASSERT_EQ(1, s.nsubs);
	EXPECT_EQ(1, s.subs[0].timeouts);
	EXPECT_EQ(0, s.subs[0].waiting);
	EXPECT_EQ(100 * PE_MS, s.subs[0].timeout_ns);
}

TEST_F(proc, fdinfo_follows_handle_state)
{
	struct procevent_event ev;
	struct pe_child k;
	int a, fd;

	a = pe_open();
	fd = pe_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pe_fdv(fd, "mask"));
	EXPECT_EQ(0, pe_fdv(fd, "position"));
	EXPECT_EQ(0, pe_fdv(fd, "queued"));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_fdv(fd, "acked"));
	EXPECT_EQ(0, pe_fdv(fd, "timeouts"));
	EXPECT_EQ(0, pe_fdv(fd, "timeout-ns"));

	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, pe_set_timeout(fd, 7 * 1000 * PE_MS));
	EXPECT_EQ(PE_ALL, pe_fdv(fd, "mask"));
	EXPECT_EQ(2, pe_fdv(fd, "position"));
	EXPECT_EQ(7000 * PE_MS, pe_fdv(fd, "timeout-ns"));

	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_fdinfo_wait(fd, "queued", 1, PE_WAIT_MS));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, 0));
	EXPECT_EQ(0, pe_fdv(fd, "queued"));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	EXPECT_EQ(1, pe_fdv(fd, "acked"));
	EXPECT_EQ(0, pe_fdv(fd, "timeouts"));

	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	EXPECT_EQ(PROCEVENT_EXIT, pe_fdv(fd, "mask"));
	EXPECT_EQ(2, pe_fdv(fd, "position"));
	pe_close(a);
	EXPECT_EQ(1, pe_fdv(fd, "position"));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	EXPECT_EQ(0, pe_fdv(fd, "position"));
	EXPECT_EQ(0, pe_fdv(fd, "mask"));
	/* The counters belong to the handle and survive unsubscribing. */
	EXPECT_EQ(1, pe_fdv(fd, "acked"));
}

/* The held-task line of pid in /proc/procevent, or -1. */
static int held_line(pid_t pid, char *out, size_t len)
{
	char line[512], want[64];
	FILE *f = fopen(PE_PROC, "re");
	int found = -1;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "held-task: pid=%d ", pid);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want))) {
			snprintf(out, len, "%s", line);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

static int exit_named(void *arg)
{
	prctl(PR_SET_NAME, (unsigned long)arg);
	pe_gate_wait();
	return 3;
}

/*
 * One line per held task: who, which event, how long, on whom it waits
 * and whether that subscriber has received it; the name escaped.
 */
TEST_F(proc, proc_lists_each_held_task)
{
	struct procevent_event ev, ev2;
	struct pe_child a, b;
	char line[512], want[256];
	long long held_ns = 0, id = 0;
	int fd = pe_open(), status;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&a, exit_named, "a b=c"));
	ASSERT_EQ(0, pe_spawn(&b, exit_named, "second"));
	ASSERT_EQ(0, pe_go(&a, 'x'));
	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	ASSERT_EQ(a.pid, ev.pid);
	ASSERT_EQ(0, pe_go(&b, 'x'));
	ASSERT_EQ(0, pe_fdinfo_wait(fd, "queued", 1, PE_WAIT_MS));

	ASSERT_EQ(0, held_line(a.pid, line, sizeof(line)));
	snprintf(want, sizeof(want),
		 "held-task: pid=%d tgid=%d comm=a\\040b\\075c type=exit id=%llu held_ns=",
		 a.pid, a.pid, (unsigned long long)ev.id);
	EXPECT_EQ(0, strncmp(line, want, strlen(want))) TH_LOG("%s", line);
	snprintf(want, sizeof(want), " pos=1 sub_pid=%d state=received\n",
		 getpid());
	EXPECT_NE(NULL, strstr(line, want)) TH_LOG("%s", line);
	EXPECT_EQ(0, pe_kvll(line, "held_ns", &held_ns));
	EXPECT_LT(0, held_ns);

	ASSERT_EQ(0, held_line(b.pid, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, " comm=second type=exit id="))
		TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, " state=queued\n")) TH_LOG("%s", line);
	/* Queued, not received: the id it was given when it was queued. */
	EXPECT_EQ(0, pe_kvll(line, "id", &id));

	ASSERT_EQ(0, pe_ack_reap(fd, ev.id, a.pid, &status));
	EXPECT_EQ(-1, held_line(a.pid, line, sizeof(line)));
	ASSERT_EQ(0, pe_wait_event(fd, &ev2, PE_WAIT_MS));
	ASSERT_EQ(b.pid, ev2.pid);
	EXPECT_EQ(id, (long long)ev2.id);
	ASSERT_EQ(0, pe_ack_reap(fd, ev2.id, b.pid, &status));
	EXPECT_EQ(-1, held_line(b.pid, line, sizeof(line)));
}

/*
 * max_hold_ms is an ack deadline for every handle, also for one that set
 * none: the event times out there and the task goes on.
 */
TEST_F(proc, max_hold_ms_bounds_every_handle)
{
	struct procevent_event ev;
	struct pe_child k;
	uint64_t t0, waited;
	long long old = 0;
	int fd = pe_open(), status;

	ASSERT_LE(0, fd);
	if (pe_param_read("max_hold_ms", &old))
		SKIP(return, "no max_hold_ms parameter");
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_param_write("max_hold_ms", 400));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 5, &ev));
	t0 = pe_mono();
	/* Not acked: released at the administrator's deadline. */
	EXPECT_EQ(0, pe_reap(k.pid, 3 * PE_WAIT_MS, &status));
	waited = (pe_mono() - t0) / PE_MS;
	EXPECT_EQ(0, pe_param_write("max_hold_ms", old));
	EXPECT_LT(200, waited);
	EXPECT_GT(2000, waited);
	EXPECT_EQ(5, WEXITSTATUS(status));
	EXPECT_EQ(1, pe_fdv(fd, "timeouts"));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
}

/* /dev/kmsg, to be read from its current end on; -1 when missing. */
static int kmsg_tail(void)
{
	int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);
	return kfd;
}

/*
 * Read the kernel log for up to ms, until each of the n needles has been
 * seen in a line: 0, or -ETIMEDOUT with *seen (when given) the bit mask of
 * those found.
 */
static int kmsg_wait_all(int kfd, const char *const *needles, int n,
			 int ms, unsigned int *seen)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;
	unsigned int found = 0, all = (1u << n) - 1;
	char buf[1024];
	int i;

	while (found != all && pe_mono() < end) {
		ssize_t len = read(kfd, buf, sizeof(buf) - 1);

		if (len > 0) {
			buf[len] = 0;
			for (i = 0; i < n; i++)
				if (strstr(buf, needles[i]))
					found |= 1u << i;
			continue;
		}
		pe_sleep_ms(20);
	}
	if (seen)
		*seen = found;
	return found == all ? 0 : -ETIMEDOUT;
}

static int kmsg_wait(int kfd, const char *needle, int ms)
{
	return kmsg_wait_all(kfd, &needle, 1, ms, NULL);
}

/*
 * The hold watchdog's tests: a subscriber for exits, the kernel log read
 * from its current end, and hold_warn_secs put back as it was.
 */
FIXTURE(hold_warn) {
	long long old;
	int fd;
	int kfd;
};

FIXTURE_SETUP(hold_warn)
{
	PE_SETUP_REQUIRE_MODULE();
	self->fd = -1;
	self->kfd = -1;
	if (pe_param_read("hold_warn_secs", &self->old))
		PE_SETUP_SKIP("no hold_warn_secs parameter");
	self->kfd = kmsg_tail();
	if (self->kfd < 0)
		PE_SETUP_SKIP("no /dev/kmsg");
	self->fd = pe_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pe_set_mask(self->fd, PROCEVENT_EXIT));
}

FIXTURE_TEARDOWN(hold_warn)
{
	EXPECT_EQ(0, pe_param_write("hold_warn_secs", self->old));
	if (self->kfd >= 0)
		close(self->kfd);
	pe_cleanup();
}

/*
 * A hold longer than hold_warn_secs is logged once, naming the task and
 * the subscriber it waits on.
 */
TEST_F(hold_warn, logged_with_its_subscriber)
{
	struct procevent_event ev;
	struct pe_child k;
	char needle[160], comm[32];
	int status;

	self_comm(comm, sizeof(comm));
	ASSERT_EQ(0, pe_param_write("hold_warn_secs", 1));
	ASSERT_EQ(0, pe_exit_event(self->fd, &k, 0, &ev));
	snprintf(needle, sizeof(needle),
		 "procevent: task %d (%s) held for 1 s by subscriber 1 (pid %d, %s), received, not acked",
		 k.pid, ev.comm, getpid(), comm);
	EXPECT_EQ(0, kmsg_wait(self->kfd, needle, 3000)) TH_LOG("want: %s", needle);
	EXPECT_EQ(0, pe_ack_reap(self->fd, ev.id, k.pid, &status));
}

/*
 * Each hold is logged once, and a lower hold_warn_secs applies at once to
 * the holds in progress.
 */
TEST_F(hold_warn, logged_once_new_limit_applies_at_once)
{
	struct procevent_event ev;
	struct pe_child k;
	char needle[160];
	int status;

	ASSERT_EQ(0, pe_param_write("hold_warn_secs", 30));
	ASSERT_EQ(0, pe_exit_event(self->fd, &k, 0, &ev));
	snprintf(needle, sizeof(needle), "procevent: task %d (%s) held for ",
		 k.pid, ev.comm);
	pe_sleep_ms(1100);
	/* Held for more than a second, under a limit of 30: not logged. */
	EXPECT_EQ(-ETIMEDOUT, kmsg_wait(self->kfd, needle, 200));
	ASSERT_EQ(0, pe_param_write("hold_warn_secs", 1));
	EXPECT_EQ(0, kmsg_wait(self->kfd, needle, 2000)) TH_LOG("want: %s", needle);
	/* Once only. */
	EXPECT_EQ(-ETIMEDOUT, kmsg_wait(self->kfd, needle, 2500));
	EXPECT_EQ(0, pe_ack_reap(self->fd, ev.id, k.pid, &status));
}

/*
 * Holds that become due a moment apart are each logged: the watchdog runs
 * again for the later one.
 */
TEST_F(hold_warn, holds_due_apart_each_logged)
{
	struct procevent_event ev[2];
	struct pe_child k[2];
	char needle[2][160];
	const char *needles[2] = { needle[0], needle[1] };
	unsigned int seen = 0;
	int i;

	ASSERT_EQ(0, pe_param_write("hold_warn_secs", 1));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pe_exit_event(self->fd, &k[i], 0, &ev[i]));
		snprintf(needle[i], sizeof(needle[i]),
			 "procevent: task %d (%s) held for ", k[i].pid,
			 ev[i].comm);
		if (!i)
			pe_sleep_ms(400);
	}
	EXPECT_EQ(0, kmsg_wait_all(self->kfd, needles, 2, 5000, &seen))
		TH_LOG("logged: mask %u of 3", seen);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, pe_ack_reap(self->fd, ev[i].id, k[i].pid, NULL));
}

TEST_HARNESS_MAIN
