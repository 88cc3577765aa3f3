// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: the file operations of /dev/procevent and their errors
 * (SPEC section 2).
 */
#include "procevent_util.h"
#include <sys/epoll.h>
#include "kselftest_harness.h"

FIXTURE(api) {
	int unused;
};

FIXTURE_SETUP(api)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(api)
{
	pe_cleanup();
}

TEST_F(api, device_node_is_0600_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(PE_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

static int open_without_sys_admin(void *arg)
{
	int fd;

	if (pe_drop_effective_cap(CAP_SYS_ADMIN))
		return 100;
	fd = open(PE_DEV, O_RDWR);
	if (fd >= 0)
		return 101;
	return errno;
}

TEST_F(api, open_without_cap_sys_admin_eperm)
{
	struct pe_child k;
	int status = 0;

	ASSERT_EQ(0, pe_spawn(&k, open_without_sys_admin, NULL));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &status));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_NE(100, WEXITSTATUS(status)) TH_LOG("capset failed");
	ASSERT_NE(101, WEXITSTATUS(status)) TH_LOG("open succeeded");
	EXPECT_EQ(EPERM, WEXITSTATUS(status));
}

TEST_F(api, open_gives_unsubscribed_handle)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOMSG, pe_recv(fd, &ev));
	/* Nobody subscribed: a child's exit is not held. */
	ASSERT_EQ(0, pe_spawn_exit(&k, 3));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &status));
	EXPECT_EQ(0, pe_poll_in(fd, 0));
}

TEST_F(api, set_mask_unknown_bits_einval)
{
	/*
	 * 0x4 and 0x8 are left out: SPEC section 8 gives them to the FORK
	 * and EXEC events.
	 */
	static const uint32_t bad[] = {
		0x10, 0x100, 0x80000000u, 0xfffffff0u, 0xffffffffu,
		PE_ALL | 0x80000000u, PE_ALL | 0x10,
	};
	unsigned int i;
	int fd;

	fd = pe_open();
	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, pe_set_mask(fd, bad[i]))
			TH_LOG("mask 0x%x", bad[i]);
	}
	/* A refused mask leaves the handle unsubscribed. */
	EXPECT_EQ(0, pe_fdv(fd, "position"));
	EXPECT_EQ(-ENOMSG, pe_recv(fd, &(struct procevent_event){}));
	EXPECT_EQ(0, pe_set_mask(fd, PE_ALL));
	EXPECT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	EXPECT_EQ(0, pe_set_mask(fd, PROCEVENT_SIGNAL));
	EXPECT_EQ(0, pe_set_mask(fd, 0));
}

TEST_F(api, set_mask_bad_pointer_efault)
{
	int fd = pe_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_SET_MASK, NULL));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_SET_MASK,
				    pe_unmapped()));
	EXPECT_EQ(0, pe_fdv(fd, "position"));
}

TEST_F(api, set_mask_enospc_beyond_max_subscribers)
{
	int max = pe_max_subscribers();
	int fds[65], i;

	ASSERT_GE(64, max);
	for (i = 0; i <= max; i++) {
		fds[i] = pe_open();
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < max; i++) {
		ASSERT_EQ(0, pe_set_mask(fds[i], PROCEVENT_SIGNAL))
			TH_LOG("subscriber %d of %d", i + 1, max);
	}
	EXPECT_EQ(-ENOSPC, pe_set_mask(fds[max], PROCEVENT_EXIT));
	EXPECT_EQ(0, pe_fdv(fds[max], "position"));
	/* Changing the mask of a handle already in the list still works. */
	EXPECT_EQ(0, pe_set_mask(fds[0], PE_ALL));
}

TEST_F(api, closed_subscriber_frees_its_slot)
{
	int max = pe_max_subscribers();
	int fds[65], i;

	ASSERT_GE(64, max);
	for (i = 0; i <= max; i++) {
		fds[i] = pe_open();
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < max; i++) {
		ASSERT_EQ(0, pe_set_mask(fds[i], PROCEVENT_SIGNAL));
	}
	ASSERT_EQ(-ENOSPC, pe_set_mask(fds[max], PROCEVENT_SIGNAL));
	pe_close(fds[0]);
	EXPECT_EQ(0, pe_set_mask(fds[max], PROCEVENT_SIGNAL));
	EXPECT_EQ(max, pe_fdv(fds[max], "position"));
}

TEST_F(api, unsubscribed_handle_frees_its_slot)
{
	int max = pe_max_subscribers();
	int fds[65], i;

	ASSERT_GE(64, max);
	for (i = 0; i <= max; i++) {
		fds[i] = pe_open();
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < max; i++) {
		ASSERT_EQ(0, pe_set_mask(fds[i], PROCEVENT_SIGNAL));
	}
	ASSERT_EQ(-ENOSPC, pe_set_mask(fds[max], PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_set_mask(fds[1], 0));
	EXPECT_EQ(0, pe_set_mask(fds[max], PROCEVENT_SIGNAL));
}

TEST_F(api, recv_unsubscribed_enomsg)
{
	struct procevent_event ev;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	/* Guard: a RECV that wrongly blocks ends with EINTR. */
	pe_interrupt_with(SIGALRM);
	alarm(2);
	EXPECT_EQ(-ENOMSG, pe_recv(fd, &ev));
	alarm(0);
}

TEST_F(api, recv_after_mask_zero_enomsg)
{
	struct procevent_event ev;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	pe_interrupt_with(SIGALRM);
	alarm(2);
	EXPECT_EQ(-ENOMSG, pe_recv(fd, &ev));
	alarm(0);
}

TEST_F(api, recv_nonblocking_open_nothing_eagain)
{
	struct procevent_event ev;
	int fd = pe_open_flags(O_NONBLOCK);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	pe_interrupt_with(SIGALRM);
	alarm(2);
	EXPECT_EQ(-EAGAIN, pe_recv(fd, &ev));
	alarm(0);
}

TEST_F(api, recv_nonblocking_fcntl_nothing_eagain)
{
	struct procevent_event ev;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
	pe_interrupt_with(SIGALRM);
	alarm(2);
	EXPECT_EQ(-EAGAIN, pe_recv(fd, &ev));
	alarm(0);
}

TEST_F(api, recv_blocking_interrupted_by_signal_eintr)
{
	struct procevent_event ev;
	uint64_t t0;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	pe_interrupt_with(SIGALRM);
	t0 = pe_mono();
	alarm(1);
	EXPECT_EQ(-EINTR, pe_recv(fd, &ev));
	alarm(0);
	/* It did block until the signal. */
	EXPECT_LE(900 * PE_MS, pe_mono() - t0);
}

TEST_F(api, recv_blocking_returns_event)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	pe_interrupt_with(SIGALRM);
	alarm(2);
	pe_fill(&ev, sizeof(ev));
	ASSERT_EQ(0, pe_recv(fd, &ev));
	alarm(0);
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(api, recv_efault_keeps_event_queued)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(1, pe_poll_in(fd, PE_WAIT_MS));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_RECV, pe_unmapped()));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_RECV, NULL));
	EXPECT_EQ(1, pe_fdv(fd, "queued"));
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	EXPECT_EQ(1, pe_poll_in(fd, 0));
	pe_fill(&ev, sizeof(ev));
	ASSERT_EQ(0, pe_recv(fd, &ev));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	/* It was the only event: nothing else arrives. */
	EXPECT_EQ(-EAGAIN, pe_recv(fd, &ev));
}

struct recv_thread {
	int fd;
	int ret;
	uint64_t end;
};

static void *recv_thread_fn(void *arg)
{
	struct recv_thread *t = arg;
	struct procevent_event ev;

	t->ret = pe_recv(t->fd, &ev);
	t->end = pe_mono();
	return NULL;
}

TEST_F(api, recv_blocked_wakes_enomsg_on_unsubscribe)
{
	struct recv_thread t = { .ret = 1 };
	pthread_t th;
	uint64_t t0;

	t.fd = pe_open_blocking();
	ASSERT_LE(0, t.fd);
	ASSERT_EQ(0, pe_set_mask(t.fd, PE_ALL));
	ASSERT_EQ(0, pthread_create(&th, NULL, recv_thread_fn, &t));
	pe_sleep_ms(150);
	t0 = pe_mono();
	ASSERT_EQ(0, pe_set_mask(t.fd, 0));
	EXPECT_EQ(0, pe_join(th, PE_WAIT_MS))
		TH_LOG("RECV stayed blocked after the handle unsubscribed");
	EXPECT_EQ(-ENOMSG, t.ret);
	EXPECT_LE(t0, t.end);
}

struct recv_ev_thread {
	int fd;
	int ret;
	pid_t tid;
	struct procevent_event ev;
};

static void *recv_ev_thread_fn(void *arg)
{
	struct recv_ev_thread *t = arg;

	__atomic_store_n(&t->tid, pe_gettid(), __ATOMIC_RELEASE);
	t->ret = pe_recv(t->fd, &t->ev);
	return NULL;
}

/* Wait until the thread of @t sleeps (state S in its stat); 0 or -1. */
static int recv_ev_thread_asleep(struct recv_ev_thread *t, int ms)
{
	char path[64], buf[512], *p;
	ssize_t n;
	pid_t tid;
	int i, fd;

	for (i = 0; i < ms / 10; i++, pe_sleep_ms(10)) {
		tid = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);
		if (!tid)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return 0;
	}
	return -1;
}

/*
 * Two readers blocked in RECV on one handle; two events arrive in one
 * step (the handle ahead of it closes with both queued): each reader
 * gets one, none stays blocked.
 */
TEST_F(api, recv_two_blocked_readers_each_get_an_event)
{
	struct recv_ev_thread t[2] = { { .ret = 1 }, { .ret = 1 } };
	struct pe_child k[2];
	pthread_t th[2];
	int first = pe_open(), fd = pe_open_blocking(), i;

	ASSERT_LE(0, first);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(first, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pe_spawn_exit(&k[i], 0));
		ASSERT_EQ(0, pe_go(&k[i], 'x'));
	}
	/* Both exits wait, unread, on the first handle. */
	ASSERT_EQ(0, pe_fdinfo_wait(first, "queued", 2, PE_WAIT_MS));
	for (i = 0; i < 2; i++) {
		t[i].fd = fd;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, recv_ev_thread_fn,
					    &t[i]));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, recv_ev_thread_asleep(&t[i], PE_WAIT_MS));
	pe_close(first);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, pe_join(th[i], PE_WAIT_MS))
			TH_LOG("reader %d stayed blocked with an event queued",
			       i);
		EXPECT_EQ(0, t[i].ret);
	}
	/* One event each: two exits, not one received twice. */
	EXPECT_NE(t[0].ev.id, t[1].ev.id);
	EXPECT_NE(t[0].ev.pid, t[1].ev.pid);
	for (i = 0; i < 2; i++) {
		EXPECT_TRUE(t[i].ev.pid == k[0].pid || t[i].ev.pid == k[1].pid);
		EXPECT_EQ(0, pe_ack_reap(fd, t[i].ev.id, t[i].ev.pid, NULL));
	}
}

TEST_F(api, recv_two_blocked_readers_both_enomsg_on_unsubscribe)
{
	struct recv_ev_thread t[2] = { { .ret = 1 }, { .ret = 1 } };
	pthread_t th[2];
	int fd = pe_open_blocking(), i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	for (i = 0; i < 2; i++) {
		t[i].fd = fd;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, recv_ev_thread_fn,
					    &t[i]));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, recv_ev_thread_asleep(&t[i], PE_WAIT_MS));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, pe_join(th[i], PE_WAIT_MS))
			TH_LOG("reader %d stayed blocked after unsubscribe", i);
		EXPECT_EQ(-ENOMSG, t[i].ret);
	}
}

TEST_F(api, read_buffer_smaller_than_record_einval)
{
	char buf[PE_REC];
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, PE_REC - 1));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(api, read_unsubscribed_returns_zero)
{
	char buf[2 * PE_REC];
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	pe_interrupt_with(SIGALRM);
	alarm(2);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(fd, 0));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	alarm(0);
}

TEST_F(api, read_nonblocking_nothing_eagain)
{
	char buf[PE_REC];
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(api, read_returns_whole_records_that_fit)
{
	struct procevent_event ev[3];
	struct procevent_ack acks[2];
	struct pe_child k[2];
	int fd = pe_open();
	int i, status = 0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_two_queued_exits(fd, k));
	pe_fill(ev, sizeof(ev));
	/* Room for two records and a half: two are returned. */
	EXPECT_EQ(2 * PE_REC, read(fd, ev, 2 * PE_REC + PE_REC / 2));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(PE_REC, ev[i].size);
		EXPECT_EQ(PROCEVENT_EXIT, ev[i].type);
		EXPECT_EQ(k[i].pid, ev[i].pid);
		acks[i] = (struct procevent_ack){ .id = ev[i].id };
	}
	EXPECT_LT(ev[0].id, ev[1].id);
	/* The half record after them was not touched. */
	EXPECT_EQ(0xA5A5A5A5u, ev[2].size);
	EXPECT_EQ(2, pe_fdv(fd, "received"));
	EXPECT_EQ((ssize_t)sizeof(acks), write(fd, acks, sizeof(acks)));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pe_reap(k[i].pid, PE_WAIT_MS, &status));
		EXPECT_EQ(10 + i, WEXITSTATUS(status));
	}
}

TEST_F(api, read_fault_after_first_record_returns_count)
{
	struct procevent_event ev;
	struct pe_child k[2];
	uint64_t id0;
	char *page;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	page = pe_page_before_hole();
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, pe_two_queued_exits(fd, k));
	/* Record 1 fits the mapped page, record 2 crosses into the hole. */
	EXPECT_EQ(PE_REC, read(fd, page + 4096 - PE_REC - PE_REC / 2,
			       2 * PE_REC));
	memcpy(&ev, page + 4096 - PE_REC - PE_REC / 2, sizeof(ev));
	EXPECT_EQ(k[0].pid, ev.pid);
	id0 = ev.id;
	EXPECT_EQ(1, pe_fdv(fd, "queued"));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	/* The record not copied is still there, and next. */
	pe_fill(&ev, sizeof(ev));
	ASSERT_EQ(0, pe_recv(fd, &ev));
	EXPECT_EQ(k[1].pid, ev.pid);
	EXPECT_LT(id0, ev.id);
	EXPECT_EQ(0, pe_ack_reap(fd, id0, k[0].pid, NULL));
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k[1].pid, NULL));
	munmap(page, 4096);
}

/*
 * A read takes several records per step: when the copy-out fails part way,
 * every record not copied goes back to the head of the queue, in order.
 */
TEST_F(api, read_fault_requeues_the_rest_in_order)
{
	struct procevent_event ev;
	struct pe_child k[3];
	uint64_t id0, last;
	char *page;
	int fd = pe_open();
	int i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	page = pe_page_before_hole();
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, pe_queued_exits(fd, k, 3));
	/* Room for three; record 2 crosses into the hole, record 3 in it. */
	EXPECT_EQ(PE_REC, read(fd, page + 4096 - PE_REC - PE_REC / 2,
			       3 * PE_REC));
	memcpy(&ev, page + 4096 - PE_REC - PE_REC / 2, sizeof(ev));
	EXPECT_EQ(k[0].pid, ev.pid);
	id0 = ev.id;
	EXPECT_EQ(2, pe_fdv(fd, "queued"));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	last = id0;
	for (i = 1; i < 3; i++) {
		pe_fill(&ev, sizeof(ev));
		ASSERT_EQ(0, pe_recv(fd, &ev));
		EXPECT_EQ(k[i].pid, ev.pid);
		EXPECT_LT(last, ev.id);
		last = ev.id;
		EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k[i].pid, NULL));
	}
	EXPECT_EQ(0, pe_ack_reap(fd, id0, k[0].pid, NULL));
	munmap(page, 4096);
}

/*
 * More records and acks than the module takes per step (8 and 16): one
 * read returns them all in order, one write applies acks up to the first
 * that fails, wherever it is.
 */
#define PE_MANY	20
TEST_F(api, read_and_write_many_in_one_call)
{
	struct procevent_event ev[PE_MANY + 4];
	struct procevent_ack acks[PE_MANY];
	struct pe_child k[PE_MANY];
	int fd = pe_open();
	int i, status;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_queued_exits(fd, k, PE_MANY));
	pe_fill(ev, sizeof(ev));
	EXPECT_EQ(PE_MANY * PE_REC, read(fd, ev, sizeof(ev)));
	for (i = 0; i < PE_MANY; i++) {
		EXPECT_EQ(PE_REC, ev[i].size);
		EXPECT_EQ(PROCEVENT_EXIT, ev[i].type);
		EXPECT_EQ(k[i].pid, ev[i].pid);
		EXPECT_EQ(10 + i, WEXITSTATUS(ev[i].status));
		/* Every field written: SIGNAL's are 0 in an EXIT (SPEC 2). */
		EXPECT_EQ(0, ev[i].signo);
		EXPECT_EQ(0, ev[i].si_code);
		EXPECT_EQ(0, ev[i].sender_pid);
		EXPECT_EQ(0, ev[i].sender_uid);
		EXPECT_EQ(0, ev[i].flags);
		EXPECT_NE(0, ev[i].time_ns);
		if (i)
			EXPECT_LT(ev[i - 1].id, ev[i].id);
		acks[i] = (struct procevent_ack){ .id = ev[i].id };
	}
	EXPECT_EQ(0xA5A5A5A5u, ev[PE_MANY].size);
	EXPECT_EQ(PE_MANY, pe_fdv(fd, "received"));
	/* An unknown id at 17, in the second step: 17 acks applied. */
	acks[17].id = ~0ULL;
	EXPECT_EQ(17 * 16, write(fd, acks, sizeof(acks)));
	EXPECT_EQ(3, pe_fdv(fd, "received"));
	EXPECT_EQ(17, pe_fdv(fd, "acked"));
	for (i = 17; i < PE_MANY; i++)
		EXPECT_EQ(1, pe_alive(k[i].pid));
	acks[17].id = ev[17].id;
	EXPECT_EQ(3 * 16, write(fd, &acks[17], 3 * 16));
	for (i = 0; i < PE_MANY; i++) {
		ASSERT_EQ(0, pe_reap(k[i].pid, PE_WAIT_MS, &status));
		EXPECT_EQ(10 + i, WEXITSTATUS(status));
	}
	EXPECT_EQ(0, pe_fdv(fd, "received"));
}

TEST_F(api, read_fault_on_first_record_efault_keeps_it)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(1, pe_poll_in(fd, PE_WAIT_MS));
	errno = 0;
	EXPECT_EQ(-1, read(fd, pe_unmapped(), PE_REC));
	EXPECT_EQ(EFAULT, errno);
	pe_fill(&ev, sizeof(ev));
	ASSERT_EQ(0, pe_recv(fd, &ev));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(api, ack_unknown_id_enoent)
{
	int fd = pe_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOENT, pe_ack(fd, 0));
	EXPECT_EQ(-ENOENT, pe_ack(fd, 1));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ~0ULL));
	ASSERT_EQ(0, pe_set_mask(fd, PE_ALL));
	EXPECT_EQ(-ENOENT, pe_ack(fd, 0));
	EXPECT_EQ(-ENOENT, pe_ack(fd, 123456789ULL));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ~0ULL));
}

TEST_F(api, ack_twice_enoent)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	EXPECT_EQ(0, pe_ack(fd, ev.id));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(-ENOENT, pe_ack(fd, ev.id));
}

TEST_F(api, ack_before_receive_enoent)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a = pe_open(), b = pe_open();

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(a, &k, 0, &ev));
	ASSERT_EQ(0, pe_ack(a, ev.id));
	/* Now queued on b, which has not received it yet. */
	ASSERT_EQ(1, pe_poll_in(b, PE_WAIT_MS));
	EXPECT_EQ(-ENOENT, pe_ack(b, ev.id));
	ASSERT_EQ(0, pe_recv(b, &ev2));
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(0, pe_ack_reap(b, ev2.id, k.pid, NULL));
}

TEST_F(api, ack_on_other_handle_enoent)
{
	struct procevent_event ev;
	struct pe_child k;
	int a = pe_open(), b = pe_open();

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_set_mask(b, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_exit_event(a, &k, 0, &ev));
	EXPECT_EQ(-ENOENT, pe_ack(b, ev.id));
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(0, pe_ack_reap(a, ev.id, k.pid, NULL));
}

TEST_F(api, ack_nonzero_flags_or_reserved_einval)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	/* Flags are refused on an EXIT event in both stages of the SPEC. */
	EXPECT_EQ(-EINVAL, pe_ack_full(fd, ev.id, 1, 0));
	EXPECT_EQ(-EINVAL, pe_ack_full(fd, ev.id, 2, 0));
	EXPECT_EQ(-EINVAL, pe_ack_full(fd, ev.id, 0x80000000u, 0));
	EXPECT_EQ(-EINVAL, pe_ack_full(fd, ev.id, 0, 1));
	EXPECT_EQ(-EINVAL, pe_ack_full(fd, ev.id, 0, 0xffffffffu));
	/* The refused acks left the event received and the child held. */
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(api, ack_bad_pointer_efault)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_ACK, NULL));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_ACK, pe_unmapped()));
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(api, write_acks_array_in_order)
{
	struct procevent_event ev;
	struct procevent_ack acks[2];
	struct pe_child k[2];
	int fd = pe_open();
	int i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_two_queued_exits(fd, k));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pe_recv(fd, &ev));
		acks[i] = (struct procevent_ack){ .id = ev.id };
	}
	EXPECT_EQ((ssize_t)sizeof(acks), write(fd, acks, sizeof(acks)));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, pe_reap(k[i].pid, PE_WAIT_MS, NULL));
	}
	EXPECT_EQ(0, pe_fdv(fd, "received"));
	EXPECT_EQ(2, pe_fdv(fd, "acked"));
}

TEST_F(api, write_length_not_multiple_of_16_einval)
{
	struct procevent_event ev;
	struct procevent_ack acks[2];
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	memset(acks, 0, sizeof(acks));
	acks[0].id = ev.id;
	errno = 0;
	EXPECT_EQ(-1, write(fd, acks, 15));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, write(fd, acks, 17));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, write(fd, acks, 31));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was acked by the refused writes. */
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(16, write(fd, acks, 16));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
}

TEST_F(api, write_stops_at_first_failing_ack)
{
	struct procevent_event ev;
	struct procevent_ack acks[3];
	struct pe_child k[2];
	uint64_t id[2];
	int fd = pe_open();
	int i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_two_queued_exits(fd, k));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pe_recv(fd, &ev));
		id[i] = ev.id;
	}
	memset(acks, 0, sizeof(acks));
	acks[0].id = id[0];
	acks[1].id = ~0ULL;		/* unknown */
	acks[2].id = id[1];
	EXPECT_EQ(16, write(fd, acks, sizeof(acks)));
	EXPECT_EQ(0, pe_reap(k[0].pid, PE_WAIT_MS, NULL));
	/* The ack after the failing one was not applied. */
	EXPECT_EQ(1, pe_alive(k[1].pid));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	/* When the first ack fails, write returns its error. */
	acks[0].id = id[0];		/* already acked */
	acks[1].id = id[1];
	errno = 0;
	EXPECT_EQ(-1, write(fd, acks, 32));
	EXPECT_EQ(ENOENT, errno);
	acks[0] = (struct procevent_ack){ .id = id[1], .flags = 1 };
	errno = 0;
	EXPECT_EQ(-1, write(fd, acks, 16));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, pe_alive(k[1].pid));
	acks[0] = (struct procevent_ack){ .id = id[1] };
	EXPECT_EQ(16, write(fd, acks, 16));
	EXPECT_EQ(0, pe_reap(k[1].pid, PE_WAIT_MS, NULL));
}

TEST_F(api, write_fault_after_first_ack_returns_count)
{
	struct procevent_ack ack;
	struct procevent_event ev;
	struct pe_child k[2];
	uint64_t id[2];
	char *page;
	int fd = pe_open();
	int i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	page = pe_page_before_hole();
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, pe_two_queued_exits(fd, k));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pe_recv(fd, &ev));
		id[i] = ev.id;
	}
	/* Ack 1 in the mapped page, ack 2 crossing into the hole. */
	ack = (struct procevent_ack){ .id = id[0] };
	memcpy(page + 4096 - 24, &ack, sizeof(ack));
	memset(page + 4096 - 8, 0, 8);
	EXPECT_EQ(16, write(fd, page + 4096 - 24, 32));
	EXPECT_EQ(0, pe_reap(k[0].pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(1, pe_alive(k[1].pid));
	EXPECT_EQ(1, pe_fdv(fd, "received"));
	EXPECT_EQ(0, pe_ack_reap(fd, id[1], k[1].pid, NULL));
	munmap(page, 4096);
}

TEST_F(api, write_bad_pointer_efault)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_exit_event(fd, &k, 0, &ev));
	errno = 0;
	EXPECT_EQ(-1, write(fd, pe_unmapped(), 16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(api, set_timeout_above_s64_max_einval)
{
	int fd = pe_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, pe_set_timeout(fd, 1ULL << 63));
	EXPECT_EQ(-EINVAL, pe_set_timeout(fd, ~0ULL));
	EXPECT_EQ(0, pe_fdv(fd, "timeout-ns"));
	EXPECT_EQ(0, pe_set_timeout(fd, (1ULL << 63) - 1));
	EXPECT_EQ((long long)((1ULL << 63) - 1), pe_fdv(fd, "timeout-ns"));
	EXPECT_EQ(0, pe_set_timeout(fd, 0));
	EXPECT_EQ(0, pe_fdv(fd, "timeout-ns"));
}

TEST_F(api, set_timeout_bad_pointer_efault)
{
	int fd = pe_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_SET_TIMEOUT, NULL));
	EXPECT_EQ(-EFAULT, pe_ioctl(fd, PROCEVENT_IOC_SET_TIMEOUT,
				    pe_unmapped()));
}

TEST_F(api, poll_in_only_while_event_waits)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pe_poll_in(fd, 50));
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	EXPECT_EQ(0, pe_poll_in(fd, 50));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(1, pe_poll_in(fd, PE_WAIT_MS));
	/* Still readable until received. */
	EXPECT_EQ(1, pe_poll_in(fd, 0));
	ASSERT_EQ(0, pe_recv(fd, &ev));
	/* Received but not acked: not readable. */
	EXPECT_EQ(0, pe_poll_in(fd, 100));
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	EXPECT_EQ(0, pe_poll_in(fd, 50));
}

struct poll_thread {
	int fd;
	int revents;
	uint64_t end;
};

static void *poll_thread_fn(void *arg)
{
	struct poll_thread *t = arg;
	struct pollfd p = { .fd = t->fd, .events = POLLIN };

	if (poll(&p, 1, PE_WAIT_MS) > 0)
		t->revents = p.revents;
	t->end = pe_mono();
	return NULL;
}

TEST_F(api, poll_wakes_when_event_arrives)
{
	struct poll_thread t = { 0 };
	struct procevent_event ev;
	struct pe_child k;
	pthread_t th;
	uint64_t t0;

	t.fd = pe_open();
	ASSERT_LE(0, t.fd);
	ASSERT_EQ(0, pe_set_mask(t.fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, poll_thread_fn, &t));
	pe_sleep_ms(100);
	t0 = pe_mono();
	ASSERT_EQ(0, pe_go(&k, 'x'));
	EXPECT_EQ(0, pe_join(th, 2 * PE_WAIT_MS));
	EXPECT_TRUE(t.revents & POLLIN);
	/* Woken by the event, not by poll's own timeout. */
	EXPECT_GT(t0 + 1000 * PE_MS, t.end);
	ASSERT_EQ(0, pe_recv(t.fd, &ev));
	EXPECT_EQ(0, pe_ack_reap(t.fd, ev.id, k.pid, NULL));
}

TEST_F(api, epoll_reports_epollin_while_event_waits)
{
	struct epoll_event eev = { .events = EPOLLIN };
	struct procevent_event ev;
	struct pe_child k;
	int fd, ep;

	fd = pe_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &eev));
	EXPECT_EQ(0, epoll_wait(ep, &eev, 1, 50));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(1, epoll_wait(ep, &eev, 1, PE_WAIT_MS));
	EXPECT_TRUE(eev.events & EPOLLIN);
	ASSERT_EQ(0, pe_recv(fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &eev, 1, 100));
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
	close(ep);
}

TEST_F(api, read_blocking_returns_event)
{
	struct procevent_event ev;
	struct pe_child k;
	int fd = pe_open_blocking();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pe_set_mask(fd, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_spawn_exit(&k, 0));
	ASSERT_EQ(0, pe_go(&k, 'x'));
	pe_interrupt_with(SIGALRM);
	alarm(2);
	pe_fill(&ev, sizeof(ev));
	ASSERT_EQ(PE_REC, read(fd, &ev, sizeof(ev)));
	alarm(0);
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(fd, ev.id, k.pid, NULL));
}

TEST_F(api, unknown_ioctl_enotty)
{
	static const unsigned long bad[] = {
		_IO(PROCEVENT_IOC_MAGIC, 0),
		_IO(PROCEVENT_IOC_MAGIC, 99),
		_IOW(PROCEVENT_IOC_MAGIC, 1, uint64_t),	/* wrong size */
		_IOR(PROCEVENT_IOC_MAGIC, 1, uint32_t),	/* wrong direction */
		_IOW('x', 1, int),
		0x5401,					/* TCGETS */
		0xdeadbeef,
	};
	uint64_t arg[16] = { 0 };
	unsigned int i;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-ENOTTY, pe_ioctl(fd, bad[i], arg))
			TH_LOG("ioctl 0x%lx", bad[i]);
	}
	EXPECT_EQ(0, pe_fdv(fd, "position"));
}

static int subscribe_passed_handle(void *arg)
{
	int fd = (int)(long)arg;
	uint32_t mask = PROCEVENT_SIGNAL;

	if (pe_drop_effective_cap(CAP_SYS_ADMIN))
		return 100;
	if (ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask))
		return errno;
	mask = 0;
	if (ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask))
		return 50 + errno;
	return 0;
}

TEST_F(api, handle_passed_to_other_process_works_without_capability)
{
	struct pe_child k;
	int fd, dupfd, status = 0;

	fd = pe_open();
	ASSERT_LE(0, fd);
	/* pe_spawn closes tracked handles in the child: pass an untracked dup. */
	dupfd = dup(fd);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(0, pe_spawn(&k, subscribe_passed_handle, (void *)(long)dupfd));
	close(dupfd);
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &status));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* GET_INFO: what the module supports, every field written. */
TEST_F(api, get_info_reports_version_and_features)
{
	struct procevent_info info;
	long long maxsubs = -1, pool = -1;
	int fd = pe_open();

	ASSERT_LE(0, fd);
	pe_fill(&info, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, PROCEVENT_IOC_GET_INFO, &info));
	EXPECT_EQ(PROCEVENT_INFO_SIZE_VER0, info.size);
	EXPECT_EQ(0x000600, info.version);
	EXPECT_EQ(PROCEVENT_EXIT | PROCEVENT_SIGNAL | PROCEVENT_FORK |
		  PROCEVENT_EXEC, info.types);
	EXPECT_EQ(PROCEVENT_ACK_KILL, info.ack_flags);
	EXPECT_EQ(1u << PROCEVENT_SCOPE_ALL | 1u << PROCEVENT_SCOPE_CGROUP |
		  1u << PROCEVENT_SCOPE_PIDNS, info.scope_kinds);
	EXPECT_EQ(PROCEVENT_F_SENDER_UNVERIFIED, info.event_flags);
	ASSERT_EQ(0, pe_param_read("max_subscribers", &maxsubs));
	ASSERT_EQ(0, pe_param_read("pool_size", &pool));
	EXPECT_EQ(maxsubs, info.max_subscribers);
	EXPECT_EQ(pool, info.pool_size);
	EXPECT_EQ(_IOC_NR(PROCEVENT_IOC_ACK_RECV), info.last_ioctl);
	EXPECT_EQ(PROCEVENT_FEATURE_ACK_RECV, info.features);
	EXPECT_EQ(0, info.reserved[0]);
	EXPECT_EQ(0, info.reserved[1]);
	EXPECT_EQ(0, info.reserved[2]);
}

/* A newer, larger struct: the module fills what it knows, zeroes the rest. */
TEST_F(api, get_info_larger_struct_rest_zeroed)
{
	unsigned char buf[PROCEVENT_INFO_SIZE_VER0 + 32];
	struct procevent_info *info = (struct procevent_info *)buf;
	int fd = pe_open();
	size_t i;

	ASSERT_LE(0, fd);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, ioctl(fd, _IOR(PROCEVENT_IOC_MAGIC, 6, buf), buf));
	EXPECT_EQ(PROCEVENT_INFO_SIZE_VER0, info->size);
	for (i = PROCEVENT_INFO_SIZE_VER0; i < sizeof(buf); i++)
		ASSERT_EQ(0, buf[i]) TH_LOG("byte %zu", i);
}

TEST_F(api, get_info_smaller_than_first_version_enotty)
{
	unsigned char buf[PROCEVENT_INFO_SIZE_VER0 / 2];
	int fd = pe_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, _IOR(PROCEVENT_IOC_MAGIC, 6, buf), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
