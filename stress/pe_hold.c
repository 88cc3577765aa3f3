// SPDX-License-Identifier: GPL-2.0
/*
 * Stuck subscribers:
 *   - a subscriber SIGSTOPped after RECV, with a 300 ms ack deadline:
 *     every process it holds goes on within the deadline (plus scheduling
 *     slack), each expiry is counted, and its ack after SIGCONT is ENOENT;
 *   - a subscriber that exits with thousands of events on its handle
 *     (half received, half still queued): the next subscriber gets every
 *     one of them, the received ones first in the order they were
 *     received, and every process is released and reaped.
 * The subscribers are child processes; this process is the workload and
 * never subscribes.
 */
#include "pe_stress.h"

#define TIMEOUT_MS	300
#define SLACK_MS	2000

struct shm {
	volatile int joined[2];
	volatile int stop_after_recv;
	volatile int stopped;
	volatile int late_ack;		/* result of the ack after SIGCONT */
	volatile int late_done;
	volatile int quit[2];
	/* the exit test */
	volatile int a_take;		/* events A receives before it exits */
	volatile int a_taken;
	volatile int b_count;
	volatile int b_bad_ack;
	int a_tgid[4096], b_tgid[8192];
};

static struct shm *shm;

static pid_t spawn(void (*fn)(int), int arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(arg);
		_exit(0);
	}
	return pid;
}

static int wait_flag(volatile int *f, int want, int ms)
{
	uint64_t end = pe_now() + (uint64_t)ms * PE_MS;

	while (*f != want) {
		if (pe_now() > end)
			return -ETIMEDOUT;
		pe_sleep_us(1000);
	}
	return 0;
}

/* ---- SIGSTOP ------------------------------------------------------------- */

static void stopper(int unused)
{
	uint64_t tns = TIMEOUT_MS * PE_MS;
	struct procevent_event ev;
	int fd = pe_subscribe(PROCEVENT_EXIT, O_NONBLOCK);

	if (fd < 0)
		_exit(2);
	ioctl(fd, PROCEVENT_IOC_SET_TIMEOUT, &tns);
	shm->joined[0] = 1;
	while (!shm->quit[0]) {
		if (pe_poll_in(fd, 50) <= 0)
			continue;
		if (ioctl(fd, PROCEVENT_IOC_RECV, &ev))
			continue;
		if (shm->stop_after_recv) {
			shm->stop_after_recv = 0;
			shm->stopped = 1;
			kill(getpid(), SIGSTOP);
			shm->late_ack = pe_ack1(fd, ev.id);
			shm->late_done = 1;
			continue;
		}
		pe_ack1(fd, ev.id);
	}
	close(fd);
}

static long long sub_line_val(int pos, const char *key)
{
	char line[512];
	long long v = -1;
	int n = 0;
	FILE *f = fopen(PE_PROC, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "subscriber:", 11) && ++n == pos)
			v = pe_kv(line, key);
	fclose(f);
	return v;
}

static void test_sigstop(void)
{
	uint64_t t, worst = 0, first;
	pid_t s, kids[20];
	int i, n = pe_short() ? 8 : 20, ok = 1, st;

	s = spawn(stopper, 0);
	if (wait_flag(&shm->joined[0], 1, 5000)) {
		pe_tap(0, "sigstop_subscriber_joined");
		return;
	}
	shm->stop_after_recv = 1;
	t = pe_now();
	kids[0] = fork();
	if (!kids[0])
		_exit(7);
	if (pe_reap(kids[0], TIMEOUT_MS + SLACK_MS, &st))
		ok = 0;
	first = (pe_now() - t) / PE_MS;
	pe_diag("exit held by the stopped subscriber for %llu ms (deadline %d ms)",
		(unsigned long long)first, TIMEOUT_MS);
	pe_tap(ok && shm->stopped && first >= TIMEOUT_MS - 10 &&
	       WIFEXITED(st) && WEXITSTATUS(st) == 7,
	       "sigstop_received_event_released_at_deadline");

	/* Stopped: each new exit is held at most for the deadline. */
	t = pe_now();
	for (i = 0; i < n; i++) {
		kids[i] = fork();
		if (!kids[i])
			_exit(i);
	}
	for (i = 0; i < n; i++) {
		if (pe_reap(kids[i], TIMEOUT_MS + SLACK_MS, &st) ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != i)
			ok = 0;
		if (pe_now() - t > worst)
			worst = pe_now() - t;
	}
	pe_diag("%d exits while stopped: all reaped after %llu ms", n,
		(unsigned long long)(worst / PE_MS));
	pe_tap(ok, "sigstop_queued_events_released_within_deadline");
	pe_tap(sub_line_val(1, "timeouts") == n + 1,
	       "sigstop_every_expiry_counted");
	pe_fig("sigstop_timeouts", sub_line_val(1, "timeouts"));

	kill(s, SIGCONT);
	pe_tap(!wait_flag(&shm->late_done, 1, 5000) &&
	       shm->late_ack == -ENOENT, "sigstop_late_ack_after_sigcont_enoent");
	shm->quit[0] = 1;
	pe_reap(s, 5000, NULL);
}

/* ---- exit with thousands queued ------------------------------------------- */

static void sub_a(int unused)
{
	struct procevent_event ev;
	int fd = pe_subscribe(PROCEVENT_EXIT, O_NONBLOCK);

	if (fd < 0)
		_exit(2);
	shm->joined[0] = 1;
	for (;;) {
		if (shm->quit[0])
			_exit(0);	/* with everything still on the handle */
		if (shm->a_taken >= shm->a_take || pe_poll_in(fd, 20) <= 0)
			continue;
		if (ioctl(fd, PROCEVENT_IOC_RECV, &ev))
			continue;
		shm->a_tgid[shm->a_taken] = ev.tgid;
		shm->a_taken++;
	}
}

static void sub_b(int unused)
{
	struct procevent_event ev[32];
	struct procevent_ack ack[32];
	int fd = pe_subscribe(PROCEVENT_EXIT, O_NONBLOCK);

	if (fd < 0)
		_exit(2);
	shm->joined[1] = 1;
	while (!shm->quit[1]) {
		ssize_t n;
		int i, k;

		if (pe_poll_in(fd, 50) <= 0)
			continue;
		n = read(fd, ev, sizeof(ev));
		if (n <= 0)
			continue;
		k = n / sizeof(ev[0]);
		memset(ack, 0, sizeof(ack));
		for (i = 0; i < k; i++) {
			if (shm->b_count < 8192)
				shm->b_tgid[shm->b_count] = ev[i].tgid;
			shm->b_count++;
			ack[i].id = ev[i].id;
		}
		if (write(fd, ack, k * sizeof(ack[0])) != (ssize_t)(k * sizeof(ack[0])))
			shm->b_bad_ack++;
	}
	close(fd);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void test_exit_with_queue(void)
{
	int n = pe_short() ? 500 : 3000, i, ok = 1, order = 1;
	static pid_t kids[4096];
	static int sorted_k[4096], sorted_b[8192];
	struct pe_counters c;
	pid_t a, b;
	uint64_t t;

	memset(shm, 0, sizeof(*shm));
	shm->a_take = n / 2;
	a = spawn(sub_a, 0);
	if (wait_flag(&shm->joined[0], 1, 5000))
		ok = 0;
	b = spawn(sub_b, 0);
	if (wait_flag(&shm->joined[1], 1, 5000))
		ok = 0;
	for (i = 0; i < n && ok; i++) {
		kids[i] = fork();
		if (!kids[i])
			_exit(0);
		if (kids[i] < 0) {
			pe_diag("fork %d: %s", i, strerror(errno));
			n = i;
			break;
		}
	}
	/* All n held at A: half received, the rest queued. */
	t = pe_now();
	while (pe_now() - t < 60000 * PE_MS) {
		pe_counters_read(&c);
		if (c.held == n && shm->a_taken == n / 2)
			break;
		pe_sleep_us(20000);
	}
	pe_diag("%d exits held at A (held=%lld, A received %d)", n, c.held,
		shm->a_taken);
	pe_tap(ok && c.held == n && sub_line_val(1, "waiting") == n - n / 2,
	       "exit_queue_thousands_held_at_first_subscriber");

	shm->quit[0] = 1;
	t = pe_now();
	if (pe_reap(a, 10000, NULL))
		ok = 0;
	for (i = 0; i < n; i++)
		if (pe_reap(kids[i], 60000, NULL))
			ok = 0;
	pe_diag("all %d reaped %llu ms after A exited", n,
		(unsigned long long)((pe_now() - t) / PE_MS));
	pe_tap(ok, "exit_queue_every_process_released_after_exit");

	for (i = 0; i < n / 2 && i < shm->b_count; i++)
		if (shm->a_tgid[i] != shm->b_tgid[i])
			order = 0;
	pe_tap(order, "exit_queue_received_events_move_on_first_in_order");
	for (i = 0; i < n; i++)
		sorted_k[i] = kids[i];
	memcpy(sorted_b, shm->b_tgid, sizeof(int) * (shm->b_count < 8192 ? shm->b_count : 8192));
	qsort(sorted_k, n, sizeof(int), cmp_int);
	qsort(sorted_b, shm->b_count, sizeof(int), cmp_int);
	ok = shm->b_count == n && !shm->b_bad_ack;
	for (i = 0; ok && i < n; i++)
		if (sorted_k[i] != sorted_b[i])
			ok = 0;
	pe_diag("B received %d of %d, bad acks %d", shm->b_count, n,
		shm->b_bad_ack);
	pe_tap(ok, "exit_queue_next_subscriber_gets_each_exactly_once");
	pe_fig("exit_queue_events", n);
	shm->quit[1] = 1;
	pe_reap(b, 5000, NULL);
	pe_wait_quiet(&c, 5000);
	pe_tap(!c.held && !c.nsubs, "exit_queue_nothing_held_at_end");
	pe_fig("held_left", c.held);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pe_tap_plan(9);
	shm = pe_shared(sizeof(*shm));
	if (!shm)
		return 1;
	test_sigstop();
	test_exit_with_queue();
	return pe_tap_exit();
}
