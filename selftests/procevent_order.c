// SPDX-License-Identifier: GPL-2.0
/*
 * procevent: the subscriber list and delivery (SPEC sections 1, 3 and 4):
 * serial delivery in subscription order, mask changes, unsubscribing with
 * leftovers, subscriber death, ack timeouts, and the exemption of
 * subscribing processes.
 */
#include "procevent_util.h"
#include "kselftest_harness.h"

FIXTURE(order) {
	int unused;
};

FIXTURE_SETUP(order)
{
	PE_SETUP_REQUIRE_MODULE();
}

FIXTURE_TEARDOWN(order)
{
	pe_cleanup();
}

static int open_subscribed(uint32_t mask)
{
	int fd = pe_open();

	if (fd >= 0 && pe_set_mask(fd, mask)) {
		pe_close(fd);
		return -1;
	}
	return fd;
}

/* Let a child exit; 0 once it is running towards its exit. */
static int exit_child(struct pe_child *k, int code)
{
	int r = pe_spawn_exit(k, code);

	return r ? r : pe_go(k, 'x');
}

TEST_F(order, event_visits_subscribers_in_order_skipping_mask_miss)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a, b, c, status = 0;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_SIGNAL);
	c = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, exit_child(&k, 5));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_quiet(c, PE_QUIET_MS, &ev2)) TH_LOG("C before A's ack");
	EXPECT_EQ(0, pe_quiet(b, 0, &ev2));
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event(c, &ev2, PE_WAIT_MS));
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(k.pid, ev2.pid);
	EXPECT_EQ(0, pe_quiet(b, 0, &ev2));
	/* Still held: C has not acked. */
	pe_sleep_ms(100);
	EXPECT_EQ(1, pe_alive(k.pid));
	ASSERT_EQ(0, pe_ack_reap(c, ev.id, k.pid, &status));
	EXPECT_EQ(5, WEXITSTATUS(status));
	EXPECT_EQ(0, pe_fdv(b, "queued"));
	EXPECT_EQ(0, pe_fdv(b, "acked"));
}

/* A subscriber in another process, for order and death tests. */
static int subscriber_process(void *arg)
{
	struct procevent_event ev;
	uint32_t mask = PROCEVENT_EXIT;
	int fd, c;

	fd = open(PE_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask))
		return 100;
	pe_report(&fd, sizeof(fd));
	for (;;) {
		c = pe_gate_wait();
		if (c == 'r') {
			/* receive one and report its id */
			if (pe_wait_event(fd, &ev, PE_WAIT_MS))
				ev.id = 0;
			pe_report(&ev.id, sizeof(ev.id));
		} else if (c == 'a') {
			uint64_t id;

			if (read(pe_gate_rd, &id, sizeof(id)) != sizeof(id))
				return 101;
			pe_report_byte(pe_ack(fd, id) ? 'E' : 'A');
		} else {
			return 0;
		}
	}
}

TEST_F(order, subscribers_in_other_processes_served_in_order)
{
	struct procevent_event ev;
	struct pe_child s, k;
	uint64_t id = 0;
	int sfd = -1, b;

	ASSERT_EQ(0, pe_spawn(&s, subscriber_process, NULL));
	ASSERT_EQ(0, pe_expect(&s, &sfd, sizeof(sfd), PE_WAIT_MS));
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_go(&s, 'r'));
	ASSERT_EQ(0, pe_expect(&s, &id, sizeof(id), PE_WAIT_MS));
	ASSERT_NE(0, id) TH_LOG("the first subscriber got no event");
	EXPECT_EQ(0, pe_quiet(b, PE_QUIET_MS, &ev));
	ASSERT_EQ(0, pe_go(&s, 'a'));
	ASSERT_EQ((ssize_t)sizeof(id), write(s.gate, &id, sizeof(id)));
	ASSERT_EQ('A', pe_expect_byte(&s, PE_WAIT_MS));
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	EXPECT_EQ(id, ev.id);
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(b, ev.id, k.pid, NULL));
	ASSERT_EQ(0, pe_go(&s, 'x'));
	EXPECT_EQ(0, pe_reap(s.pid, PE_WAIT_MS, NULL));
}

TEST_F(order, later_set_mask_keeps_position)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a, b;

	a = open_subscribed(PROCEVENT_SIGNAL);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, PE_ALL));
	ASSERT_EQ(0, pe_set_mask(b, PE_ALL));
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	EXPECT_EQ(1, pe_fdv(a, "position"));
	EXPECT_EQ(2, pe_fdv(b, "position"));
	EXPECT_EQ(PROCEVENT_EXIT, pe_fdv(a, "mask"));
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	EXPECT_EQ(0, pe_quiet(b, PE_QUIET_MS, &ev2));
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event(b, &ev2, PE_WAIT_MS));
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(0, pe_ack_reap(b, ev2.id, k.pid, NULL));
}

TEST_F(order, mask_zero_unsubscribes)
{
	struct procevent_event ev;
	struct pe_child k;
	int a, b;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_SIGNAL);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(2, pe_fdv(b, "position"));
	ASSERT_EQ(0, pe_set_mask(a, 0));
	EXPECT_EQ(0, pe_fdv(a, "position"));
	EXPECT_EQ(1, pe_fdv(b, "position"));
	/* No subscriber wants EXIT now: the child is not held. */
	ASSERT_EQ(0, exit_child(&k, 0));
	EXPECT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(-ENOMSG, pe_recv(a, &ev));
	EXPECT_EQ(0, pe_fdv(a, "queued"));
}

TEST_F(order, mask_zero_with_pending_stays_until_leftover_acked)
{
	struct procevent_event ev1, ev2, ev;
	struct pe_child k1, k2;
	int a, b;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, exit_child(&k1, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev1, PE_WAIT_MS));
	ASSERT_EQ(0, pe_set_mask(a, 0));
	/* Kept in the list, at its place, with mask 0. */
	EXPECT_EQ(1, pe_fdv(a, "position"));
	EXPECT_EQ(0, pe_fdv(a, "mask"));
	EXPECT_EQ(2, pe_fdv(b, "position"));
	/* Received events still wait for acks: RECV has nothing for it. */
	EXPECT_EQ(-ENOMSG, pe_recv(a, &ev));
	/* New events pass it by. */
	ASSERT_EQ(0, exit_child(&k2, 0));
	ASSERT_EQ(0, pe_wait_event(b, &ev2, PE_WAIT_MS));
	EXPECT_EQ(k2.pid, ev2.pid);
	EXPECT_EQ(0, pe_ack_reap(b, ev2.id, k2.pid, NULL));
	EXPECT_EQ(0, pe_fdv(a, "queued"));
	/* The leftover ack is accepted; then the handle leaves the list. */
	EXPECT_EQ(1, pe_alive(k1.pid));
	ASSERT_EQ(0, pe_ack(a, ev1.id));
	EXPECT_EQ(0, pe_fdv(a, "position"));
	EXPECT_EQ(1, pe_fdv(b, "position"));
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	EXPECT_EQ(ev1.id, ev.id);
	EXPECT_EQ(0, pe_ack_reap(b, ev.id, k1.pid, NULL));
}

TEST_F(order, mask_zero_with_queued_event_still_delivers_it)
{
	struct procevent_event ev;
	struct pe_child k;
	int a;

	a = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_fdinfo_wait(a, "queued", 1, PE_WAIT_MS));
	ASSERT_EQ(0, pe_set_mask(a, 0));
	EXPECT_EQ(1, pe_fdv(a, "position"));
	ASSERT_EQ(0, pe_wait_event(a, &ev, 0));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(-ENOMSG, pe_recv(a, &ev));
	ASSERT_EQ(0, pe_ack_reap(a, ev.id, k.pid, NULL));
	EXPECT_EQ(0, pe_fdv(a, "position"));
	EXPECT_EQ(-ENOMSG, pe_recv(a, &ev));
}

TEST_F(order, mask_zero_with_pending_keeps_slot_taken)
{
	int max = pe_max_subscribers();
	struct procevent_event ev;
	struct pe_child k;
	int a, n, i;

	ASSERT_GE(64, max);
	a = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	for (i = 1; i < max; i++) {
		ASSERT_LE(0, open_subscribed(PROCEVENT_SIGNAL));
	}
	n = pe_open();
	ASSERT_LE(0, n);
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	ASSERT_EQ(0, pe_set_mask(a, 0));
	EXPECT_EQ(-ENOSPC, pe_set_mask(n, PROCEVENT_EXIT));
	ASSERT_EQ(0, pe_ack_reap(a, ev.id, k.pid, NULL));
	EXPECT_EQ(0, pe_set_mask(n, PROCEVENT_EXIT));
	EXPECT_EQ(max, pe_fdv(n, "position"));
}

TEST_F(order, resubscribe_with_pending_keeps_place)
{
	struct procevent_event ev, ev2;
	struct pe_child k1, k2;
	int a, b;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, exit_child(&k1, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	ASSERT_EQ(0, pe_set_mask(a, 0));
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	EXPECT_EQ(1, pe_fdv(a, "position"));
	EXPECT_EQ(2, pe_fdv(b, "position"));
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event(b, &ev2, PE_WAIT_MS));
	ASSERT_EQ(0, pe_ack_reap(b, ev2.id, k1.pid, NULL));
	/* Still first for the next event. */
	EXPECT_EQ(1, pe_fdv(a, "position"));
	ASSERT_EQ(0, exit_child(&k2, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	EXPECT_EQ(k2.pid, ev.pid);
	EXPECT_EQ(0, pe_quiet(b, 100, &ev2));
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event(b, &ev2, PE_WAIT_MS));
	EXPECT_EQ(0, pe_ack_reap(b, ev2.id, k2.pid, NULL));
}

TEST_F(order, resubscribe_after_leaving_joins_at_end)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a, b;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_mask(a, 0));
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_EXIT));
	EXPECT_EQ(2, pe_fdv(a, "position"));
	EXPECT_EQ(1, pe_fdv(b, "position"));
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	EXPECT_EQ(0, pe_quiet(a, PE_QUIET_MS, &ev2));
	ASSERT_EQ(0, pe_ack(b, ev.id));
	ASSERT_EQ(0, pe_wait_event(a, &ev2, PE_WAIT_MS));
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(0, pe_ack_reap(a, ev2.id, k.pid, NULL));
}

TEST_F(order, mask_change_still_delivers_queued_events)
{
	struct procevent_event ev;
	struct pe_child k;
	int a;

	a = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_fdinfo_wait(a, "queued", 1, PE_WAIT_MS));
	ASSERT_EQ(0, pe_set_mask(a, PROCEVENT_SIGNAL));
	ASSERT_EQ(0, pe_wait_event(a, &ev, 0));
	EXPECT_EQ(PROCEVENT_EXIT, ev.type);
	EXPECT_EQ(k.pid, ev.pid);
	/* It must still be acked: the child stays held until then. */
	pe_sleep_ms(100);
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(0, pe_ack_reap(a, ev.id, k.pid, NULL));
}

TEST_F(order, events_received_in_order_they_reached)
{
	struct procevent_event ev[4];
	struct pe_child k[4];
	int a, i;

	a = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, exit_child(&k[i], i));
		ASSERT_EQ(0, pe_fdinfo_wait(a, "queued", i + 1, PE_WAIT_MS));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pe_wait_event(a, &ev[i], 0));
		EXPECT_EQ(k[i].pid, ev[i].pid);
		if (i) {
			EXPECT_LT(ev[i - 1].id, ev[i].id);
		}
	}
	/* Acked out of order: each ack releases its own task. */
	for (i = 3; i >= 0; i--) {
		EXPECT_EQ(0, pe_ack_reap(a, ev[i].id, k[i].pid, NULL));
	}
}

TEST_F(order, subscriber_close_moves_events_to_next_in_order)
{
	struct procevent_event ev1, ev;
	struct pe_child k1, k2;
	int a, b;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, exit_child(&k1, 1));
	ASSERT_EQ(0, pe_wait_event(a, &ev1, PE_WAIT_MS));
	ASSERT_EQ(0, exit_child(&k2, 2));
	ASSERT_EQ(0, pe_fdinfo_wait(a, "queued", 1, PE_WAIT_MS));
	/* Not reached b yet. */
	EXPECT_EQ(-ENOENT, pe_ack(b, ev1.id));
	EXPECT_EQ(0, pe_fdv(b, "queued"));
	pe_close(a);
	EXPECT_EQ(1, pe_fdv(b, "position"));
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	EXPECT_EQ(ev1.id, ev.id);
	EXPECT_EQ(k1.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(b, ev.id, k1.pid, NULL));
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	EXPECT_EQ(k2.pid, ev.pid);
	EXPECT_LT(ev1.id, ev.id);
	EXPECT_EQ(0, pe_ack_reap(b, ev.id, k2.pid, NULL));
}

TEST_F(order, subscriber_killed_moves_events_to_next_in_order)
{
	struct procevent_event ev;
	struct pe_child s, k1, k2;
	unsigned long long q = 0;
	uint64_t id = 0, end;
	int sfd = -1, b, status = 0;

	ASSERT_EQ(0, pe_spawn(&s, subscriber_process, NULL));
	ASSERT_EQ(0, pe_expect(&s, &sfd, sizeof(sfd), PE_WAIT_MS));
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, exit_child(&k1, 1));
	ASSERT_EQ(0, pe_go(&s, 'r'));
	ASSERT_EQ(0, pe_expect(&s, &id, sizeof(id), PE_WAIT_MS));
	ASSERT_NE(0, id);
	ASSERT_EQ(0, exit_child(&k2, 2));
	/* Wait until k2's event is queued on the subscriber process. */
	end = pe_mono() + PE_WAIT_MS * PE_MS;
	while (!(pe_fdinfo_pid(s.pid, sfd, "queued", &q) == 0 && q == 1) &&
	       pe_mono() < end)
		pe_sleep_ms(2);
	ASSERT_EQ(1, q);
	EXPECT_EQ(0, pe_fdv(b, "queued"));
	ASSERT_EQ(0, kill(s.pid, SIGKILL));
	ASSERT_EQ(0, pe_reap(s.pid, PE_WAIT_MS, &status));
	EXPECT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	EXPECT_EQ(id, ev.id);
	EXPECT_EQ(k1.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(b, ev.id, k1.pid, NULL));
	ASSERT_EQ(0, pe_wait_event(b, &ev, PE_WAIT_MS));
	EXPECT_EQ(k2.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(b, ev.id, k2.pid, NULL));
	EXPECT_EQ(0, pe_quiet(b, 50, &ev));
}

/*
 * A handle that closes while an event waits on an earlier one leaves the
 * list at once: the ack then moves the event past it to the handles listed
 * at that moment (SPEC 4.1, 4.3), or releases the task when none is left.
 */
TEST_F(order, handle_closed_during_earlier_hold_is_passed_over)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a, b, c, status = 0;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	c = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, exit_child(&k, 3));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	EXPECT_EQ(k.pid, ev.pid);
	EXPECT_EQ(0, pe_quiet(b, 0, &ev2));
	pe_close(b);
	EXPECT_EQ(2, pe_fdv(c, "position"));
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event(c, &ev2, PE_WAIT_MS));
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(k.pid, ev2.pid);
	ASSERT_EQ(0, pe_ack_reap(c, ev.id, k.pid, &status));
	EXPECT_EQ(3, WEXITSTATUS(status));
}

TEST_F(order, ack_after_every_later_handle_closed_releases_task)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a, b, status = 0;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, exit_child(&k, 4));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	EXPECT_EQ(0, pe_quiet(b, 0, &ev2));
	pe_close(b);
	/* Still held: a has not acked. */
	pe_sleep_ms(100);
	EXPECT_EQ(1, pe_alive(k.pid));
	ASSERT_EQ(0, pe_ack_reap(a, ev.id, k.pid, &status));
	EXPECT_EQ(4, WEXITSTATUS(status));
	EXPECT_EQ(0, pe_quiet(a, 50, &ev2));
}

TEST_F(order, closing_last_subscriber_releases_held_tasks)
{
	struct procevent_event ev;
	struct pe_child k1, k2;
	int a, status = 0;

	a = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, exit_child(&k1, 1));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	ASSERT_EQ(0, exit_child(&k2, 2));
	ASSERT_EQ(0, pe_fdinfo_wait(a, "queued", 1, PE_WAIT_MS));
	pe_close(a);
	ASSERT_EQ(0, pe_reap(k1.pid, PE_WAIT_MS, &status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	ASSERT_EQ(0, pe_reap(k2.pid, PE_WAIT_MS, &status));
	EXPECT_EQ(2, WEXITSTATUS(status));
}

TEST_F(order, late_ack_on_handle_not_reached_enoent)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a, b, c;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	c = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	pe_close(a);
	ASSERT_EQ(1, pe_poll_in(b, PE_WAIT_MS));
	EXPECT_EQ(-ENOENT, pe_ack(c, ev.id));
	EXPECT_EQ(-ENOENT, pe_ack(b, ev.id));
	ASSERT_EQ(0, pe_wait_event(b, &ev2, 0));
	EXPECT_EQ(ev.id, ev2.id);
	ASSERT_EQ(0, pe_ack(b, ev.id));
	ASSERT_EQ(0, pe_wait_event(c, &ev2, PE_WAIT_MS));
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(0, pe_ack_reap(c, ev.id, k.pid, NULL));
}

TEST_F(order, timeout_moves_event_to_next_subscriber)
{
	struct procevent_event ev, ev2;
	struct pe_stats s0, s1;
	struct pe_child k;
	uint64_t t0;
	int a, b, have_stats;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_timeout(a, 200 * PE_MS));
	EXPECT_EQ(200 * PE_MS, pe_fdv(a, "timeout-ns"));
	have_stats = pe_stats_read(&s0) == 0;
	t0 = pe_mono();
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	ASSERT_EQ(0, pe_wait_event(b, &ev2, PE_WAIT_MS))
		TH_LOG("the event did not time out on the first handle");
	EXPECT_LE(t0 + 200 * PE_MS, pe_mono());
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(-ENOENT, pe_ack(a, ev.id));
	EXPECT_EQ(1, pe_fdv(a, "timeouts"));
	EXPECT_EQ(0, pe_fdv(a, "received"));
	EXPECT_EQ(0, pe_fdv(a, "acked"));
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(0, pe_ack_reap(b, ev2.id, k.pid, NULL));
	EXPECT_EQ(0, pe_fdv(b, "timeouts"));
	if (have_stats) {
		ASSERT_EQ(0, pe_stats_read(&s1));
		EXPECT_EQ(s0.exit.timedout + 1, s1.exit.timedout);
	}
}

TEST_F(order, timeout_releases_task_when_no_subscriber_left)
{
	struct procevent_event ev;
	struct pe_child k;
	uint64_t t0;
	int a;

	a = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, pe_set_timeout(a, 200 * PE_MS));
	t0 = pe_mono();
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(1, pe_poll_in(a, PE_WAIT_MS));
	/* Never received: the deadline runs from queueing. */
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL));
	EXPECT_LE(t0 + 200 * PE_MS, pe_mono());
	EXPECT_EQ(-EAGAIN, pe_recv(a, &ev));
	EXPECT_EQ(1, pe_fdv(a, "timeouts"));
	EXPECT_EQ(0, pe_fdv(a, "queued"));
}

TEST_F(order, timeout_applies_to_events_arriving_after_the_call)
{
	struct procevent_event ev;
	struct pe_child k1, k2;
	int a;

	a = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, exit_child(&k1, 0));
	ASSERT_EQ(0, pe_fdinfo_wait(a, "queued", 1, PE_WAIT_MS));
	ASSERT_EQ(0, pe_set_timeout(a, 100 * PE_MS));
	pe_sleep_ms(400);
	/* Queued before the call: no deadline. */
	EXPECT_EQ(1, pe_alive(k1.pid));
	ASSERT_EQ(0, pe_wait_event(a, &ev, 0));
	EXPECT_EQ(k1.pid, ev.pid);
	EXPECT_EQ(0, pe_ack_reap(a, ev.id, k1.pid, NULL));
	EXPECT_EQ(0, pe_fdv(a, "timeouts"));
	/* Arriving after it: expires. */
	ASSERT_EQ(0, exit_child(&k2, 0));
	EXPECT_EQ(0, pe_reap(k2.pid, PE_WAIT_MS, NULL));
	EXPECT_EQ(1, pe_fdv(a, "timeouts"));
}

TEST_F(order, timeout_counted_from_arrival_at_handle)
{
	struct procevent_event ev, ev2;
	struct pe_child k;
	int a, b;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_timeout(b, 300 * PE_MS));
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	/* Longer than b's deadline, spent before the event reaches b. */
	pe_sleep_ms(500);
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_wait_event(b, &ev2, PE_WAIT_MS));
	EXPECT_EQ(ev.id, ev2.id);
	EXPECT_EQ(0, pe_ack_reap(b, ev2.id, k.pid, NULL));
	EXPECT_EQ(0, pe_fdv(b, "timeouts"));
}

/*
 * The held task sleeps without a deadline while the first handle (none)
 * keeps the event; its ack hands the event to a handle with one, which
 * never acks.  The task must be released once that deadline is over
 * (SPEC 4.4), counted from the ack: the move to the second handle wakes
 * the sleeping task to take up the new deadline.
 */
TEST_F(order, timeout_of_next_handle_releases_task_that_slept_without_one)
{
	struct procevent_event ev;
	struct pe_child k;
	uint64_t t0, t1;
	int a, b;

	a = open_subscribed(PROCEVENT_EXIT);
	b = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, pe_set_timeout(b, 300 * PE_MS));
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	/* Long enough for the held task to be asleep in its hold. */
	pe_sleep_ms(300);
	EXPECT_EQ(1, pe_alive(k.pid));
	t0 = pe_mono();
	ASSERT_EQ(0, pe_ack(a, ev.id));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, NULL))
		TH_LOG("the task stayed held past the second handle's deadline");
	t1 = pe_mono();
	EXPECT_LE(t0 + 300 * PE_MS, t1);
	EXPECT_EQ(1, pe_fdv(b, "timeouts"));
	EXPECT_EQ(0, pe_fdv(b, "queued"));
	EXPECT_EQ(0, pe_fdv(a, "timeouts"));
}

TEST_F(order, timeout_zero_waits_forever)
{
	struct procevent_event ev;
	struct pe_child k;
	int a;

	a = open_subscribed(PROCEVENT_EXIT);
	ASSERT_LE(0, a);
	EXPECT_EQ(0, pe_fdv(a, "timeout-ns"));
	ASSERT_EQ(0, pe_set_timeout(a, 100 * PE_MS));
	ASSERT_EQ(0, pe_set_timeout(a, 0));
	ASSERT_EQ(0, exit_child(&k, 0));
	ASSERT_EQ(0, pe_wait_event(a, &ev, PE_WAIT_MS));
	pe_sleep_ms(400);
	EXPECT_EQ(1, pe_alive(k.pid));
	EXPECT_EQ(0, pe_ack_reap(a, ev.id, k.pid, NULL));
	EXPECT_EQ(0, pe_fdv(a, "timeouts"));
}

static void on_usr1_report(int sig)
{
	pe_report_byte('S');
}

/* Subscribes, takes a handled signal of its own, exits. */
static int self_signalling_subscriber(void *arg)
{
	uint32_t mask = PE_ALL;
	struct sigaction sa;
	int fd;

	fd = open(PE_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask))
		return 100;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1_report;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	/* Exits with its handle still subscribed. */
	return 0;
}

TEST_F(order, subscriber_process_raises_no_events)
{
	struct procevent_event ev;
	struct pe_child s;
	int a, status = 0;

	a = open_subscribed(PE_ALL);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, pe_spawn(&s, self_signalling_subscriber, NULL));
	if (pe_quiet(a, 500, &ev)) {
		pe_ack(a, ev.id);
		EXPECT_EQ(0, ev.type)
			TH_LOG("subscriber process raised an event, pid %d",
			       ev.pid);
	}
	EXPECT_EQ('S', pe_expect_byte(&s, PE_WAIT_MS));
	ASSERT_EQ(0, pe_reap(s.pid, PE_WAIT_MS, &status));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, pe_quiet(a, 50, &ev));
}

/*
 * Subscribes for EXIT, receives its own child's exit, sets mask 0 (the
 * handle stays in the list with that leftover), then takes a handled
 * signal: still exempt.
 */
static int leftover_subscriber(void *arg)
{
	struct procevent_event ev;
	uint32_t mask = PROCEVENT_EXIT;
	struct sigaction sa;
	pid_t g;
	int fd;

	fd = open(PE_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask))
		return 100;
	g = fork();
	if (g < 0)
		return 101;
	if (g == 0)
		_exit(0);
	if (pe_wait_event(fd, &ev, PE_WAIT_MS) || ev.pid != g)
		return 102;
	mask = 0;
	if (ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask))
		return 103;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1_report;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	if (pe_ack(fd, ev.id))
		return 104;
	if (pe_reap(g, PE_WAIT_MS, NULL))
		return 105;
	return 0;
}

TEST_F(order, subscriber_with_only_leftovers_still_exempt)
{
	struct procevent_event ev;
	struct pe_child s;
	int a, status = 0;

	a = open_subscribed(PROCEVENT_SIGNAL);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, pe_spawn(&s, leftover_subscriber, NULL));
	if (pe_quiet(a, 500, &ev)) {
		pe_ack(a, ev.id);
		EXPECT_EQ(0, ev.type)
			TH_LOG("leftover holder raised an event, pid %d",
			       ev.pid);
	}
	EXPECT_EQ('S', pe_expect_byte(&s, PE_WAIT_MS));
	ASSERT_EQ(0, pe_reap(s.pid, PE_WAIT_MS, &status));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * Sets the mask of a handle another process subscribed first, takes a
 * handled signal, then exits when told.
 */
static int second_mask_setter(void *arg)
{
	int fd = (int)(long)arg;
	uint32_t mask = PE_ALL;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1_report;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	if (ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask))
		return 100;
	close(fd);
	raise(SIGUSR1);
	pe_gate_wait();
	return 0;
}

/*
 * SPEC 9.3: the process that last set a non-zero mask owns the
 * subscription.  The child takes it over (the handle keeps its place), is
 * exempt from then on, and its exit ends the subscription as a close would,
 * although this process still holds the file.
 */
TEST_F(order, mask_setter_takes_over_ownership_and_keeps_position)
{
	struct procevent_event ev;
	struct pe_child k;
	int a, dupfd, status = 0;

	a = open_subscribed(PE_ALL);
	ASSERT_LE(0, a);
	EXPECT_EQ(getpid(), pe_fdv(a, "owner"));
	dupfd = dup(a);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(0, pe_spawn(&k, second_mask_setter, (void *)(long)dupfd));
	close(dupfd);
	/* Its handler ran without a hold: it is the exempt owner now. */
	EXPECT_EQ('S', pe_expect_byte(&k, PE_WAIT_MS));
	EXPECT_EQ(0, pe_quiet(a, PE_QUIET_MS, &ev))
		TH_LOG("the new owner raised type %u, pid %d", ev.type,
		       ev.pid);
	EXPECT_EQ(k.pid, pe_fdv(a, "owner"));
	EXPECT_EQ(1, pe_fdv(a, "position"));
	/* Its exit is not held, and ends the subscription. */
	ASSERT_EQ(0, pe_go(&k, 'x'));
	ASSERT_EQ(0, pe_reap(k.pid, PE_WAIT_MS, &status));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, pe_fdinfo_wait(a, "position", 0, PE_WAIT_MS));
	EXPECT_EQ(0, pe_fdv(a, "owner"));
	pe_fill(&ev, sizeof(ev));
	EXPECT_EQ(-1, ioctl(a, PROCEVENT_IOC_RECV, &ev));
	EXPECT_EQ(ENOMSG, errno);
}

TEST_HARNESS_MAIN
