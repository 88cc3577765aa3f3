// SPDX-License-Identifier: GPL-2.0
/*
 * Load: stress-ng's fork, clone, exit-group, pthread, signal, sigq and
 * kill stressors run while three subscribers acknowledge every event:
 *   A  one event at a time with PROCEVENT_IOC_RECV / PROCEVENT_IOC_ACK;
 *   B  batches with read(2) / write(2);
 *   C  RECV / ACK with an ack deadline, now and then too late on purpose.
 * All three are threads of this process (exempt while subscribed) and
 * subscribed in that order, so every event visits A, B, C in turn.
 *
 * At the end, once nothing is held or waiting, the counters must balance.
 * With serial delivery an event raised while A, B and C are listed is
 * delivered to A first; every delivery then ends in exactly one of an ack,
 * a timeout (only C has a deadline), a withdrawal (a fatal signal during a
 * SIGNAL, FORK or EXEC hold), or a handle's close (none closes here).  So,
 * per event type, over the run:
 *   delivered == acked + withdrawn + timedout                       (1)
 *   3*raised - 2*withdrawn <= delivered <= 3*raised                 (2)
 *   (a withdrawn event stops after 1, 2 or 3 deliveries; any other visits
 *   all three)
 *   lost == 0, held == 0 and no handle has anything waiting          (3)
 * and the subscribers' own tallies agree with the module's:
 *   sum of successful acks == acked; each thread received == its acks +
 *   its ENOENT acks; C's fdinfo timeouts == timedout.
 */
#include "pe_stress.h"

#define PE_STRESS_NG "/usr/bin/stress-ng"

enum { SUB_A, SUB_B, SUB_C, NSUB };

struct sub {
	int fd;
	int kind;
	pthread_t th;
	long long recv, ack_ok, ack_enoent, ack_other, late;
};

static struct sub subs[NSUB];
static volatile int stopping;

#define C_TIMEOUT_NS	(50 * PE_MS)
#define BATCH		32

static void sub_one(struct sub *s, uint64_t *seed)
{
	struct procevent_event ev;
	int r;

	if (ioctl(s->fd, PROCEVENT_IOC_RECV, &ev))
		return;
	s->recv++;
	/* C answers one event in 150 after its deadline: a timeout. */
	if (s->kind == SUB_C && !pe_rand_below(seed, 150)) {
		pe_sleep_us(C_TIMEOUT_NS / 1000 + 30000);
		s->late++;
	}
	r = pe_ack1(s->fd, ev.id);
	if (!r)
		s->ack_ok++;
	else if (r == -ENOENT)
		s->ack_enoent++;
	else
		s->ack_other++;
}

static void sub_batch(struct sub *s)
{
	struct procevent_event ev[BATCH];
	struct procevent_ack ack[BATCH];
	ssize_t n, w;
	int i, k, done;

	n = read(s->fd, ev, sizeof(ev));
	if (n <= 0)
		return;
	k = n / sizeof(ev[0]);
	s->recv += k;
	memset(ack, 0, sizeof(ack));
	for (i = 0; i < k; i++)
		ack[i].id = ev[i].id;
	/* write(2) stops at the first failing ack: resume after it. */
	for (done = 0; done < k; ) {
		w = write(s->fd, ack + done, (k - done) * sizeof(ack[0]));
		if (w > 0) {
			s->ack_ok += w / sizeof(ack[0]);
			done += w / sizeof(ack[0]);
		} else if (w < 0 && errno == ENOENT) {
			s->ack_enoent++;
			done++;
		} else {
			s->ack_other++;
			done++;
		}
	}
}

static void *sub_thread(void *arg)
{
	struct sub *s = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (s->kind + 1);

	for (;;) {
		int r = pe_poll_in(s->fd, 100);

		if (r <= 0) {
			if (stopping)
				break;
			continue;
		}
		if (s->kind == SUB_B)
			sub_batch(s);
		else
			sub_one(s, &seed);
	}
	return NULL;
}

static long long fdinfo_val(int fd, const char *key)
{
	char path[64], line[256], pat[64];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(pat, sizeof(pat), "procevent-%s:", key);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, pat, strlen(pat)))
			v = strtoll(line + strlen(pat), NULL, 0);
	fclose(f);
	return v;
}

int main(void)
{
	int seconds = pe_short() ? 8 : 60;
	struct pe_counters before, after;
	struct pe_tstats d[PE_NTYPES], tot;
	long long recv = 0, ok = 0, enoent = 0, other = 0;
	char tmo[32];
	uint64_t tns = C_TIMEOUT_NS, t0;
	int i, st = -1, r, bal = 1, bounds = 1;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pe_tap_plan(8);
	for (i = 0; i < NSUB; i++) {
		subs[i].kind = i;
		subs[i].fd = pe_subscribe(PE_ALL_TYPES, O_NONBLOCK);
		if (subs[i].fd < 0) {
			pe_diag("subscribe %d: %s", i, strerror(-subs[i].fd));
			pe_tap(0, "load_three_subscribers");
			return pe_tap_exit();
		}
	}
	ioctl(subs[SUB_C].fd, PROCEVENT_IOC_SET_TIMEOUT, &tns);
	pe_tap(1, "load_three_subscribers");

	pe_wait_quiet(&before, 5000);
	for (i = 0; i < NSUB; i++)
		pthread_create(&subs[i].th, NULL, sub_thread, &subs[i]);

	pe_tap(access(PE_STRESS_NG, X_OK) == 0, "load_stress_ng_present");
	snprintf(tmo, sizeof(tmo), "%ds", seconds);
	t0 = pe_now();
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execl(PE_STRESS_NG, "stress-ng", "--temp-path", "/tmp",
		      "--fork", "2", "--clone", "1", "--exit-group", "1",
		      "--pthread", "1", "--signal", "1", "--sigq", "1",
		      "--kill", "1", "--timeout", tmo, "--metrics-brief",
		      (char *)NULL);
		_exit(127);
	}
	/* Bounded: the run plus a minute for stress-ng to wind down. */
	r = pid > 0 ? pe_reap(pid, (seconds + 60) * 1000, &st) : -ECHILD;
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		pe_reap(pid, 10000, &st);
	}
	pe_diag("stress-ng ran %llu s, status 0x%x", (pe_now() - t0) / 1000000000ULL, st);
	pe_tap(!r && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "load_stress_ng_finished_ok");

	r = pe_wait_quiet(&after, 30000);
	stopping = 1;
	for (i = 0; i < NSUB; i++)
		pthread_join(subs[i].th, NULL);
	pe_counters_read(&after);
	pe_tap(!r && after.held == 0 && !after.waiting && !after.received,
	       "load_nothing_held_or_waiting_at_end");
	if (r)
		pe_diag("held=%lld waiting=%lld received=%lld", after.held,
			after.waiting, after.received);

	pe_counters_delta(&before, &after, d);
	pe_counters_diag("load", d);
	pe_sum(d, &tot);
	for (i = 0; i < PE_NTYPES; i++) {
		if (d[i].delivered != d[i].acked + d[i].withdrawn + d[i].timedout)
			bal = 0;
		if (d[i].delivered > 3 * d[i].raised ||
		    d[i].delivered < 3 * d[i].raised - 2 * d[i].withdrawn)
			bounds = 0;
	}
	pe_tap(bal, "load_every_delivery_ends_in_ack_withdrawal_or_timeout");
	pe_tap(bounds, "load_every_event_visits_all_three_unless_withdrawn");
	pe_tap(tot.lost == 0, "load_no_event_lost");

	for (i = 0; i < NSUB; i++) {
		struct sub *s = &subs[i];

		pe_diag("sub %c recv=%lld ack_ok=%lld enoent=%lld other=%lld late=%lld fdinfo_acked=%lld timeouts=%lld",
			'A' + i, s->recv, s->ack_ok, s->ack_enoent,
			s->ack_other, s->late, fdinfo_val(s->fd, "acked"),
			fdinfo_val(s->fd, "timeouts"));
		recv += s->recv;
		ok += s->ack_ok;
		enoent += s->ack_enoent;
		other += s->ack_other;
		if (s->recv != s->ack_ok + s->ack_enoent + s->ack_other ||
		    fdinfo_val(s->fd, "acked") != s->ack_ok)
			other++;
	}
	pe_tap(ok == tot.acked && other == 0 &&
	       enoent <= tot.withdrawn + tot.timedout &&
	       fdinfo_val(subs[SUB_C].fd, "timeouts") == tot.timedout &&
	       fdinfo_val(subs[SUB_A].fd, "timeouts") == 0,
	       "load_subscriber_tallies_match_counters");

	pe_fig("load_seconds", seconds);
	pe_fig("load_events", tot.raised);
	pe_fig("load_deliveries", tot.delivered);
	pe_fig("load_acked", tot.acked);
	pe_fig("load_withdrawn", tot.withdrawn);
	pe_fig("load_timedout", tot.timedout);
	pe_fig("load_lost", tot.lost);
	pe_fig("held_left", after.held);
	for (i = 0; i < NSUB; i++)
		close(subs[i].fd);
	return pe_tap_exit();
}
