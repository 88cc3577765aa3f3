// SPDX-License-Identifier: GPL-2.0
/*
 * libprocevent: formatting and parsing (run anywhere), and the calls on a
 * real /dev/procevent (skipped without the module).
 */
#include "tools_test.h"

#include <sys/syscall.h>

#include "kselftest_harness.h"

#define NEED_DEVICE() do { \
	if (!tt_have_device()) \
		SKIP(return, "no %s (module not loaded)", PROCEVENT_DEVICE); \
} while (0)

static struct procevent_event sample_event(uint32_t type)
{
	struct procevent_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.size = sizeof(ev);
	ev.type = type;
	ev.id = 17;
	ev.pid = 312;
	ev.tgid = 312;
	ev.ppid = 1;
	ev.uid = 1000;
	strcpy(ev.comm, "worker");
	return ev;
}

/* --- formatting ---------------------------------------------------------- */

TEST(format_status_speaks_like_a_shell)
{
	char buf[64];

	procevent_format_status(3 << 8, buf, sizeof(buf));
	EXPECT_STREQ("exited with status 3", buf);
	procevent_format_status(0, buf, sizeof(buf));
	EXPECT_STREQ("exited with status 0", buf);
	procevent_format_status(SIGKILL, buf, sizeof(buf));
	EXPECT_STREQ("killed by SIGKILL", buf);
	procevent_format_status(SIGSEGV | 0x80, buf, sizeof(buf));
	EXPECT_STREQ("killed by SIGSEGV (core dumped)", buf);
}

TEST(signal_names)
{
	EXPECT_STREQ("SIGHUP", procevent_signal_name(SIGHUP));
	EXPECT_STREQ("SIGUSR1", procevent_signal_name(SIGUSR1));
	EXPECT_STREQ("SIGTERM", procevent_signal_name(SIGTERM));
	EXPECT_STREQ("SIGRTMIN", procevent_signal_name(SIGRTMIN));
	EXPECT_STREQ("SIGRTMIN+1", procevent_signal_name(SIGRTMIN + 1));
	EXPECT_STREQ("SIGRTMAX", procevent_signal_name(SIGRTMAX));
	EXPECT_EQ(NULL, procevent_signal_name(0));
	EXPECT_EQ(NULL, procevent_signal_name(-1));
	EXPECT_EQ(NULL, procevent_signal_name(SIGRTMAX + 1));
}

TEST(type_names)
{
	EXPECT_STREQ("exit", procevent_type_name(PROCEVENT_EXIT));
	EXPECT_STREQ("signal", procevent_type_name(PROCEVENT_SIGNAL));
	EXPECT_STREQ("fork", procevent_type_name(PROCEVENT_FORK));
	EXPECT_STREQ("exec", procevent_type_name(PROCEVENT_EXEC));
	EXPECT_EQ(NULL, procevent_type_name(0));
	EXPECT_EQ(NULL, procevent_type_name(0x10));
	EXPECT_EQ(NULL, procevent_type_name(PROCEVENT_EXIT | PROCEVENT_SIGNAL));
}

TEST(format_exit_event_as_text)
{
	struct procevent_event ev = sample_event(PROCEVENT_EXIT);
	char buf[256];
	int n;

	ev.status = 3 << 8;
	n = procevent_format(&ev, buf, sizeof(buf), 0);
	EXPECT_STREQ("exit pid 312 (worker) ppid 1 uid 1000: exited with status 3 [id 17]", buf);
	EXPECT_EQ((int)strlen(buf), n);
}

TEST(format_signal_event_as_text)
{
	struct procevent_event ev = sample_event(PROCEVENT_SIGNAL);
	char buf[256];

	ev.pid = 313;
	ev.signo = SIGUSR1;
	ev.sender_pid = 12;
	procevent_format(&ev, buf, sizeof(buf), 0);
	EXPECT_STREQ("signal pid 313 (worker) tgid 312 ppid 1 uid 1000: SIGUSR1 from pid 12 uid 0 [id 17]", buf);
	ev.sender_pid = 0;
	ev.si_code = 128;
	procevent_format(&ev, buf, sizeof(buf), 0);
	EXPECT_STREQ("signal pid 313 (worker) tgid 312 ppid 1 uid 1000: SIGUSR1 from the kernel (si_code 128) [id 17]", buf);
}

TEST(format_fork_and_exec_events_as_text)
{
	struct procevent_event ev = sample_event(PROCEVENT_FORK);
	char buf[256];

	ev.pid = ev.tgid = 313;
	ev.ppid = 312;
	procevent_format(&ev, buf, sizeof(buf), 0);
	EXPECT_STREQ("fork pid 313 (worker) ppid 312 uid 1000: new process [id 17]", buf);
	ev.type = PROCEVENT_EXEC;
	strcpy(ev.comm, "sort");
	procevent_format(&ev, buf, sizeof(buf), 0);
	EXPECT_STREQ("exec pid 313 (sort) ppid 312 uid 1000: new program [id 17]", buf);
}

TEST(format_fork_and_exec_events_as_json)
{
	static const uint32_t types[] = { PROCEVENT_FORK, PROCEVENT_EXEC };
	static const char *const names[] = { "fork", "exec" };
	struct tt_json j;
	char buf[1024];
	size_t i;

	for (i = 0; i < 2; i++) {
		struct procevent_event ev = sample_event(types[i]);

		ev.ppid = 311;
		procevent_format(&ev, buf, sizeof(buf), PROCEVENT_FORMAT_JSON);
		ASSERT_EQ(0, tt_json_parse(buf, &j)) {
			TH_LOG("not JSON: %s", buf);
		}
		EXPECT_STREQ(names[i], tt_json_get(&j, "type"));
		EXPECT_STREQ("312", tt_json_get(&j, "pid"));
		EXPECT_STREQ("311", tt_json_get(&j, "ppid"));
		EXPECT_STREQ("worker", tt_json_get(&j, "comm"));
		/* nothing decoded for these two */
		EXPECT_EQ(NULL, tt_json_get(&j, "exit_code"));
		EXPECT_EQ(NULL, tt_json_get(&j, "signal"));
		EXPECT_EQ(17, j.n);
	}
}

TEST(format_truncates_like_snprintf)
{
	struct procevent_event ev = sample_event(PROCEVENT_EXIT);
	char full[256], small[10];
	int n;

	n = procevent_format(&ev, full, sizeof(full), 0);
	ASSERT_EQ(n, procevent_format(&ev, small, sizeof(small), 0));
	EXPECT_EQ(9, (int)strlen(small));
	EXPECT_EQ(0, strncmp(full, small, 9));
	EXPECT_EQ(n, procevent_format(&ev, NULL, 0, 0));
	EXPECT_EQ(-EINVAL, procevent_format(&ev, full, sizeof(full), 0x80));
}

TEST(format_json_carries_every_field)
{
	static const char *const fields[] = {
		"size", "type", "id", "pid", "tgid", "ppid", "uid", "status",
		"signo", "si_code", "sender_pid", "sender_uid", "flags",
		"start_time_ns", "time_ns", "cgroup_id", "comm",
	};
	struct procevent_event ev = sample_event(PROCEVENT_EXIT);
	struct tt_json j;
	char buf[1024];
	size_t i;

	ev.status = SIGKILL;
	ev.start_time_ns = 18446744073709551615ULL;
	ev.time_ns = 123456789;
	ev.cgroup_id = 42;
	strcpy(ev.comm, "a\"b\\c\x01");
	procevent_format(&ev, buf, sizeof(buf), PROCEVENT_FORMAT_JSON);
	ASSERT_EQ(0, tt_json_parse(buf, &j)) {
		TH_LOG("not JSON: %s", buf);
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		EXPECT_NE(NULL, tt_json_get(&j, fields[i])) {
			TH_LOG("field %zu missing in %s", i, buf);
		}
	EXPECT_STREQ("exit", tt_json_get(&j, "type"));
	EXPECT_STREQ("18446744073709551615", tt_json_get(&j, "start_time_ns"));
	EXPECT_STREQ("a\"b\\c\x01", tt_json_get(&j, "comm"));
	EXPECT_STREQ("SIGKILL", tt_json_get(&j, "term_signal"));
	EXPECT_STREQ("false", tt_json_get(&j, "core_dumped"));
	EXPECT_EQ(NULL, tt_json_get(&j, "exit_code"));
}

TEST(status_parse_reads_every_line)
{
	static const char text[] =
		"held: 2\n"
		"events: type=exit raised=10 delivered=12 acked=9 withdrawn=0 timedout=1 lost=3\n"
		"events: type=signal raised=4 delivered=4 acked=3 withdrawn=1 timedout=0 lost=0\n"
		"events: type=future raised=1 delivered=0 acked=0 withdrawn=0 timedout=0 lost=0\n"
		"something: new=1\n"
		"subscriber: pos=1 pid=40 comm=lockd mask=0x1 waiting=1 received=2 acked=7 timeouts=1 timeout_ns=500000000\n"
		"subscriber: pos=2 pid=41 comm=my mask=daemon mask=0x3 waiting=0 received=0 acked=2 timeouts=0 timeout_ns=0 extra=9\n";
	struct procevent_status *st;

	ASSERT_EQ(0, procevent_status_parse(text, &st));
	EXPECT_EQ(2, st->held);
	EXPECT_EQ(10, st->exit.raised);
	EXPECT_EQ(12, st->exit.delivered);
	EXPECT_EQ(1, st->exit.timedout);
	EXPECT_EQ(3, st->exit.lost);
	EXPECT_EQ(1, st->signal.withdrawn);
	ASSERT_EQ(3, st->nr_types);
	EXPECT_STREQ("future", st->types[2].name);
	ASSERT_EQ(2, st->nr_subscribers);
	EXPECT_EQ(1, st->subscribers[0].pos);
	EXPECT_EQ(40, st->subscribers[0].pid);
	EXPECT_STREQ("lockd", st->subscribers[0].comm);
	EXPECT_EQ(1, st->subscribers[0].waiting);
	EXPECT_EQ(2, st->subscribers[0].received);
	EXPECT_EQ(500000000ULL, st->subscribers[0].timeout_ns);
	EXPECT_EQ(2, st->subscribers[1].pos);
	EXPECT_STREQ("my mask=daemon", st->subscribers[1].comm);
	EXPECT_EQ(3, st->subscribers[1].mask);
	EXPECT_EQ(2, st->subscribers[1].acked);
	EXPECT_EQ(0, st->pool_shown);
	procevent_status_free(st);
}

TEST(status_parse_reads_scopes_and_fork_exec_counters)
{
	static const char text[] =
		"held: 0\n"
		"events: type=exit raised=1 delivered=1 acked=1 withdrawn=0 timedout=0 lost=0\n"
		"events: type=signal raised=2 delivered=2 acked=2 withdrawn=0 timedout=0 lost=0\n"
		"events: type=fork raised=5 delivered=4 acked=4 withdrawn=0 timedout=0 lost=1\n"
		"events: type=exec raised=7 delivered=6 acked=5 withdrawn=0 timedout=0 lost=0\n"
		"pool: size=256 free=240 misses=17\n"
		"subscriber: pos=1 pid=40 comm=a scope=x mask=0x4 waiting=0 received=0 acked=4 timeouts=0 timeout_ns=0 scope=cgroup\n"
		"subscriber: pos=2 pid=41 comm=b mask=0x8 waiting=0 received=0 acked=5 timeouts=0 timeout_ns=0 scope=pidns\n"
		"subscriber: pos=3 pid=42 comm=c mask=0x1 waiting=0 received=0 acked=1 timeouts=0 timeout_ns=0\n";
	struct procevent_status *st;

	ASSERT_EQ(0, procevent_status_parse(text, &st));
	EXPECT_EQ(5, st->fork.raised);
	EXPECT_EQ(1, st->fork.lost);
	EXPECT_EQ(7, st->exec.raised);
	EXPECT_EQ(5, st->exec.acked);
	EXPECT_EQ(2, st->signal.raised);
	ASSERT_EQ(3, st->nr_subscribers);
	ASSERT_NE(NULL, st->subscribers_ext);
	EXPECT_STREQ("a scope=x", st->subscribers[0].comm);
	EXPECT_STREQ("cgroup", st->subscribers_ext[0].scope);
	EXPECT_STREQ("pidns", st->subscribers_ext[1].scope);
	EXPECT_STREQ("", st->subscribers_ext[2].scope);
	EXPECT_EQ(8, st->subscribers[1].mask);
	EXPECT_EQ(1, st->pool_shown);
	EXPECT_EQ(256, st->pool_size);
	EXPECT_EQ(240, st->pool_free);
	EXPECT_EQ(17, st->pool_misses);
	procevent_status_free(st);
}

/* --- one escaping rule ---------------------------------------------------- */

/* newline, 0xff, quote, backslash, e-acute, DEL, C1 CSI, tab */
static const char hostile[] = "a\nb\xff\"\\\xc3\xa9\x7f\xc2\x9b\t";

TEST(escape_text_is_one_line_of_utf8)
{
	char buf[128];
	int n;

	n = procevent_escape(hostile, sizeof(hostile), buf, sizeof(buf), 0);
	EXPECT_STREQ("a\\nb\\xff\"\\\\\xc3\xa9\\x7f\\xc2\\x9b\\t", buf);
	EXPECT_EQ((int)strlen(buf), n);
	/* truncated like snprintf, and -EINVAL for unknown flags */
	EXPECT_EQ(n, procevent_escape(hostile, sizeof(hostile), buf, 4, 0));
	EXPECT_STREQ("a\\n", buf);
	EXPECT_EQ(-EINVAL, procevent_escape(hostile, 3, buf, sizeof(buf), 0x80));
	/* @len bounds it; overlong forms and surrogates are not UTF-8 */
	procevent_escape("abc", 2, buf, sizeof(buf), 0);
	EXPECT_STREQ("ab", buf);
	procevent_escape("\xc0\xaf\xed\xa0\x80", 16, buf, sizeof(buf), 0);
	EXPECT_STREQ("\\xc0\\xaf\\xed\\xa0\\x80", buf);
}

TEST(escape_json_is_valid_json)
{
	char buf[128], doc[160];

	procevent_escape(hostile, sizeof(hostile), buf, sizeof(buf),
			 PROCEVENT_ESCAPE_JSON);
	EXPECT_STREQ("a\\nb\\\\xff\\\"\\\\\xc3\xa9\\u007f\\u009b\\t", buf);
	snprintf(doc, sizeof(doc), "[\"%s\"]", buf);
	EXPECT_EQ(0, tt_json_valid(doc)) {
		TH_LOG("not JSON: %s", doc);
	}
}

TEST(format_escapes_a_hostile_comm)
{
	struct procevent_event ev = sample_event(PROCEVENT_EXIT);
	struct tt_json j;
	char buf[1024];

	memcpy(ev.comm, hostile, sizeof(hostile) - 1);
	ev.comm[sizeof(hostile) - 1] = '\0';
	procevent_format(&ev, buf, sizeof(buf), 0);
	EXPECT_EQ(0, strncmp(buf, "exit pid 312 (a\\nb\\xff\"\\\\\xc3\xa9\\x7f\\xc2\\x9b\\t) ", 39)) {
		TH_LOG("text: %s", buf);
	}
	EXPECT_EQ(NULL, strchr(buf, '\n'));
	procevent_format(&ev, buf, sizeof(buf), PROCEVENT_FORMAT_JSON);
	ASSERT_EQ(0, tt_json_valid(buf)) {
		TH_LOG("not JSON: %s", buf);
	}
	ASSERT_EQ(0, tt_json_parse(buf, &j));
	EXPECT_STREQ("a\nb\\xff\"\\\xc3\xa9\x7f\x9b\t", tt_json_get(&j, "comm"));
}

/* --- names that cannot be confused with the uapi --------------------------- */

TEST(all_means_every_type_and_dispatch_values_are_the_librarys)
{
	EXPECT_EQ(PROCEVENT_EXIT | PROCEVENT_SIGNAL | PROCEVENT_FORK |
		  PROCEVENT_EXEC, PROCEVENT_ALL);
	EXPECT_EQ(0, PROCEVENT_DISPATCH_ACK);
	/* none is an ack flag, nor the 0.2 values 1 and 2 */
	EXPECT_NE(PROCEVENT_ACK_KILL, PROCEVENT_DISPATCH_KEEP);
	EXPECT_NE(PROCEVENT_ACK_KILL, PROCEVENT_DISPATCH_KILL);
	EXPECT_GT(PROCEVENT_DISPATCH_KEEP, 2);
	EXPECT_GT(PROCEVENT_DISPATCH_KILL, 2);
	EXPECT_NE(PROCEVENT_DISPATCH_KEEP, PROCEVENT_DISPATCH_KILL);
	EXPECT_NE(NULL, strstr(procevent_strerror(-EOPNOTSUPP), "too old"));
	EXPECT_NE(NULL, strstr(procevent_strerror(-ENOENT), "not loaded"));
	EXPECT_STREQ(strerror(EIO), procevent_strerror(-EIO));
}

TEST(status_parse_reads_held_tasks)
{
	static const char text[] =
		"held: 3\n"
		"events: type=exit raised=1 delivered=1 acked=0 withdrawn=0 timedout=0 lost=0\n"
		"subscriber: pos=1 pid=40 comm=lockd mask=0x3 waiting=1 received=1 acked=0 timeouts=0 timeout_ns=0 scope=all owner=40\n"
		"held-task: pid=77 tgid=76 comm=a\\012b\xff\"\\134\\075\\040\xc3\xa9 type=signal id=9 held_ns=1500000000 pos=1 sub_pid=40 state=received\n"
		"held-task: pid=78 tgid=78 comm=w type=exit id=10 held_ns=5 pos=1 sub_pid=40 state=queued\n"
		"held-more: 1\n";
	struct procevent_status *st;

	ASSERT_EQ(0, procevent_status_parse(text, &st));
	EXPECT_EQ(3, st->held);
	EXPECT_EQ(1, st->held_listed);
	EXPECT_EQ(1, st->held_more);
	ASSERT_EQ(2, st->nr_held_tasks);
	EXPECT_EQ(77, st->held_tasks[0].pid);
	EXPECT_EQ(76, st->held_tasks[0].tgid);
	EXPECT_STREQ("a\nb\xff\"\\= \xc3\xa9", st->held_tasks[0].comm);
	EXPECT_EQ(PROCEVENT_SIGNAL, st->held_tasks[0].type);
	EXPECT_EQ(9, st->held_tasks[0].id);
	EXPECT_EQ(1500000000ULL, st->held_tasks[0].held_ns);
	EXPECT_EQ(1, st->held_tasks[0].pos);
	EXPECT_EQ(40, st->held_tasks[0].sub_pid);
	EXPECT_EQ(1, st->held_tasks[0].received);
	EXPECT_EQ(PROCEVENT_EXIT, st->held_tasks[1].type);
	EXPECT_STREQ("w", st->held_tasks[1].comm);
	EXPECT_EQ(0, st->held_tasks[1].received);
	procevent_status_free(st);
	/* a 0.2 module: a count and no list */
	ASSERT_EQ(0, procevent_status_parse("held: 2\n", &st));
	EXPECT_EQ(0, st->held_listed);
	EXPECT_EQ(0, st->nr_held_tasks);
	procevent_status_free(st);
}

TEST(open_rejects_unknown_flags)
{
	EXPECT_EQ(-EINVAL, procevent_open(PROCEVENT_EXIT, O_APPEND));
}

/* --- on the device ------------------------------------------------------- */

TEST(recv_exit_event_then_ack_releases_the_child)
{
	struct procevent_event ev;
	pid_t child;
	int fd, status;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	child = tt_child_exit(5);
	ASSERT_LT(0, child);
	memset(&ev, 0xa5, sizeof(ev));
	ASSERT_EQ(0, procevent_recv(fd, &ev, TT_WAIT_MS));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(sizeof(ev), ev.size);
	EXPECT_EQ(child, ev.pid);
	EXPECT_EQ(child, ev.tgid);
	EXPECT_EQ(getpid(), ev.ppid);
	EXPECT_EQ(5 << 8, ev.status);
	/* held: not reapable before the ack */
	EXPECT_EQ(0, waitpid(child, &status, WNOHANG));
	EXPECT_EQ(0, procevent_ack(fd, ev.id));
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 5);
	EXPECT_EQ(-ENOENT, procevent_ack(fd, ev.id));
	close(fd);
}

TEST(recv_nonblocking_with_nothing_waiting_is_eagain)
{
	struct procevent_event ev;
	int fd;

	NEED_DEVICE();
	/* SIGNAL only: nothing in this quiet test raises one. */
	fd = procevent_open(PROCEVENT_SIGNAL, O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EAGAIN, procevent_recv(fd, &ev, 0));
	EXPECT_EQ(-EAGAIN, procevent_recv_many(fd, &ev, 1, 0));
	close(fd);
}

TEST(recv_with_timeout_gives_up_in_time)
{
	struct procevent_event ev;
	int64_t t0, took;
	int fd;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
	ASSERT_LE(0, fd);
	t0 = tt_ms();
	EXPECT_EQ(-ETIMEDOUT, procevent_recv(fd, &ev, 200));
	took = tt_ms() - t0;
	EXPECT_LE(195, took);
	EXPECT_GT(2000, took);
	close(fd);
}

TEST(recv_unsubscribed_is_enomsg)
{
	struct procevent_event ev;
	int fd;

	NEED_DEVICE();
	fd = procevent_open(0, O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOMSG, procevent_recv(fd, &ev, 0));
	EXPECT_EQ(-ENOMSG, procevent_recv(fd, &ev, 100));
	EXPECT_EQ(-ENOMSG, procevent_recv_many(fd, &ev, 1, 0));
	close(fd);
	fd = procevent_open(0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOMSG, procevent_recv(fd, &ev, -1));
	close(fd);
}

TEST(recv_many_and_ack_many)
{
	struct procevent_event evs[8];
	uint64_t ids[3];
	pid_t kids[3];
	int fd, i, got = 0, status;
	int64_t end;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++)
		ASSERT_LT(0, kids[i] = tt_child_exit(10 + i));
	end = tt_ms() + TT_WAIT_MS;
	while (got < 3 && tt_ms() < end) {
		ssize_t n = procevent_recv_many(fd, evs, 8, 500);

		if (n == -ETIMEDOUT)
			continue;
		ASSERT_LT(0, n);
		for (i = 0; i < n; i++) {
			ASSERT_GT(3, got);
			ids[got++] = evs[i].id;
		}
	}
	ASSERT_EQ(3, got);
	EXPECT_EQ(3, procevent_ack_many(fd, ids, 3));
	for (i = 0; i < 3; i++) {
		status = tt_wait(kids[i], TT_WAIT_MS);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 10 + i);
	}
	/* Already acked: the first fails, so its error comes back. */
	EXPECT_EQ(-ENOENT, procevent_ack_many(fd, ids, 3));
	close(fd);
}

TEST(ack_many_stops_at_the_first_bad_id)
{
	struct procevent_event a, b;
	uint64_t ids[3];
	pid_t k1, k2;
	int fd;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, k1 = tt_child_exit(0));
	ASSERT_EQ(0, procevent_recv(fd, &a, TT_WAIT_MS));
	ASSERT_LT(0, k2 = tt_child_exit(0));
	ASSERT_EQ(0, procevent_recv(fd, &b, TT_WAIT_MS));
	ids[0] = a.id;
	ids[1] = ~0ULL;
	ids[2] = b.id;
	EXPECT_EQ(1, procevent_ack_many(fd, ids, 3));
	EXPECT_EQ(0, procevent_ack(fd, b.id));
	EXPECT_LE(0, tt_wait(k1, TT_WAIT_MS));
	EXPECT_LE(0, tt_wait(k2, TT_WAIT_MS));
	close(fd);
}

TEST(set_timeout_releases_an_unacked_task)
{
	struct procevent_event ev;
	int64_t t0, took;
	pid_t child;
	int fd;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, procevent_set_timeout(fd, 200 * 1000000ULL));
	t0 = tt_ms();
	ASSERT_LT(0, child = tt_child_exit(0));
	ASSERT_EQ(0, procevent_recv(fd, &ev, TT_WAIT_MS));
	EXPECT_LE(0, tt_wait(child, TT_WAIT_MS));
	took = tt_ms() - t0;
	EXPECT_LE(190, took);
	EXPECT_EQ(-ENOENT, procevent_ack(fd, ev.id));
	close(fd);
}

struct dispatch_seen {
	int n;
	uint64_t kept;
	pid_t pids[4];
};

static int keep_second(int fd, const struct procevent_event *ev, void *arg)
{
	struct dispatch_seen *s = arg;

	(void)fd;
	if (s->n < 4)
		s->pids[s->n] = ev->pid;
	if (s->n++ == 1) {
		s->kept = ev->id;
		return PROCEVENT_DISPATCH_KEEP;
	}
	return PROCEVENT_DISPATCH_ACK;
}

TEST(dispatch_acks_unless_the_handler_keeps)
{
	struct dispatch_seen seen = { 0 };
	struct pollfd pfd;
	pid_t k1, k2;
	int64_t end;
	int fd, n;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, procevent_dispatch(fd, keep_second, &seen, 0));
	ASSERT_LT(0, k1 = tt_child_exit(1));
	ASSERT_LT(0, k2 = tt_child_exit(2));
	pfd.fd = fd;
	pfd.events = POLLIN;
	end = tt_ms() + TT_WAIT_MS;
	while (seen.n < 2 && tt_ms() < end) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = procevent_dispatch(fd, keep_second, &seen, 0);
		ASSERT_LE(0, n);
	}
	ASSERT_EQ(2, seen.n);
	/* the first was acked by dispatch, the kept one still holds */
	EXPECT_LE(0, tt_wait(seen.pids[0], TT_WAIT_MS));
	EXPECT_EQ(0, waitpid(seen.pids[1], NULL, WNOHANG));
	EXPECT_EQ(0, procevent_ack(fd, seen.kept));
	EXPECT_LE(0, tt_wait(seen.pids[1], TT_WAIT_MS));
	close(fd);
}

TEST(open_fails_with_eperm_without_cap_sys_admin)
{
	pid_t child;
	int status;

	NEED_DEVICE();
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };
		struct { uint32_t eff, perm, inh; } data[2] = { { 0 } };
		int r;

		/* uid 0 still passes the 0600 node; the driver says EPERM. */
		if (syscall(SYS_capset, &hdr, data))
			_exit(99);
		r = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
		_exit(r == -EPERM ? 0 : 1);
	}
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(open_fails_with_enospc_when_every_slot_is_taken)
{
	int fds[64], n = 0, max = 0, fd, i;
	struct procevent_status *st;
	FILE *f;

	NEED_DEVICE();
	f = fopen("/sys/module/procevent/parameters/max_subscribers", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%d", &max));
	fclose(f);
	ASSERT_EQ(0, procevent_status_read(&st));
	max -= (int)st->nr_subscribers;	/* slots still free */
	procevent_status_free(st);
	ASSERT_GE(64, max);
	for (i = 0; i < max; i++) {
		fd = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	EXPECT_EQ(max, n);
	EXPECT_EQ(-ENOSPC, procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC));
	/* Failing to subscribe leaves nothing open behind. */
	for (i = 0; i < n; i++)
		close(fds[i]);
	fd = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
	EXPECT_LE(0, fd);
	close(fd);
}

/* --- scope and veto on the device ----------------------------------------- */

/* This handle's "procevent-scope:" from fdinfo into @buf (32 bytes), or "" */
static void fdinfo_scope(int fd, char *buf)
{
	char path[64], line[128];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "procevent-scope: %31s", buf) == 1)
			break;
	fclose(f);
}

static int have_cgroup2(void)
{
	return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

TEST(set_scope_rejects_bad_input)
{
	int fd, dir, closed;
	char scope[32];

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, procevent_set_scope(fd, 3, -1));
	EXPECT_EQ(-EINVAL, procevent_set_scope(fd, 0xffffffffu, -1));
	/* PIDNS takes no fd */
	EXPECT_EQ(-EINVAL, procevent_set_scope(fd, PROCEVENT_SCOPE_PIDNS, 0));
	/* a closed fd */
	closed = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_EQ(-EBADF, procevent_set_scope_cgroup_fd(fd, closed));
	EXPECT_EQ(-EBADF, procevent_set_scope_cgroup_fd(fd, -1));
	/* a directory, but not of a cgroup v2 file system */
	dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	EXPECT_EQ(-ENOTDIR, procevent_set_scope_cgroup_fd(fd, dir));
	close(dir);
	EXPECT_EQ(-ENOTDIR, procevent_set_scope_cgroup(fd, "/proc"));
	/* not a directory at all, and no such path: from opening it */
	EXPECT_EQ(-ENOTDIR, procevent_set_scope_cgroup(fd, "/proc/self/status"));
	EXPECT_EQ(-ENOENT, procevent_set_scope_cgroup(fd, "/no/such/cgroup"));
	EXPECT_EQ(-EINVAL, procevent_set_scope_cgroup(fd, ""));
	if (have_cgroup2()) {
		/* a file inside a cgroup directory is not the directory */
		dir = open("/sys/fs/cgroup/cgroup.procs", O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, dir);
		EXPECT_EQ(-ENOTDIR, procevent_set_scope_cgroup_fd(fd, dir));
		close(dir);
	}
	/* Each failure left the scope as it was. */
	fdinfo_scope(fd, scope);
	EXPECT_STREQ("all", scope);
	close(fd);
}

TEST(set_scope_takes_each_kind)
{
	char scope[32];
	int fd;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, procevent_set_scope_pidns(fd));
	fdinfo_scope(fd, scope);
	EXPECT_STREQ("pidns", scope);
	if (have_cgroup2()) {
		EXPECT_EQ(0, procevent_set_scope_cgroup(fd, "/sys/fs/cgroup"));
		fdinfo_scope(fd, scope);
		EXPECT_STREQ("cgroup", scope);
	}
	/* with SCOPE_ALL the fd is ignored */
	EXPECT_EQ(0, procevent_set_scope(fd, PROCEVENT_SCOPE_ALL, 12345));
	fdinfo_scope(fd, scope);
	EXPECT_STREQ("all", scope);
	EXPECT_EQ(0, procevent_set_scope_pidns(fd));
	EXPECT_EQ(0, procevent_set_scope_all(fd));
	fdinfo_scope(fd, scope);
	EXPECT_STREQ("all", scope);
	close(fd);
}

TEST(status_read_gives_the_scope)
{
	struct procevent_status *st;
	unsigned int i, found = 0;
	int fd;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, procevent_set_scope_pidns(fd));
	ASSERT_EQ(0, procevent_status_read(&st));
	for (i = 0; i < st->nr_subscribers; i++) {
		if (st->subscribers[i].pid != getpid())
			continue;
		found++;
		EXPECT_STREQ("pidns", st->subscribers_ext[i].scope);
	}
	EXPECT_EQ(1, found);
	procevent_status_free(st);
	close(fd);
}

TEST(ack_kill_on_an_exit_event_is_einval_and_keeps_it)
{
	struct procevent_event ev;
	uint64_t id;
	pid_t child;
	int fd, status;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, child = tt_child_exit(3));
	ASSERT_EQ(0, procevent_recv(fd, &ev, TT_WAIT_MS));
	ASSERT_EQ(child, ev.pid);
	EXPECT_EQ(-EINVAL, procevent_ack_kill(fd, ev.id));
	id = ev.id;
	EXPECT_EQ(-EINVAL, procevent_ack_kill_many(fd, &id, 1));
	/* still received, still held */
	EXPECT_EQ(0, waitpid(child, NULL, WNOHANG));
	EXPECT_EQ(0, procevent_ack(fd, ev.id));
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 3);
	/* no such event */
	EXPECT_EQ(-ENOENT, procevent_ack_kill(fd, ev.id));
	EXPECT_EQ(-ENOENT, procevent_ack_kill(fd, ~0ULL));
	close(fd);
}

TEST(ack_records_rejects_unknown_flags_and_reserved)
{
	struct procevent_ack acks[2];
	struct procevent_event ev;
	pid_t child;
	int fd, status;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, child = tt_child_exit(0));
	ASSERT_EQ(0, procevent_recv(fd, &ev, TT_WAIT_MS));
	memset(acks, 0, sizeof(acks));
	acks[0].id = ev.id;
	acks[0].flags = 0x2;
	EXPECT_EQ(-EINVAL, procevent_ack_records(fd, acks, 1));
	acks[0].flags = 0;
	acks[0].reserved = 1;
	EXPECT_EQ(-EINVAL, procevent_ack_records(fd, acks, 1));
	EXPECT_EQ(-EINVAL, procevent_ack_records(fd, NULL, 1));
	EXPECT_EQ(0, procevent_ack_records(fd, acks, 0));
	EXPECT_EQ(0, waitpid(child, NULL, WNOHANG));
	acks[0].reserved = 0;
	EXPECT_EQ(1, procevent_ack_records(fd, acks, 1));
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status));
	close(fd);
}

/* Children that would exit 0 if they ever ran an instruction of their own. */
static int recv_fork_events(int fd, pid_t *kids, int n, uint64_t *ids)
{
	struct procevent_event ev;
	int i, got = 0;

	for (i = 0; i < n; i++)
		kids[i] = tt_child_exit(0);
	while (got < n) {
		if (procevent_recv(fd, &ev, TT_WAIT_MS))
			return got;
		if (ev.type != PROCEVENT_FORK) {
			procevent_ack(fd, ev.id);
			continue;
		}
		for (i = 0; i < n; i++)
			if (ev.pid == kids[i])
				ids[i] = ev.id;
		got++;
	}
	return got;
}

TEST(ack_kill_many_kills_the_held_children)
{
	pid_t kids[3];
	uint64_t ids[3];
	int fd, i, status;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_FORK, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, recv_fork_events(fd, kids, 3, ids));
	/* one alone, then two in one write */
	EXPECT_EQ(0, procevent_ack_kill(fd, ids[0]));
	EXPECT_EQ(2, procevent_ack_kill_many(fd, ids + 1, 2));
	for (i = 0; i < 3; i++) {
		status = tt_wait(kids[i], TT_WAIT_MS);
		EXPECT_TRUE(status >= 0 && WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL) {
			TH_LOG("child %d: status 0x%x", i, status);
		}
	}
	EXPECT_EQ(-ENOENT, procevent_ack_kill_many(fd, ids, 3));
	close(fd);
}

static int kill_first(int fd, const struct procevent_event *ev, void *arg)
{
	pid_t *victim = arg;

	(void)fd;
	return ev->pid == *victim ? PROCEVENT_DISPATCH_KILL :
				    PROCEVENT_DISPATCH_ACK;
}

/* --- ack and receive in one call ----------------------------------------- */

#ifdef TT_WRAP_IOCTL
#include <stdarg.h>

/*
 * Linked with --wrap=ioctl: every ioctl() of the static library comes
 * here, and with old_module set PROCEVENT_IOC_ACK_RECV is refused as a
 * module before 0.4 refuses it.
 */
static int old_module;
static int ack_recv_calls;

int __real_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (_IOC_TYPE(req) == PROCEVENT_IOC_MAGIC &&
	    _IOC_NR(req) == _IOC_NR(PROCEVENT_IOC_ACK_RECV)) {
		ack_recv_calls++;
		if (old_module) {
			errno = ENOTTY;
			return -1;
		}
	}
	return __real_ioctl(fd, req, arg);
}
#endif

static int module_has_ack_recv(void)
{
	struct procevent_info info;

	return !procevent_features(-1, &info) &&
	       (info.features & PROCEVENT_FEATURE_ACK_RECV);
}

/* A child that exits with @code after @ms. */
static pid_t child_exit_after(int code, int ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		usleep(ms * 1000);
		_exit(code);
	}
	return pid;
}

TEST(ack_recv_acks_then_receives_the_next)
{
	struct procevent_ack ack = { 0 };
	struct procevent_event a, b;
	pid_t k1, k2;
	int fd, acked = -1;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* nothing to ack yet: a receive */
	ASSERT_LT(0, k1 = tt_child_exit(1));
	ASSERT_EQ(0, procevent_ack_recv(fd, NULL, &a, TT_WAIT_MS, &acked));
	EXPECT_EQ(0, acked);
	EXPECT_EQ(k1, a.pid);
	ASSERT_LT(0, k2 = tt_child_exit(2));
	ack.id = a.id;
	acked = -1;
	ASSERT_EQ(0, procevent_ack_recv(fd, &ack, &b, TT_WAIT_MS, &acked));
	EXPECT_EQ(1, acked);
	EXPECT_EQ(k2, b.pid);
	EXPECT_LT(a.id, b.id);
	EXPECT_EQ(1 << 8, tt_wait(k1, TT_WAIT_MS));
	/* the second is held until its own ack */
	usleep(100 * 1000);
	EXPECT_EQ(0, waitpid(k2, NULL, WNOHANG));
	ack.id = b.id;
	EXPECT_EQ(-EAGAIN, procevent_ack_recv(fd, &ack, &a, 0, &acked));
	EXPECT_EQ(1, acked);
	EXPECT_EQ(2 << 8, tt_wait(k2, TT_WAIT_MS));
	close(fd);
}

TEST(ack_recv_refused_ack_receives_nothing)
{
	struct procevent_ack ack = { 0 };
	struct procevent_event a, b;
	pid_t k1, k2;
	int fd, acked = -1;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, k1 = tt_child_exit(0));
	ASSERT_EQ(0, procevent_recv(fd, &a, TT_WAIT_MS));
	ASSERT_LT(0, k2 = tt_child_exit(0));
	/* wait until the second is queued */
	ASSERT_EQ(0, tt_poll_in(fd, TT_WAIT_MS));
	ack.id = ~0ULL;
	EXPECT_EQ(-ENOENT, procevent_ack_recv(fd, &ack, &b, 0, &acked));
	EXPECT_EQ(0, acked);
	ack.id = a.id;
	ack.flags = PROCEVENT_ACK_KILL;
	acked = -1;
	EXPECT_EQ(-EINVAL, procevent_ack_recv(fd, &ack, &b, 0, &acked));
	EXPECT_EQ(0, acked);
	ack.id = 0;
	EXPECT_EQ(-EINVAL, procevent_ack_recv(fd, &ack, &b, 0, &acked));
	EXPECT_EQ(-EINVAL, procevent_ack_recv(fd, NULL, NULL, 0, &acked));
	/* neither was acked, the second is still there to receive */
	EXPECT_EQ(0, waitpid(k1, NULL, WNOHANG));
	ASSERT_EQ(0, procevent_recv(fd, &b, 0));
	EXPECT_EQ(k2, b.pid);
	EXPECT_EQ(0, procevent_ack(fd, a.id));
	EXPECT_EQ(0, procevent_ack(fd, b.id));
	EXPECT_LE(0, tt_wait(k1, TT_WAIT_MS));
	EXPECT_LE(0, tt_wait(k2, TT_WAIT_MS));
	close(fd);
}

/* The receive after the ack waits as procevent_recv() does. */
TEST(ack_recv_timeouts_after_the_ack)
{
	struct procevent_ack ack = { 0 };
	struct procevent_event a, b;
	int64_t t0;
	pid_t k1, k2;
	int fd, nb, acked = -1;

	NEED_DEVICE();
	for (nb = 0; nb < 2; nb++) {
		fd = procevent_open(PROCEVENT_EXIT,
				    O_CLOEXEC | (nb ? O_NONBLOCK : 0));
		ASSERT_LE(0, fd);
		ASSERT_LT(0, k1 = tt_child_exit(0));
		ASSERT_EQ(0, procevent_recv(fd, &a, TT_WAIT_MS));
		ack.id = a.id;
		t0 = tt_ms();
		EXPECT_EQ(-ETIMEDOUT,
			  procevent_ack_recv(fd, &ack, &b, 200, &acked));
		EXPECT_LE(190, tt_ms() - t0);
		EXPECT_EQ(1, acked);
		EXPECT_LE(0, tt_wait(k1, TT_WAIT_MS));
		/* -1: as long as it takes, on either kind of handle */
		ASSERT_LT(0, k2 = child_exit_after(3, 300));
		EXPECT_EQ(0, procevent_ack_recv(fd, NULL, &b, -1, &acked));
		EXPECT_EQ(0, acked);
		EXPECT_EQ(k2, b.pid);
		ack.id = b.id;
		EXPECT_EQ(-EAGAIN, procevent_ack_recv(fd, &ack, &a, 0, &acked));
		EXPECT_EQ(1, acked);
		EXPECT_EQ(3 << 8, tt_wait(k2, TT_WAIT_MS));
		/* not subscribed: -ENOMSG, the last ack done first */
		ASSERT_LT(0, k1 = tt_child_exit(0));
		ASSERT_EQ(0, procevent_recv(fd, &a, TT_WAIT_MS));
		ASSERT_EQ(0, procevent_set_mask(fd, 0));
		ack.id = a.id;
		EXPECT_EQ(-ENOMSG, procevent_ack_recv(fd, &ack, &b, -1, &acked));
		EXPECT_EQ(1, acked);
		EXPECT_LE(0, tt_wait(k1, TT_WAIT_MS));
		close(fd);
	}
}

struct next_arrives {
	int n;
	pid_t next;
};

/* The first event's handler makes a second one arrive before it returns. */
static int make_next_arrive(int fd, const struct procevent_event *ev,
			    void *arg)
{
	struct next_arrives *s = arg;

	(void)ev;
	if (s->n++ == 0) {
		s->next = tt_child_exit(0);
		if (s->next < 0 || tt_poll_in(fd, TT_WAIT_MS))
			return -EIO;
	}
	return PROCEVENT_DISPATCH_ACK;
}

TEST(dispatch_takes_the_next_event_with_the_last_ack)
{
	struct next_arrives s = { 0 };
	struct procevent_event ev;
	pid_t k;
	int fd;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, k = tt_child_exit(0));
	ASSERT_EQ(0, tt_poll_in(fd, TT_WAIT_MS));
	/* ACK_RECV: the second in the same dispatch; without: the next one */
	EXPECT_EQ(module_has_ack_recv() ? 2 : 1,
		  procevent_dispatch(fd, make_next_arrive, &s, 0));
	if (s.n == 1)
		EXPECT_EQ(1, procevent_dispatch(fd, make_next_arrive, &s, 0));
	EXPECT_EQ(2, s.n);
	EXPECT_LE(0, tt_wait(k, TT_WAIT_MS));
	EXPECT_LE(0, tt_wait(s.next, TT_WAIT_MS));
	EXPECT_EQ(-EAGAIN, procevent_recv(fd, &ev, 0));

	/* at most @max events: the last ack then takes nothing */
	s.n = 0;
	ASSERT_LT(0, k = tt_child_exit(0));
	ASSERT_EQ(0, tt_poll_in(fd, TT_WAIT_MS));
	EXPECT_EQ(1, procevent_dispatch(fd, make_next_arrive, &s, 1));
	EXPECT_EQ(1, s.n);
	EXPECT_LE(0, tt_wait(k, TT_WAIT_MS));
	EXPECT_EQ(1, procevent_dispatch(fd, make_next_arrive, &s, 1));
	EXPECT_LE(0, tt_wait(s.next, TT_WAIT_MS));
	close(fd);
}

#ifdef TT_WRAP_IOCTL
/* A module before 0.4: the same results, through ACK and RECV. */
TEST(ack_recv_and_dispatch_on_a_module_without_it)
{
	struct procevent_ack ack = { 0 };
	struct next_arrives s = { 0 };
	struct procevent_event a, b;
	pid_t k1, k2;
	int fd, acked = -1;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	old_module = 1;
	ack_recv_calls = 0;
	ASSERT_LT(0, k1 = tt_child_exit(1));
	ASSERT_EQ(0, procevent_ack_recv(fd, NULL, &a, TT_WAIT_MS, &acked));
	EXPECT_EQ(0, acked);
	EXPECT_EQ(k1, a.pid);
	ASSERT_LT(0, k2 = tt_child_exit(2));
	ack.id = a.id;
	ASSERT_EQ(0, procevent_ack_recv(fd, &ack, &b, TT_WAIT_MS, &acked));
	EXPECT_EQ(1, acked);
	EXPECT_EQ(k2, b.pid);
	EXPECT_EQ(1 << 8, tt_wait(k1, TT_WAIT_MS));
	/* a refused ack: nothing received, *acked 0 */
	EXPECT_EQ(-ENOENT, procevent_ack_recv(fd, &ack, &a, 0, &acked));
	EXPECT_EQ(0, acked);
	ack.id = 0;
	ack.flags = PROCEVENT_ACK_KILL;
	EXPECT_EQ(-EINVAL, procevent_ack_recv(fd, &ack, &a, 0, &acked));
	EXPECT_EQ(0, acked);
	ack.id = b.id;
	ack.flags = 0;
	EXPECT_EQ(-EAGAIN, procevent_ack_recv(fd, &ack, &a, 0, &acked));
	EXPECT_EQ(1, acked);
	EXPECT_EQ(2 << 8, tt_wait(k2, TT_WAIT_MS));

	/* dispatch acks each batch on its own: the next event waits */
	ASSERT_LT(0, k1 = tt_child_exit(0));
	ASSERT_EQ(0, tt_poll_in(fd, TT_WAIT_MS));
	EXPECT_EQ(1, procevent_dispatch(fd, make_next_arrive, &s, 0));
	EXPECT_EQ(1, s.n);
	EXPECT_LE(0, tt_wait(k1, TT_WAIT_MS));
	EXPECT_EQ(1, procevent_dispatch(fd, make_next_arrive, &s, 0));
	EXPECT_LE(0, tt_wait(s.next, TT_WAIT_MS));
	/* every path tried the call once and took the old way */
	EXPECT_LT(0, ack_recv_calls);
	old_module = 0;

	/* the real call was used where the module has it */
	ack_recv_calls = 0;
	s.n = 0;
	ASSERT_LT(0, k1 = tt_child_exit(0));
	ASSERT_EQ(0, tt_poll_in(fd, TT_WAIT_MS));
	EXPECT_EQ(2, procevent_dispatch(fd, make_next_arrive, &s, 0));
	EXPECT_EQ(2, ack_recv_calls);
	EXPECT_LE(0, tt_wait(k1, TT_WAIT_MS));
	EXPECT_LE(0, tt_wait(s.next, TT_WAIT_MS));
	close(fd);
}
#endif

TEST(dispatch_kill_vetoes_the_event)
{
	struct pollfd pfd;
	pid_t victim, spared;
	int fd, status, handled = 0;
	int64_t end;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_FORK, O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, victim = tt_child_exit(0));
	ASSERT_LT(0, spared = tt_child_exit(0));
	pfd.fd = fd;
	pfd.events = POLLIN;
	end = tt_ms() + TT_WAIT_MS;
	while (handled < 2 && tt_ms() < end) {
		int n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = procevent_dispatch(fd, kill_first, &victim, 0);
		ASSERT_LE(0, n);
		handled += n;
	}
	status = tt_wait(victim, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	status = tt_wait(spared, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
}

/* --- dispatch never strands an event ---------------------------------------- */

struct fail_first {
	int calls;
	int ret;		/* what the first call returns */
};

static int fail_first_handler(int fd, const struct procevent_event *ev,
			      void *arg)
{
	struct fail_first *f = arg;

	(void)fd;
	(void)ev;
	return f->calls++ == 0 ? f->ret : PROCEVENT_DISPATCH_ACK;
}

/* Two exits waiting, one dispatch whose handler answers @ret to the first. */
static void dispatch_two(struct __test_metadata *_metadata, int ret,
			 int expect)
{
	struct fail_first f = { 0, ret };
	struct procevent_subscriber sub;
	pid_t k1, k2;
	int64_t end;
	int fd, n, s1, s2;

	fd = procevent_open(PROCEVENT_EXIT, O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, k1 = tt_child_exit(1));
	ASSERT_LT(0, k2 = tt_child_exit(2));
	/* both queued before the one dispatch */
	end = tt_ms() + TT_WAIT_MS;
	do {
		ASSERT_EQ(1, tt_wait_subscriber(getpid(), 100, &sub));
	} while (sub.waiting < 2 && tt_ms() < end);
	ASSERT_EQ(2, sub.waiting);
	n = procevent_dispatch(fd, fail_first_handler, &f, 0);
	EXPECT_EQ(expect, n);
	/* the handler saw both, and neither task stays held */
	EXPECT_EQ(2, f.calls);
	s1 = tt_wait(k1, TT_WAIT_MS);
	s2 = tt_wait(k2, TT_WAIT_MS);
	EXPECT_TRUE(s1 >= 0 && WIFEXITED(s1) && WEXITSTATUS(s1) == 1);
	EXPECT_TRUE(s2 >= 0 && WIFEXITED(s2) && WEXITSTATUS(s2) == 2);
	EXPECT_EQ(1, tt_wait_subscriber(getpid(), 100, &sub));
	EXPECT_EQ(0, sub.received);
	close(fd);
}

TEST(dispatch_handler_failure_strands_nothing)
{
	NEED_DEVICE();
	dispatch_two(_metadata, -EIO, -EIO);
}

TEST(dispatch_refuses_the_uapi_flag_and_acks)
{
	NEED_DEVICE();
	/* PROCEVENT_ACK_KILL is an ack flag, not a handler's answer */
	dispatch_two(_metadata, PROCEVENT_ACK_KILL, -EINVAL);
}

TEST(dispatch_kill_on_an_exit_event_acks_plainly)
{
	NEED_DEVICE();
	/* the kernel refuses a kill-ack on exit: a plain ack follows */
	dispatch_two(_metadata, PROCEVENT_DISPATCH_KILL, -EINVAL);
}

/* --- what the module supports ---------------------------------------------- */

static unsigned int sysfs_param(const char *name)
{
	char path[128];
	unsigned int v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/procevent/parameters/%s",
		 name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

TEST(features_describe_the_running_module)
{
	struct procevent_info info;
	int fd;

	NEED_DEVICE();
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, procevent_features(-1, &info));
	EXPECT_EQ(PROCEVENT_INFO_SIZE_VER0, info.size);
	EXPECT_LE(PROCEVENT_VERSION(0, 3, 0), info.version);
	EXPECT_EQ(0, PROCEVENT_VERSION_MAJOR(info.version));
	EXPECT_EQ(PROCEVENT_ALL, info.types);
	EXPECT_EQ(PROCEVENT_ACK_KILL, info.ack_flags);
	EXPECT_EQ(1u << PROCEVENT_SCOPE_ALL | 1u << PROCEVENT_SCOPE_CGROUP |
		  1u << PROCEVENT_SCOPE_PIDNS, info.scope_kinds);
	EXPECT_EQ(PROCEVENT_F_SENDER_UNVERIFIED, info.event_flags);
	EXPECT_EQ(sysfs_param("max_subscribers"), info.max_subscribers);
	EXPECT_LE(6, info.last_ioctl);
	/* 0.4 and later serve ACK_RECV and say so; 0.3 had no features */
	if (info.version >= PROCEVENT_VERSION(0, 4, 0)) {
		EXPECT_EQ(PROCEVENT_FEATURE_ACK_RECV, info.features);
		EXPECT_LE(7, info.last_ioctl);
	} else {
		EXPECT_EQ(0, info.features);
	}
	EXPECT_EQ(0, info.reserved[0] | info.reserved[1] | info.reserved[2]);

	/* on a handle too, and what it lacks is -EOPNOTSUPP */
	fd = procevent_open(0, O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, procevent_features(fd, &info));
	EXPECT_EQ(0, procevent_require(fd, PROCEVENT_ALL, PROCEVENT_ACK_KILL,
				       1u << PROCEVENT_SCOPE_PIDNS));
	EXPECT_EQ(-EOPNOTSUPP, procevent_require(fd, 0x10, 0, 0));
	EXPECT_EQ(-EOPNOTSUPP, procevent_require(fd, 0, 0x2, 0));
	EXPECT_EQ(-EOPNOTSUPP, procevent_require(fd, 0, 0, 1u << 7));
	/* a type nobody knows stays -EINVAL */
	EXPECT_EQ(-EINVAL, procevent_set_mask(fd, 0x100));
	close(fd);
	EXPECT_EQ(-EBADF, procevent_features(fd, &info));
}

TEST(status_read_lists_a_held_task)
{
	struct procevent_status *st;
	struct procevent_event ev;
	unsigned int i, found = 0;
	pid_t child;
	int fd, status;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_EXIT, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, child = tt_child_exit(0));
	ASSERT_EQ(0, procevent_recv(fd, &ev, TT_WAIT_MS));
	ASSERT_EQ(child, ev.pid);
	usleep(20000);
	ASSERT_EQ(0, procevent_status_read(&st));
	EXPECT_EQ(1, st->held_listed);
	for (i = 0; i < st->nr_held_tasks; i++) {
		const struct procevent_held *h = &st->held_tasks[i];

		if (h->pid != child)
			continue;
		found++;
		EXPECT_EQ(child, h->tgid);
		EXPECT_EQ(PROCEVENT_EXIT, h->type);
		EXPECT_EQ(ev.id, h->id);
		EXPECT_EQ(getpid(), h->sub_pid);
		EXPECT_EQ(1, h->received);
		EXPECT_LE(20000000ULL, h->held_ns);
		EXPECT_STREQ(ev.comm, h->comm);
	}
	EXPECT_EQ(1, found);
	procevent_status_free(st);
	EXPECT_EQ(0, procevent_ack(fd, ev.id));
	status = tt_wait(child, TT_WAIT_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status));
	close(fd);
}

TEST(status_read_lists_this_handle)
{
	struct procevent_subscriber sub;
	int fd;

	NEED_DEVICE();
	fd = procevent_open(PROCEVENT_SIGNAL, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, tt_wait_subscriber(getpid(), 1000, &sub));
	EXPECT_EQ(PROCEVENT_SIGNAL, sub.mask);
	EXPECT_LE(1, sub.pos);
	close(fd);
}

TEST_HARNESS_MAIN
