// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: module life cycle (SPEC section 6): unloading is refused
 * while a handle is open and succeeds right after heavy traffic once none
 * is, also while an exiting task that raised an event is stuck before its
 * hold; the module reloads, also with parameters; a failed load leaves no
 * memory behind (SPEC 9.6).
 *
 * $PROCEVENT_KO names the module file.  Every test leaves the module
 * loaded with its default parameters, and none unloads it unless it can
 * load it again.  The VM runner runs this program last.
 */
#include "procevent_util.h"
#include "procevent_fuse.h"
#include "kselftest_harness.h"

#define PE_MODNAME "procevent"

/* Ack deadline of the handles that hold a task: a failure cannot hang. */
#define ACK_TIMEOUT_NS	(10ULL * 1000000000ULL)

/* A FUSE file whose FLUSH is held: an exit that closes it waits. */
static struct pe_fuse fs;

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
	/* Stuck exits first: the children cannot be reaped before. */
	pe_fuse_stop(&fs);
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

/*
 * A load fills the pool to pool_size free events (the pool: line of
 * /proc/procevent), given or by default, and no further: with no handle
 * open no probe takes one.
 */
TEST_F(unload, load_fills_the_pool_to_pool_size)
{
	static const struct {
		const char *params;
		long long size;
	} loads[] = {
		{ "pool_size=100", 100 },
		{ "", 256 },		/* the default, for the tests after */
	};
	struct pe_stats st;
	unsigned int i;

	REQUIRE_KO();
	for (i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
		ASSERT_EQ(0, unload_retrying());
		ASSERT_EQ(0, wait_dev(0, PE_WAIT_MS));
		ASSERT_EQ(0, pe_load_module(loads[i].params));
		ASSERT_EQ(0, wait_dev(1, PE_WAIT_MS));
		ASSERT_EQ(0, pe_stats_read(&st));
		EXPECT_EQ(loads[i].size, st.pool_size)
			TH_LOG("load with \"%s\"", loads[i].params);
		EXPECT_EQ(loads[i].size, st.pool_free)
			TH_LOG("load with \"%s\"", loads[i].params);
		EXPECT_EQ(0, st.pool_misses);
	}
}

/* Open the FUSE file, then exit when told: the exit waits on its FLUSH. */
static int open_file_then_exit(void *arg)
{
	int f = open(fs.path, O_RDONLY);

	pe_report_byte(f >= 0 ? 'O' : 'E');
	pe_gate_wait();
	return (int)(long)arg;
}

/* Answers the held FLUSH when told, and after a deadline whatever happens. */
struct releaser {
	pthread_t th;
	int now;		/* atomic */
	uint64_t at;
};

static void *releaser_fn(void *arg)
{
	struct releaser *rl = arg;

	while (!__atomic_load_n(&rl->now, __ATOMIC_ACQUIRE) &&
	       pe_mono() < rl->at)
		pe_sleep_ms(10);
	pe_fuse_release(&fs);
	return NULL;
}

/*
 * An exiting child raised its EXIT (the probe ran) and waits in
 * exit_files() on a held FLUSH, before its hold.  With no handle open the
 * module unloads at once, not when the child gets going again; the child
 * then finishes its exit normally.  The FLUSH is answered after 6 s
 * whatever happens, so a module that waits for the child ends too.
 */
TEST_F_TIMEOUT(unload, unload_succeeds_while_a_task_is_stuck_before_its_hold,
	       60)
{
	struct releaser rl = { 0 };
	struct procevent_event ev;
	struct pe_stats s0, s1;
	struct pe_child k;
	uint64_t t0, t1, end;
	long long probes = 0;
	int fd, r, held, alive, status = 0;

	REQUIRE_KO();
	PE_FUSE_START_OR_SKIP(&fs);
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_timeout(fd, ACK_TIMEOUT_NS));
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn(&k, open_file_then_exit, (void *)6L));
	ASSERT_EQ('O', pe_expect_byte(&k, PE_WAIT_MS));
	ASSERT_EQ(0, pe_stats_read(&s0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	end = pe_mono() + 6000 * PE_MS;
	for (;;) {
		ASSERT_EQ(0, pe_stats_read(&s1));
		probes = s1.exit.raised - s0.exit.raised +
			 s1.exit.lost - s0.exit.lost;
		if ((probes && pe_fuse_held(&fs)) || pe_mono() >= end)
			break;
		pe_sleep_ms(5);
	}
	ASSERT_EQ(1, probes) TH_LOG("exit probes run: %lld", probes);
	ASSERT_EQ(1, pe_fuse_held(&fs)) TH_LOG("the child's FLUSH not held");
	/* No handle open now. */
	pe_close(fd);

	rl.at = pe_mono() + 6000 * PE_MS;
	ASSERT_EQ(0, pthread_create(&rl.th, NULL, releaser_fn, &rl));
	t0 = pe_mono();
	r = pe_delete_module();
	t1 = pe_mono();
	alive = pe_alive(k.pid);
	held = pe_fuse_held(&fs);
	__atomic_store_n(&rl.now, 1, __ATOMIC_RELEASE);
	pthread_join(rl.th, NULL);

	EXPECT_EQ(0, r) TH_LOG("delete_module with no handle open: %s",
			       strerror(-r));
	EXPECT_GT(2000 * PE_MS, t1 - t0)
		TH_LOG("delete_module took %llu ms",
		       (unsigned long long)((t1 - t0) / PE_MS));
	EXPECT_EQ(1, held)
		TH_LOG("delete_module returned only after the FLUSH was answered");
	EXPECT_EQ(1, alive) TH_LOG("the child finished exiting before");

	/* The child finishes its exit, held by nobody. */
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &status))
		TH_LOG("the child did not finish exiting after its FLUSH");
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(6, WEXITSTATUS(status));
	pe_child_close(&k);

	if (r == 0) {
		EXPECT_EQ(0, wait_dev(0, PE_WAIT_MS));
		ASSERT_EQ(0, pe_load_module(""));
		ASSERT_EQ(0, wait_dev(1, PE_WAIT_MS));
	}
	/* The module (reloaded or not) works. */
	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_timeout(fd, ACK_TIMEOUT_NS));
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 3, &ev));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

/* A /proc/meminfo value in kB, or -1. */
static long long meminfo_kb(const char *key)
{
	size_t len = strlen(key);
	long long v = -1;
	char line[256];
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == ':') {
			v = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Unreclaimable slab, once deferred (RCU) frees have had time to run. */
static long long slab_kb(void)
{
	long long v;

	pe_sleep_ms(1000);
	v = meminfo_kb("SUnreclaim");
	return v >= 0 ? v : meminfo_kb("Slab");
}

/*
 * pool_size=65536 fills a pool of 65536 events (some 200 bytes each) while
 * the parameters are parsed; a load that then fails, in the module's init
 * (max_subscribers=0) or in the parsing of a later parameter
 * (max_subscribers=abc), must free it: six failed loads may not leave
 * 4 MB of slab behind (a leaked pool is over 12 MB).
 */
TEST_F_TIMEOUT(unload, failed_loads_leave_no_memory_behind, 90)
{
	static const char * const bad[] = {
		"pool_size=65536 max_subscribers=0",
		"pool_size=65536 max_subscribers=abc",
	};
	long long before, after;
	int i, j, r;

	REQUIRE_KO();
	ASSERT_EQ(0, unload_retrying());
	ASSERT_EQ(0, wait_dev(0, PE_WAIT_MS));
	before = slab_kb();
	ASSERT_LE(0, before);
	for (j = 0; j < 2; j++) {
		for (i = 0; i < 3; i++) {
			r = pe_load_module(bad[j]);
			EXPECT_EQ(-EINVAL, r)
				TH_LOG("load with \"%s\": %s", bad[j],
				       strerror(-r));
			if (!r) {
				unload_retrying();
				wait_dev(0, PE_WAIT_MS);
			}
		}
	}
	after = slab_kb();
	EXPECT_GT(4096, after - before)
		TH_LOG("unreclaimable slab grew by %lld kB over 6 failed loads",
		       after - before);
	ASSERT_EQ(0, pe_load_module(""));
	ASSERT_EQ(0, wait_dev(1, PE_WAIT_MS));
}

TEST_HARNESS_MAIN
