// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: module life cycle (SPEC section 6): unloading is refused
 * while a handle is open and succeeds right after heavy traffic once none
 * is; the module reloads, also with parameters.
 *
 * $PROCEVENT_KO names the module file.  Every test leaves the module
 * loaded with its default parameters, and none unloads it unless it can
 * load it again.  The VM runner runs this program last.
 */
#include "procevent_util.h"
#include "kselftest_harness.h"

#define PE_MODNAME "procevent"

static int pe_delete_module(void)
{
	return syscall(SYS_delete_module, PE_MODNAME, O_NONBLOCK) ? -errno : 0;
}

static int pe_load_module(const char *params)
{
	const char *ko = getenv("PROCEVENT_KO");
	int fd, r;

	if (!ko || !*ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return r;
}

/* Wait until the device node exists (want 1) or is gone (want 0). */
static int wait_dev(int want, int ms)
{
	uint64_t end = pe_mono() + (uint64_t)ms * PE_MS;

	while (pe_loaded() != want) {
		if (pe_mono() >= end)
			return -ETIMEDOUT;
		pe_sleep_ms(5);
	}
	return 0;
}

/* Unload (retrying for a while: only to restore a known state). */
static int unload_retrying(void)
{
	uint64_t end = pe_mono() + 5000 * PE_MS;
	int r;

	while ((r = pe_delete_module()) == -EAGAIN || r == -EBUSY) {
		if (pe_mono() >= end)
			break;
		pe_sleep_ms(20);
	}
	return r;
}

/* Load with defaults if it is not loaded. */
static void ensure_loaded(void)
{
	long long v = 0;

	if (access("/sys/module/" PE_MODNAME, F_OK) == 0 &&
	    (pe_param_read("max_subscribers", &v) || v == 8))
		return;
	if (access("/sys/module/" PE_MODNAME, F_OK) == 0)
		unload_retrying();
	pe_load_module("");
	wait_dev(1, PE_WAIT_MS);
}

FIXTURE(unload) {
	int unused;
};

FIXTURE_SETUP(unload)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(unload)
{
	pe_cleanup();
	ensure_loaded();
}

#define REQUIRE_KO() do {						\
	const char *ko = getenv("PROCEVENT_KO");			\
	if (!ko || access(ko, R_OK))					\
		SKIP(return, "PROCEVENT_KO does not name a readable module"); \
} while (0)

TEST_F(unload, unload_refused_while_handle_open)
{
	int fd, r;

	fd = pe_open();
	ASSERT_LE(0, fd);
	r = pe_delete_module();
	EXPECT_TRUE(r == -EAGAIN || r == -EBUSY)
		TH_LOG("delete_module with an open handle: %d", r);
	EXPECT_EQ(1, pe_loaded());
	/* Subscribed too. */
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	r = pe_delete_module();
	EXPECT_TRUE(r == -EAGAIN || r == -EBUSY)
		TH_LOG("delete_module with a subscribed handle: %d", r);
	EXPECT_EQ(1, pe_loaded());
	/* The handle still works. */
	EXPECT_EQ(0, pe_set_mask(fd, 0));
}

static void storm_handler(int sig)
{
}

/* Takes a handled signal, then exits. */
static void storm_child(int i)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = storm_handler;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	_exit(i & 0x7f);
}

#define STORM 200

/*
 * STORM children each raise a SIGNAL and an EXIT event; one subscriber
 * drains them with read() and acks with write().  Returns the number of
 * events acked, or -errno.
 */
static int exit_storm(int fd)
{
	struct procevent_event ev[16];
	struct procevent_ack acks[16];
	uint64_t end;
	int i, n, done = 0, forked = 0;

	for (i = 0; i < STORM; i++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0) {
			close(fd);
			storm_child(i);
		}
		pe_track_pid(pid);
		forked++;
	}
	end = pe_mono() + 60000 * PE_MS;
	while (done < 2 * forked && pe_mono() < end) {
		ssize_t len;

		if (pe_poll_in(fd, 1000) <= 0)
			continue;
		len = read(fd, ev, sizeof(ev));
		if (len < 0) {
			if (errno == EAGAIN)
				continue;
			return -errno;
		}
		n = len / PE_REC;
		for (i = 0; i < n; i++)
			acks[i] = (struct procevent_ack){ .id = ev[i].id };
		if (write(fd, acks, n * sizeof(acks[0])) !=
		    (ssize_t)(n * sizeof(acks[0])))
			return -errno;
		done += n;
	}
	return done;
}

TEST_F_TIMEOUT(unload, unload_right_after_heavy_traffic_then_reload, 180)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, r, i, n, status = 0;

	REQUIRE_KO();
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	n = exit_storm(fd);
	ASSERT_EQ(2 * STORM, n);
	while (pe_npids) {
		pid_t pid = pe_pids[0];

		ASSERT_EQ(0, pe_reap(pid, PE_WAIT_MS, NULL))
			TH_LOG("child %d still held after the storm", pid);
	}
	/* Leave one task held at close: closing must release it. */
	ASSERT_EQ(0, pe_exit_event(fd, &k, 9, &ev));
	pe_close(fd);
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &status));
	EXPECT_EQ(9, WEXITSTATUS(status));
	pe_child_close(&k);

	r = pe_delete_module();
	if (r)
		r = unload_retrying() ? r : 1;
	ASSERT_EQ(0, r) TH_LOG("delete_module right after traffic: %d%s", r,
			       r == 1 ? " (succeeded on a retry)" : "");
	EXPECT_EQ(0, wait_dev(0, PE_WAIT_MS));

	/* Unloaded: nothing is held and no probe is left behind. */
	for (i = 0; i < 20; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0)
			storm_child(i);
		ASSERT_EQ(0, pe_reap(pid, PE_WAIT_MS, &status));
		EXPECT_EQ(i, WEXITSTATUS(status));
	}

	ASSERT_EQ(0, pe_load_module(""));
	ASSERT_EQ(0, wait_dev(1, PE_WAIT_MS));
	/* The reloaded module works. */
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 3, &ev));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(unload, reload_with_max_subscribers_2)
{
	long long v = 0;
	int fd[3], i;

	REQUIRE_KO();
	ASSERT_EQ(0, unload_retrying());
	ASSERT_EQ(0, wait_dev(0, PE_WAIT_MS));
	ASSERT_EQ(0, pe_load_module("max_subscribers=2"));
	ASSERT_EQ(0, wait_dev(1, PE_WAIT_MS));
	if (pe_param_read("max_subscribers", &v) == 0) {
		EXPECT_EQ(2, v);
	}
	for (i = 0; i < 3; i++) {
		fd[i] = pe_open();
		ASSERT_LE(0, fd[i]);
	}
	EXPECT_EQ(0, pe_set_mask(fd[0], PROCEVENT_SIGNAL));
	EXPECT_EQ(0, pe_set_mask(fd[1], PROCEVENT_SIGNAL));
	EXPECT_EQ(-ENOSPC, pe_set_mask(fd[2], PROCEVENT_SIGNAL));
	for (i = 0; i < 3; i++)
		pe_close(fd[i]);

	/* And back to the defaults. */
	ASSERT_EQ(0, pe_delete_module());
	ASSERT_EQ(0, wait_dev(0, PE_WAIT_MS));
	ASSERT_EQ(0, pe_load_module(""));
	ASSERT_EQ(0, wait_dev(1, PE_WAIT_MS));
	if (pe_param_read("max_subscribers", &v) == 0) {
		EXPECT_EQ(8, v);
	}
	for (i = 0; i < 3; i++) {
		fd[i] = pe_open();
		ASSERT_LE(0, fd[i]);
		EXPECT_EQ(0, pe_set_mask(fd[i], PROCEVENT_SIGNAL));
	}
}

TEST_HARNESS_MAIN
