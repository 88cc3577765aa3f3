// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: scoped subscriptions (SPEC section 8.2) and pid numbers in
 * the reader's pid namespace (section 2).  PROCEVENT_IOC_SET_SCOPE and its
 * errors; a cgroup scope passes other tasks by like a mask miss, judged
 * when it is the handle's turn; SET_SCOPE keeps the handle's place and
 * its queued events; a subscriber in a child pid namespace reads that
 * namespace's numbers, and with SCOPE_PIDNS sees only its tasks.
 */
#include "procevent_util.h"
#include <sched.h>
#include "kselftest_harness.h"

FIXTURE(scope) {
	char in[1024];		/* the scope cgroup */
	char sub[1100];		/* a cgroup below it */
	char out[1024];		/* a cgroup beside it */
	int made;
};

FIXTURE_SETUP(scope)
{
	PE_SETUP_REQUIRE_MODULE();
	self->made = 0;
}

/* rmdir, retried while the last task of the cgroup is still leaving. */
static void cg_rmdir(const char *path)
{
	int i;

	for (i = 0; i < 100 && rmdir(path) && errno == EBUSY; i++)
		pe_sleep_ms(20);
}

FIXTURE_TEARDOWN(scope)
{
	pe_cleanup();
	if (self->made) {
		cg_rmdir(self->sub);
		cg_rmdir(self->in);
		cg_rmdir(self->out);
	}
}

/* Write pid to dir/cgroup.procs: 0 or -errno. */
static int cg_move(const char *dir, pid_t pid)
{
	char path[1200], buf[32];
	int fd, len, r = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", pid);
	if (write(fd, buf, len) != len)
		r = -errno;
	close(fd);
	return r;
}

static int cg_id(const char *dir, uint64_t *id)
{
	struct {
		struct file_handle fh;
		unsigned char buf[64];
	} h;
	int mnt;

	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = sizeof(h.buf);
	if (name_to_handle_at(AT_FDCWD, dir, &h.fh, &mnt, 0))
		return -errno;
	if (h.fh.handle_bytes != 8)
		return -EPROTO;
	memcpy(id, h.fh.f_handle, 8);
	return 0;
}

/*
 * Make <own cgroup>/pe-in-<pid>, .../pe-in-<pid>/sub and
 * <own cgroup>/pe-out-<pid>: 0, or -ENOSYS without cgroup2 at
 * /sys/fs/cgroup, or -errno.
 */
static int cg_make(FIXTURE_DATA(scope) *self)
{
	char line[512], base[600] = "";
	struct statfs sfs;
	FILE *f;

	if (statfs("/sys/fs/cgroup", &sfs) || sfs.f_type != 0x63677270)
		return -ENOSYS;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(base, sizeof(base), "/sys/fs/cgroup%s",
				 strcmp(line + 3, "/") ? line + 3 : "");
		}
	}
	fclose(f);
	if (!base[0])
		return -ENOSYS;
	snprintf(self->in, sizeof(self->in), "%s/pe-in-%d", base, getpid());
	snprintf(self->sub, sizeof(self->sub), "%s/sub", self->in);
	snprintf(self->out, sizeof(self->out), "%s/pe-out-%d", base,
		 getpid());
	if (mkdir(self->in, 0755) || mkdir(self->sub, 0755) ||
	    mkdir(self->out, 0755))
		return -errno;
	self->made = 1;
	return 0;
}

#define CG_MAKE_OR_SKIP() do {						\
	int _r = cg_make(self);						\
	if (_r == -ENOSYS)						\
		SKIP(return, "no cgroup2 at /sys/fs/cgroup");		\
	ASSERT_EQ(0, _r);						\
} while (0)

static int open_dir(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* ---- SET_SCOPE and its errors ----------------------------------------- */

TEST_F(scope, scope_shown_in_fdinfo_and_proc)
{
	struct pe_stats s;
	char line[512];
	int fd = pe_open(), dfd, found = 0;
	FILE *f;

	ASSERT_LE(0, fd);
	EXPECT_STREQ("all", pe_fdinfo_str(fd, "scope"));
	CG_MAKE_OR_SKIP();
	dfd = open_dir(self->in);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_CGROUP, dfd));
	close(dfd);
	EXPECT_STREQ("cgroup", pe_fdinfo_str(fd, "scope"));
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_stats_read(&s));
	ASSERT_EQ(1, s.nsubs);

	/* type lines exit, signal, fork, exec; scope= then owner=. */
	f = fopen(PE_PROC, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "events: type=", 13)) {
			static const char *const order[] = {
				"exit ", "signal ", "fork ", "exec ",
			};

			if (found < 4)
				EXPECT_EQ(0, strncmp(line + 13, order[found],
						     strlen(order[found])))
					TH_LOG("type line %d: %s", found, line);
			found++;
		} else if (!strncmp(line, "subscriber:", 11)) {
			const char *p = strstr(line, " scope=");

			ASSERT_NE(NULL, p);
			EXPECT_EQ(0, strncmp(p, " scope=cgroup owner=", 20))
				TH_LOG("subscriber line: %s", line);
		}
	}
	fclose(f);
	EXPECT_EQ(4, found);

	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1));
	EXPECT_STREQ("pidns", pe_fdinfo_str(fd, "scope"));
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_ALL, -1));
	EXPECT_STREQ("all", pe_fdinfo_str(fd, "scope"));
}

/* A refused SET_SCOPE leaves the scope as it was: pidns here. */
static void expect_scope_error(struct __test_metadata *_metadata, int fd,
			       int err, uint32_t kind, int32_t dirfd,
			       uint64_t reserved)
{
	EXPECT_EQ(-err, pe_set_scope_full(fd, kind, dirfd, reserved))
		TH_LOG("kind %u fd %d reserved 0x%llx", kind, dirfd,
		       (unsigned long long)reserved);
	EXPECT_STREQ("pidns", pe_fdinfo_str(fd, "scope"));
}

TEST_F(scope, set_scope_bad_fd_ebadf)
{
	int fd = pe_open(), closed;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1));
	closed = dup(fd);
	ASSERT_LE(0, closed);
	close(closed);
	expect_scope_error(_metadata, fd, EBADF, PROCEVENT_SCOPE_CGROUP, -1, 0);
	expect_scope_error(_metadata, fd, EBADF, PROCEVENT_SCOPE_CGROUP,
			   closed, 0);
	expect_scope_error(_metadata, fd, EBADF, PROCEVENT_SCOPE_CGROUP,
			   INT32_MAX, 0);
}

TEST_F(scope, set_scope_regular_file_enotdir)
{
	char path[1200];
	int fd = pe_open(), ffd;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1));
	ffd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ffd);
	expect_scope_error(_metadata, fd, ENOTDIR, PROCEVENT_SCOPE_CGROUP,
			   ffd, 0);
	close(ffd);
	/* Not even a file of the cgroup2 file system. */
	CG_MAKE_OR_SKIP();
	snprintf(path, sizeof(path), "%s/cgroup.procs", self->in);
	ffd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ffd);
	expect_scope_error(_metadata, fd, ENOTDIR, PROCEVENT_SCOPE_CGROUP,
			   ffd, 0);
	close(ffd);
	/* Nor the handle itself. */
	expect_scope_error(_metadata, fd, ENOTDIR, PROCEVENT_SCOPE_CGROUP,
			   fd, 0);
}

TEST_F(scope, set_scope_proc_dir_enotdir)
{
	int fd = pe_open(), dfd;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1));
	dfd = open_dir("/proc");
	ASSERT_LE(0, dfd);
	expect_scope_error(_metadata, fd, ENOTDIR, PROCEVENT_SCOPE_CGROUP,
			   dfd, 0);
	close(dfd);
}

TEST_F(scope, set_scope_non_cgroup_dir_enotdir)
{
	static const char *const dirs[] = { "/", "/dev", "/sys", "/sys/fs" };
	unsigned int i;
	int fd = pe_open(), dfd;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1));
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		dfd = open_dir(dirs[i]);
		ASSERT_LE(0, dfd) TH_LOG("%s", dirs[i]);
		expect_scope_error(_metadata, fd, ENOTDIR,
				   PROCEVENT_SCOPE_CGROUP, dfd, 0);
		close(dfd);
	}
}

TEST_F(scope, set_scope_unknown_kind_einval)
{
	static const uint32_t kinds[] = { 3, 4, 0x100, 0x80000000u, ~0u };
	unsigned int i;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1));
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		expect_scope_error(_metadata, fd, EINVAL, kinds[i], -1, 0);
		expect_scope_error(_metadata, fd, EINVAL, kinds[i], 0, 0);
	}
}

TEST_F(scope, set_scope_nonzero_reserved_einval)
{
	int fd = pe_open(), dfd;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1));
	expect_scope_error(_metadata, fd, EINVAL, PROCEVENT_SCOPE_ALL, -1, 1);
	expect_scope_error(_metadata, fd, EINVAL, PROCEVENT_SCOPE_PIDNS, -1,
			   1ULL << 63);
	CG_MAKE_OR_SKIP();
	dfd = open_dir(self->in);
	ASSERT_LE(0, dfd);
	expect_scope_error(_metadata, fd, EINVAL, PROCEVENT_SCOPE_CGROUP, dfd,
			   ~0ULL);
	close(dfd);
}

TEST_F(scope, set_scope_pidns_fd_not_minus_one_einval)
{
	int fd = pe_open(), dfd;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1));
	expect_scope_error(_metadata, fd, EINVAL, PROCEVENT_SCOPE_PIDNS, 0, 0);
	expect_scope_error(_metadata, fd, EINVAL, PROCEVENT_SCOPE_PIDNS, -2, 0);
	expect_scope_error(_metadata, fd, EINVAL, PROCEVENT_SCOPE_PIDNS, fd, 0);
	CG_MAKE_OR_SKIP();
	dfd = open_dir(self->in);
	ASSERT_LE(0, dfd);
	expect_scope_error(_metadata, fd, EINVAL, PROCEVENT_SCOPE_PIDNS, dfd,
			   0);
	close(dfd);
}

TEST_F(scope, set_scope_all_ignores_fd)
{
	int fd = pe_open(), ffd;

	ASSERT_LE(0, fd);
	ffd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ffd);
	EXPECT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_ALL, -1));
	EXPECT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_ALL, INT32_MAX));
	EXPECT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_ALL, ffd));
	EXPECT_EQ(0, pe_set_scope(fd, PROCEVENT_SCOPE_ALL, 0));
	EXPECT_STREQ("all", pe_fdinfo_str(fd, "scope"));
	close(ffd);
}

TEST_F(scope, set_scope_bad_pointer_efault)
{
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(MAP_FAILED, bad);
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_SET_SCOPE, NULL));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_SET_SCOPE, bad));
	EXPECT_STREQ("all", pe_fdinfo_str(fd, "scope"));
	munmap(bad, 4096);
}

/* ---- cgroup scope ----------------------------------------------------- */

static int exit_on_word(void *arg)
{
	pe_gate_wait();
	return 0;
}

/* Let k exit and receive its EXIT event on fd. */
static int exit_event(int fd, struct pe_child *k, struct procevent_event *ev)
{
	int r = pe_go(k, 'x');

	return r ? r : pe_wait_event_for(fd, PROCEVENT_EXIT, k->pid, ev);
}

/*
 * A (no scope) is first in the list, B (scope: the "in" cgroup) second.
 * Of three exiting tasks, A sees all three in the order they exited; B
 * sees the one in the cgroup and the one below it, not the one beside.
 */
TEST_F(scope, cgroup_scope_sees_only_its_subtree)
{
	struct procevent_event ev, ev2;
	struct pe_child k_out, k_in, k_sub;
	uint64_t last = 0, id_in = 0;
	int a, b, dfd;

	CG_MAKE_OR_SKIP();
	ASSERT_EQ(0, cg_id(self->in, &id_in));
	ASSERT_EQ(0, pe_spawn(&k_out, exit_on_word, NULL));
	ASSERT_EQ(0, pe_spawn(&k_in, exit_on_word, NULL));
	ASSERT_EQ(0, pe_spawn(&k_sub, exit_on_word, NULL));
	ASSERT_EQ(0, cg_move(self->out, k_out.pid));
	ASSERT_EQ(0, cg_move(self->in, k_in.pid));
	ASSERT_EQ(0, cg_move(self->sub, k_sub.pid));
	a = pe_open();
	b = pe_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	dfd = open_dir(self->in);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pe_set_scope(b, PROCEVENT_SCOPE_CGROUP, dfd));
	close(dfd);
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_EXIT));

	/* Beside the scope: A only. */
	ASSERT_EQ(0, exit_event(a, &k_out, &ev));
	last = ev.id;
	ASSERT_EQ(0, pe_ack(a, ev.id));
	EXPECT_EQ(0, pe_reap(k_out.pid, PE_WAIT_MS, NULL))
		TH_LOG("held for the scoped subscriber");
	EXPECT_EQ(0, pe_quiet(b, 0, &ev2));

	/* In the scope cgroup itself: A, then B. */
	ASSERT_EQ(0, exit_event(a, &k_in, &ev));
	EXPECT_LT(last, ev.id);
	last = ev.id;
	EXPECT_EQ(id_in, ev.cgroup_id);
	EXPECT_EQ(0, pe_quiet(b, PE_QUIET_MS, &ev2)) TH_LOG("B before A");
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event_for(b, PROCEVENT_EXIT, k_in.pid, &ev2));
	EXPECT_EQ(ev.id, ev2.id);
	ASSERT_EQ(0, pe_ack(b, ev2.id));
	EXPECT_EQ(0, pe_reap(k_in.pid, PE_WAIT_MS, NULL));

	/* Below it: A, then B. */
	ASSERT_EQ(0, exit_event(a, &k_sub, &ev));
	EXPECT_LT(last, ev.id);
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event_for(b, PROCEVENT_EXIT, k_sub.pid, &ev2));
	EXPECT_EQ(ev.id, ev2.id);
	ASSERT_EQ(0, pe_ack(b, ev2.id));
	EXPECT_EQ(0, pe_reap(k_sub.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(2, pe_fdv(b, "acked"));
	EXPECT_EQ(3, pe_fdv(a, "acked"));
}

/* Forks a grandchild on 'f' that reports 'G' when it runs. */
static int forking_child(void *arg)
{
	pid_t pid;

	while (pe_gate_wait() == 'f') {
		pid = fork();
		if (pid == 0) {
			pe_report_byte('G');
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			return 100;
		pe_report_byte('W');
	}
	return 0;
}

/*
 * A grandchild is born in "from" and held at FORK by A; during the hold it
 * is moved to "to".  B (scope: the "in" cgroup) is judged by where the
 * task is when A acks.
 */
static void moved_during_hold(struct __test_metadata *_metadata,
			      FIXTURE_DATA(scope) *self, int into_scope)
{
	const char *from = into_scope ? self->out : self->in;
	const char *to = into_scope ? self->in : self->out;
	struct procevent_event ev, ev2;
	uint64_t from_id = 0;
	struct pe_child p;
	int a, b, dfd;

	ASSERT_EQ(0, cg_id(from, &from_id));
	ASSERT_EQ(0, pe_spawn(&p, forking_child, NULL));
	ASSERT_EQ(0, cg_move(from, p.pid));
	a = pe_open();
	b = pe_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_FORK));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_FORK));
	dfd = open_dir(self->in);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pe_set_scope(b, PROCEVENT_SCOPE_CGROUP, dfd));
	close(dfd);

	ASSERT_EQ(0, pe_go(&p, 'f'));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	ASSERT_EQ(PROCEVENT_FORK, ev.type);
	EXPECT_EQ(p.pid, ev.ppid);
	EXPECT_EQ(from_id, ev.cgroup_id);
	ASSERT_EQ(0, cg_move(to, ev.pid));
	ASSERT_EQ(0, pe_ack(a, ev.id));
	if (into_scope) {
		ASSERT_EQ(0, pe_wait_event_for(b, PROCEVENT_FORK, ev.pid, &ev2))
			TH_LOG("moved into the scope, not delivered");
		EXPECT_EQ(ev.id, ev2.id);
		EXPECT_EQ(0, pe_poll_in(p.report, PE_QUIET_MS));
		ASSERT_EQ(0, pe_ack(b, ev2.id));
	} else {
		EXPECT_EQ(0, pe_quiet(b, 0, &ev2))
			TH_LOG("moved out of the scope, still delivered");
	}
	EXPECT_EQ('G', pe_expect_byte(&p, PE_WAIT_MS));
	EXPECT_EQ('W', pe_expect_byte(&p, PE_WAIT_MS));
	EXPECT_EQ(0, pe_quiet(b, 0, &ev2));
	ASSERT_EQ(0, pe_go(&p, 'x'));
	EXPECT_EQ(0, pe_reap(p.pid, PE_WAIT_MS, NULL));
}

TEST_F(scope, cgroup_scope_task_moved_out_during_hold_passed_by)
{
	CG_MAKE_OR_SKIP();
	moved_during_hold(_metadata, self, 0);
}

TEST_F(scope, cgroup_scope_task_moved_in_during_hold_delivered)
{
	CG_MAKE_OR_SKIP();
	moved_during_hold(_metadata, self, 1);
}

/*
 * SET_SCOPE on a handle with a queued event: the handle keeps its place,
 * the event stays queued and moves on after the ack; later events outside
 * the new scope pass it by.
 */
TEST_F(scope, set_scope_keeps_position_and_queued_events)
{
	struct procevent_event ev, ev2;
	struct pe_child k1, k2;
	int a, b, dfd;

	CG_MAKE_OR_SKIP();
	ASSERT_EQ(0, pe_spawn(&k1, exit_on_word, NULL));
	ASSERT_EQ(0, pe_spawn(&k2, exit_on_word, NULL));
	a = pe_open();
	b = pe_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_go(&k1, 'x'));
	ASSERT_EQ(1, pe_poll_in(a, PE_WAIT_MS));
	EXPECT_EQ(1, pe_fdv(a, "queued"));

	/* k1 is not in the (empty) scope cgroup. */
	dfd = open_dir(self->in);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, pe_set_scope(a, PROCEVENT_SCOPE_CGROUP, dfd));
	close(dfd);
	EXPECT_EQ(1, pe_fdv(a, "position"));
	EXPECT_EQ(2, pe_fdv(b, "position"));
	EXPECT_EQ(1, pe_fdv(a, "queued"));
	ASSERT_EQ(0, pe_wait_event_for(a, PROCEVENT_EXIT, k1.pid, &ev))
		TH_LOG("the queued event left the handle");
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event_for(b, PROCEVENT_EXIT, k1.pid, &ev2));
	ASSERT_EQ(0, pe_ack(b, ev2.id));
	EXPECT_EQ(0, pe_reap(k1.pid, PE_WAIT_MS, NULL));

	/* A new event outside the scope passes A by. */
	ASSERT_EQ(0, pe_go(&k2, 'x'));
	ASSERT_EQ(0, pe_wait_event_for(b, PROCEVENT_EXIT, k2.pid, &ev2));
	EXPECT_EQ(0, pe_quiet(a, 0, &ev));
	ASSERT_EQ(0, pe_ack(b, ev2.id));
	EXPECT_EQ(0, pe_reap(k2.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(1, pe_fdv(a, "position"));
}

/* ---- pid namespaces --------------------------------------------------- */

struct ns_report {
	int32_t r;		/* 0, or the -errno of the wait */
	int32_t fork_pid;	/* 'f': what fork() returned in the namespace */
	int32_t pid, tgid, ppid;
	uint32_t type;
	uint64_t id;
};

/*
 * The subscriber, pid 1 of a new pid namespace: subscribes to EXIT
 * (with SCOPE_PIDNS when scoped), reports 'R', then on the gate's word
 * 'f' forks a child that exits at once and reports its EXIT event, 'r'
 * reports the next event, 'q' reports whether one comes within
 * PE_QUIET_MS.  Every received event is acked after the report.
 */
static int ns_subscriber(int scoped)
{
	struct procevent_event ev;
	struct ns_report rep;
	int fd, c;
	pid_t pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(PE_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 100;
	if (scoped && pe_set_scope(fd, PROCEVENT_SCOPE_PIDNS, -1))
		return 101;
	if (pe_set_mask(fd, PROCEVENT_EXIT))
		return 102;
	pe_report_byte('R');
	for (;;) {
		c = pe_gate_wait();
		memset(&rep, 0, sizeof(rep));
		pid = 0;
		if (c == 'f') {
			pid = fork();
			if (pid == 0)
				_exit(5);
			rep.fork_pid = pid;
		} else if (c != 'r' && c != 'q') {
			return 0;
		}
		if (c == 'q' && !pe_quiet(fd, PE_QUIET_MS, &ev)) {
			rep.r = -ETIMEDOUT;
		} else if (c != 'q') {
			rep.r = pe_wait_event(fd, &ev, PE_WAIT_MS);
		}
		if (!rep.r) {
			rep.pid = ev.pid;
			rep.tgid = ev.tgid;
			rep.ppid = ev.ppid;
			rep.type = ev.type;
			rep.id = ev.id;
		}
		pe_report(&rep, sizeof(rep));
		if (!rep.r)
			pe_ack(fd, ev.id);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

/* Runs in the test's child: unshare, fork the subscriber, wait for it. */
static int ns_parent(void *arg)
{
	char msg[1 + sizeof(pid_t)];
	pid_t pid;
	int st = 0, err;

	if (unshare(CLONE_NEWPID)) {
		err = errno;
		pe_report_byte('U');
		pe_report(&err, sizeof(err));
		return 0;
	}
	pid = fork();
	if (pid == 0)
		_exit(ns_subscriber((int)(long)arg));
	if (pid < 0)
		return 100;
	/* One write: atomic, so the subscriber's 'R' cannot split it. */
	msg[0] = 'S';
	memcpy(msg + 1, &pid, sizeof(pid));
	pe_report(msg, sizeof(msg));
	if (waitpid(pid, &st, 0) != pid)
		return 101;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Start the namespace subscriber; *spid is its pid here.  Its 'R' and
 * its parent's 'S' + pid race: they come in either order.
 */
#define NS_START(n, scoped, spid) do {					\
	int _c, _err = 0, _r_later = 1;					\
									\
	ASSERT_EQ(0, pe_spawn(n, ns_parent, (void *)(long)(scoped)));	\
	_c = pe_expect_byte(n, PE_WAIT_MS);				\
	if (_c == 'U') {						\
		pe_expect(n, &_err, sizeof(_err), PE_WAIT_MS);		\
		SKIP(return, "unshare(CLONE_NEWPID): %s", strerror(_err)); \
	}								\
	if (_c == 'R') {						\
		_r_later = 0;						\
		_c = pe_expect_byte(n, PE_WAIT_MS);			\
	}								\
	ASSERT_EQ('S', _c);						\
	ASSERT_EQ(0, pe_expect(n, spid, sizeof(*(spid)), PE_WAIT_MS));	\
	if (_r_later) {							\
		ASSERT_EQ('R', pe_expect_byte(n, PE_WAIT_MS))		\
			TH_LOG("the subscriber in the namespace did not start"); \
	}								\
} while (0)

static int ns_ask(struct pe_child *n, char c, struct ns_report *rep)
{
	int r = pe_go(n, c);

	memset(rep, 0xA5, sizeof(*rep));
	return r ? r : pe_expect(n, rep, sizeof(*rep), PE_WAIT_MS + 1000);
}

static void ns_stop(struct __test_metadata *_metadata, struct pe_child *n)
{
	int st = 0;

	ASSERT_EQ(0, pe_go(n, 'x'));
	ASSERT_EQ(0, pe_reap(n->pid, PE_WAIT_MS, &st));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

/*
 * One event, two readers: the subscriber in the namespace reads the pids
 * as the namespace numbers them (its child, whose parent is pid 1); a
 * subscriber here reads the same event with this namespace's numbers.
 */
TEST_F(scope, pidns_subscriber_reads_its_namespace_pids)
{
	struct procevent_event ev;
	struct ns_report rep;
	struct pe_child n;
	pid_t spid = 0;
	int fd;

	NS_START(&n, 0, &spid);
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, ns_ask(&n, 'f', &rep));
	ASSERT_EQ(0, rep.r);
	EXPECT_EQ(PROCEVENT_EXIT, rep.type);
	EXPECT_LT(1, rep.fork_pid);
	EXPECT_EQ(rep.fork_pid, rep.pid);
	EXPECT_EQ(rep.fork_pid, rep.tgid);
	EXPECT_EQ(1, rep.ppid);

	ASSERT_EQ(0, pe_wait_event(fd, &ev, PE_WAIT_MS));
	EXPECT_EQ(rep.id, ev.id);
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(spid, ev.ppid);
	EXPECT_NE(rep.pid, ev.pid);
	EXPECT_LT(0, ev.pid);
	EXPECT_EQ(ev.pid, ev.tgid);
	ASSERT_EQ(0, pe_ack(fd, ev.id));
	pe_close(fd);
	ns_stop(_metadata, &n);
}

TEST_F(scope, pidns_subscriber_reads_zero_for_outside_tasks)
{
	struct ns_report rep;
	struct pe_child n, k;
	pid_t spid = 0;

	NS_START(&n, 0, &spid);
	ASSERT_EQ(0, pe_spawn(&k, exit_on_word, NULL));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, ns_ask(&n, 'r', &rep));
	ASSERT_EQ(0, rep.r) TH_LOG("the namespace subscriber got no event");
	EXPECT_EQ(PROCEVENT_EXIT, rep.type);
	EXPECT_EQ(0, rep.pid);
	EXPECT_EQ(0, rep.tgid);
	EXPECT_EQ(0, rep.ppid);
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	ns_stop(_metadata, &n);
}

TEST_F(scope, pidns_scope_sees_only_its_namespace)
{
	struct ns_report rep;
	struct pe_child n, k;
	pid_t spid = 0;

	NS_START(&n, 1, &spid);
	/* Outside the namespace: not held, not seen. */
	ASSERT_EQ(0, pe_spawn(&k, exit_on_word, NULL));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL))
		TH_LOG("held for a subscriber whose scope it is not in");
	ASSERT_EQ(0, ns_ask(&n, 'q', &rep));
	EXPECT_EQ(-ETIMEDOUT, rep.r)
		TH_LOG("event type %u pid %d reached the scoped subscriber",
		       rep.type, rep.pid);
	/* Inside: seen. */
	ASSERT_EQ(0, ns_ask(&n, 'f', &rep));
	ASSERT_EQ(0, rep.r);
	EXPECT_EQ(rep.fork_pid, rep.pid);
	EXPECT_EQ(1, rep.ppid);
	ns_stop(_metadata, &n);
}

TEST_HARNESS_MAIN
