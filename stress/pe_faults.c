// SPDX-License-Identifier: GPL-2.0
/*
 * Faults: 10 000 events (1 500 in the short run) while the subscribers are
 * SIGKILLed and restarted at random points, and a recorder that proves no
 * event skipped a subscriber.
 *
 * Three subscriber processes ("incarnations") are alive at a time.  The
 * controller (this process, not a subscriber) starts them one at a time and
 * waits until each has subscribed, so the order of incarnations is the
 * order of the kernel's list.  Each incarnation logs every event it
 * receives (id, type, tgid, raise time, receive time, ack times and the ack
 * result) into memory shared with the controller: the recorder is the
 * subscribers themselves, so no extra process can be held in the middle of
 * recording.  Incarnations die:
 *   - by their own SIGKILL with events queued and not received,
 *   - by their own SIGKILL after RECV, before the ACK,
 *   - by their own SIGKILL between the acks of a write(2) batch,
 *   - by the controller's SIGKILL at random times;
 * each death is replaced by a new incarnation that joins at the end.
 *
 * The check, per event id, over the incarnations that received it (a, b
 * consecutive receivers, f the first, l the last):
 *   - receivers come in list order, none twice;
 *   - an incarnation c between a and b in list order was dead before b
 *     received the event (it was SIGKILLed before that moment);
 *   - an incarnation c before f that had joined before the event was raised
 *     was SIGKILLed before f received it;
 *   - an incarnation c after l that lived to the end received it when it
 *     had joined before the event could leave l, and the event surely
 *     reached it before its last poll, the one that found nothing (after
 *     it, a survivor closes its handle): see check_after_last().
 * Every ack succeeds (nothing here times out or withdraws), every workload
 * child is reaped with the status it chose, nothing stays held, nothing is
 * lost; the deliveries that ended in a close are delivered - acked -
 * withdrawn - timedout (the module has no counter for them).
 */
#include "pe_workload.h"

#define NSUB		3
#define MAXINC		2048
#define MAXREC		400000
#define ACK_NONE	1

struct inc {
	uint64_t t_join;	/* after SET_MASK returned */
	uint64_t t_kill;	/* before the SIGKILL was sent; 0: survived */
	uint64_t t_gone;	/* reaped by the controller; 0: not seen */
	uint64_t t_poll;	/* before its latest poll */
	pid_t pid;
	int mode;		/* 0: RECV/ACK, 1: read/write batches */
	volatile int joined;
	volatile int survived;	/* closed its handle at the end, t_kill then */
};

struct rec {
	uint64_t id, time_ns, t_recv, t_ack0, t_ack1;
	uint32_t inc, type;
	int32_t tgid;
	volatile int32_t ack;	/* ACK_NONE, 0 or -errno */
	volatile int32_t valid;	/* written last: a kill can land mid-record */
};

struct shm {
	volatile int stop;
	int ninc;
	struct inc inc[MAXINC];
	long nrec;		/* atomic */
	long kills_queued, kills_received, kills_batch, kills_external;
	struct pe_wl wl;
	struct rec rec[MAXREC];
};

static struct shm *shm;

static struct rec *rec_new(int inc, const struct procevent_event *ev)
{
	long i = __atomic_fetch_add(&shm->nrec, 1, __ATOMIC_RELAXED);
	struct rec *r;

	if (i >= MAXREC)
		return NULL;
	r = &shm->rec[i];
	r->id = ev->id;
	r->time_ns = ev->time_ns;
	r->type = ev->type;
	r->tgid = ev->tgid;
	r->inc = inc;
	r->ack = ACK_NONE;
	r->t_recv = pe_now();
	__atomic_store_n(&r->valid, 1, __ATOMIC_RELEASE);
	return r;
}

/* The first kill of an incarnation sets its time: a lower bound of death. */
static void mark_kill(int inc)
{
	uint64_t zero = 0;

	__atomic_compare_exchange_n(&shm->inc[inc].t_kill, &zero, pe_now(),
				    0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static void die(int inc, long *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	mark_kill(inc);
	raise(SIGKILL);
}

static void ack_rec(int fd, struct rec *r)
{
	if (!r)
		return;
	r->t_ack0 = pe_now();
	r->ack = pe_ack1(fd, r->id);
	r->t_ack1 = pe_now();
}

/* One incarnation: subscribe, log, ack, and sometimes die. */
static void sub_main(int inc, uint64_t seed)
{
	struct procevent_event ev[16];
	struct rec *rs[16];
	int fd, mode = shm->inc[inc].mode;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = pe_subscribe(PE_ALL_TYPES, O_NONBLOCK);
	if (fd < 0)
		_exit(2);
	shm->inc[inc].t_join = pe_now();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	shm->inc[inc].joined = 1;

	for (;;) {
		int r;

		shm->inc[inc].t_poll = pe_now();
		r = pe_poll_in(fd, 50);

		if (r <= 0) {
			if (shm->stop)
				break;
			continue;
		}
		if (!pe_rand_below(&seed, 2000)) {
			/* Let events pile up on the handle, then die. */
			pe_sleep_us(10000);
			die(inc, &shm->kills_queued);
		}
		if (mode == 0) {
			if (ioctl(fd, PROCEVENT_IOC_RECV, &ev[0]))
				continue;
			rs[0] = rec_new(inc, &ev[0]);
			if (!pe_rand_below(&seed, 1500))
				die(inc, &shm->kills_received);
			ack_rec(fd, rs[0]);
		} else {
			ssize_t n = read(fd, ev, sizeof(ev));
			int k, i;

			if (n <= 0)
				continue;
			k = n / sizeof(ev[0]);
			for (i = 0; i < k; i++)
				rs[i] = rec_new(inc, &ev[i]);
			/* Acks one by one through write(2), to die between. */
			for (i = 0; i < k; i++) {
				struct procevent_ack a = { .id = ev[i].id };

				if (i && !pe_rand_below(&seed, 300))
					die(inc, &shm->kills_batch);
				if (!rs[i]) {
					write(fd, &a, sizeof(a));
					continue;
				}
				rs[i]->t_ack0 = pe_now();
				rs[i]->ack = write(fd, &a, sizeof(a)) ==
					     sizeof(a) ? 0 : -errno;
				rs[i]->t_ack1 = pe_now();
			}
		}
	}
	/* From here on it is an ordinary process: its exit is an event. */
	shm->inc[inc].survived = 1;
	mark_kill(inc);
	close(fd);
	_exit(0);
}

/* Start incarnation number shm->ninc and wait until it has subscribed. */
static int start_inc(uint64_t *seed)
{
	int inc = shm->ninc;
	uint64_t end;
	pid_t pid;

	if (inc >= MAXINC)
		return -ENOSPC;
	shm->inc[inc].mode = pe_rand_below(seed, 2);
	shm->ninc++;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		sub_main(inc, pe_rand(seed) | 1);
	shm->inc[inc].pid = pid;
	end = pe_now() + 10000 * PE_MS;
	while (!shm->inc[inc].joined) {
		if (pe_now() > end || waitpid(pid, NULL, WNOHANG) == pid)
			return -ETIMEDOUT;
		pe_sleep_us(500);
	}
	return inc;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->t_recv != y->t_recv)
		return x->t_recv < y->t_recv ? -1 : 1;
	return 0;
}

static int killed_before(int c, uint64_t t)
{
	return shm->inc[c].t_kill && shm->inc[c].t_kill < t;
}

/*
 * After the last receiver l of the event g: the event left l during l's
 * ack call (t_ack0 to t_ack1) or, when l did not ack, between l's kill and
 * its reaping (a handle is closed before the parent can reap the
 * process).  It then went on in list order, passing over the process it
 * is about; each later incarnation it reached, it left at the latest when
 * that one was reaped.  So it was queued to a survivor c, if c was listed
 * then, by "by" below; a poll that began after that finds it.
 *
 * Only these bounds are known, and the end of the run needs them: the
 * survivors close their handles while the others still ack the survivors'
 * exits.  An ack that lands after a survivor's close passes it over, and
 * an event queued to a survivor after its last poll moves on at its close
 * (SPEC 4.1, 4.3): neither reaches it, legitimately.
 */
static void check_after_last(const struct rec *g, const struct rec *l,
			     long *bad)
{
	const struct inc *li = &shm->inc[l->inc];
	uint64_t from = l->ack == 0 ? l->t_ack0 : li->t_kill;
	uint64_t by = l->ack == 0 ? l->t_ack1 : li->t_gone;
	int c;

	if (!from)
		return;
	for (c = l->inc + 1; c < shm->ninc && by; c++) {
		const struct inc *ci = &shm->inc[c];

		if (ci->pid == g->tgid)
			continue;
		if (ci->survived && ci->t_join < from && by < ci->t_poll &&
		    (*bad)++ < 10)
			pe_diag("event %llu: last receiver #%u, never reached survivor #%d",
				(unsigned long long)g->id, l->inc, c);
		/* It left c when c was reaped, at the latest. */
		if (!ci->t_gone)
			by = 0;
		else if (ci->t_gone > by)
			by = ci->t_gone;
	}
}

/* The recorder's verdict; returns the number of violations. */
static long check_records(long n, long *events, long *ack_errors)
{
	long i, j, bad = 0;

	/* Drop slots a kill left unwritten. */
	for (i = j = 0; i < n; i++)
		if (shm->rec[i].valid)
			shm->rec[j++] = shm->rec[i];
	n = j;
	qsort(shm->rec, n, sizeof(shm->rec[0]), cmp_rec);
	*events = 0;
	*ack_errors = 0;
	for (i = 0; i < n; i = j) {
		struct rec *g = &shm->rec[i];
		long k, m;
		int c;

		for (j = i; j < n && shm->rec[j].id == g->id; j++)
			if (shm->rec[j].ack != 0 &&
			    shm->rec[j].ack != ACK_NONE)
				(*ack_errors)++;
		m = j - i;
		(*events)++;
		/* Before the first receiver. */
		for (c = 0; c < (int)g[0].inc; c++)
			if (shm->inc[c].joined && shm->inc[c].pid != g->tgid &&
			    shm->inc[c].t_join < g[0].time_ns &&
			    !killed_before(c, g[0].t_recv)) {
				if (bad++ < 10)
					pe_diag("event %llu: first receiver #%u, but #%d was listed since before it was raised and alive",
						(unsigned long long)g->id,
						g[0].inc, c);
			}
		for (k = 1; k < m; k++) {
			if (g[k].inc <= g[k - 1].inc) {
				if (bad++ < 10)
					pe_diag("event %llu: #%u received it after #%u",
						(unsigned long long)g->id,
						g[k].inc, g[k - 1].inc);
				continue;
			}
			for (c = g[k - 1].inc + 1; c < (int)g[k].inc; c++)
				if (shm->inc[c].pid != g->tgid &&
				    !killed_before(c, g[k].t_recv) &&
				    bad++ < 10)
					pe_diag("event %llu: skipped #%d between #%u and #%u",
						(unsigned long long)g->id, c,
						g[k - 1].inc, g[k].inc);
		}
		check_after_last(g, &g[m - 1], &bad);
	}
	return bad;
}

int main(void)
{
	long long target = pe_short() ? 1500 : 10000;
	uint64_t seed = 0x5eed0f0f5eedULL ^ (uint64_t)getpid();
	struct pe_counters before, now, after;
	struct pe_tstats d[PE_NTYPES], tot;
	uint64_t next_kill, t0, deadline;
	int live[NSUB], i, r, ok = 1;
	long events = 0, ack_errors = 0, bad, nrec;
	long restarts = 0;
	pid_t wl;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pe_tap_plan(7);
	shm = pe_shared(sizeof(*shm));
	if (!shm) {
		pe_tap(0, "faults_setup");
		return pe_tap_exit();
	}
	pe_counters_read(&before);
	for (i = 0; i < NSUB; i++) {
		live[i] = start_inc(&seed);
		if (live[i] < 0)
			ok = 0;
	}
	shm->wl.par = 4;
	wl = pe_wl_start(&shm->wl, pe_rand(&seed));
	pe_tap(ok && wl > 0, "faults_setup");
	if (!ok || wl < 0)
		return pe_tap_exit();

	t0 = pe_now();
	/* A debug kernel (PROCEVENT_SLOW) raised 1171 in 120 s, loaded. */
	deadline = t0 + (pe_short() ? 120 : 400) * 1000 * PE_MS *
		   (getenv("PROCEVENT_SLOW") ? 3 : 1);
	next_kill = t0 + (50 + pe_rand_below(&seed, 250)) * PE_MS;
	for (;;) {
		pe_counters_read(&now);
		pe_counters_delta(&before, &now, d);
		pe_sum(d, &tot);
		if (tot.raised >= target || pe_now() > deadline)
			break;
		/* Replace the dead; sometimes kill one from outside. */
		for (i = 0; i < NSUB; i++) {
			int c = live[i];

			if (waitpid(shm->inc[c].pid, NULL, WNOHANG) !=
			    shm->inc[c].pid)
				continue;
			shm->inc[c].t_gone = pe_now();
			live[i] = start_inc(&seed);
			restarts++;
			if (live[i] < 0) {
				ok = 0;
				goto out;
			}
		}
		if (pe_now() >= next_kill) {
			int c = live[pe_rand_below(&seed, NSUB)];

			__atomic_fetch_add(&shm->kills_external, 1,
					   __ATOMIC_RELAXED);
			mark_kill(c);
			kill(shm->inc[c].pid, SIGKILL);
			next_kill = pe_now() +
				    (50 + pe_rand_below(&seed, 250)) * PE_MS;
		}
		pe_sleep_us(3000);
	}
out:
	pe_diag("raised %lld events in %llu ms, %ld restarts", tot.raised,
		(pe_now() - t0) / PE_MS, restarts);
	pe_tap(ok && tot.raised >= target, "faults_reached_event_target");

	/* Stop the workload; every child must be reaped. */
	r = pe_wl_stop(&shm->wl, wl, 30000);
	pe_diag("workload: spawned %lld reaped %lld bad_status %lld",
		shm->wl.spawned, shm->wl.reaped, shm->wl.bad_status);
	pe_tap(!r && shm->wl.done && shm->wl.spawned == shm->wl.reaped &&
	       !shm->wl.bad_status, "faults_every_workload_process_reaped");

	r = pe_wait_quiet(&after, 30000);
	shm->stop = 1;
	for (i = 0; i < NSUB; i++)
		if (pe_reap(shm->inc[live[i]].pid, 10000, NULL))
			r = -ETIMEDOUT;
		else
			shm->inc[live[i]].t_gone = pe_now();
	pe_counters_read(&after);
	pe_tap(!r && !after.held && !after.nsubs,
	       "faults_nothing_held_at_end");

	pe_counters_delta(&before, &after, d);
	pe_counters_diag("faults", d);
	pe_sum(d, &tot);
	pe_tap(tot.lost == 0, "faults_no_event_lost");

	nrec = shm->nrec;
	if (nrec > MAXREC) {
		pe_diag("record area overflowed (%ld)", nrec);
		nrec = MAXREC;
	}
	bad = check_records(nrec, &events, &ack_errors);
	pe_diag("recorder: %ld records of %ld events from %d incarnations, %ld violations, %ld failed acks",
		nrec, events, shm->ninc, bad, ack_errors);
	pe_tap(!bad && shm->nrec <= MAXREC,
	       "faults_every_event_reached_every_live_subscriber_in_order");
	pe_tap(!ack_errors && tot.delivered >= tot.acked + tot.withdrawn +
	       tot.timedout, "faults_every_ack_accepted_and_counters_balance");

	pe_fig("faults_events", tot.raised);
	pe_fig("faults_deliveries", tot.delivered);
	pe_fig("faults_closed_moves",
	       tot.delivered - tot.acked - tot.withdrawn - tot.timedout);
	pe_fig("faults_kills", shm->kills_queued + shm->kills_received +
	       shm->kills_batch + shm->kills_external);
	pe_fig("faults_kills_queued", shm->kills_queued);
	pe_fig("faults_kills_received", shm->kills_received);
	pe_fig("faults_kills_batch", shm->kills_batch);
	pe_fig("faults_kills_external", shm->kills_external);
	pe_fig("faults_violations", bad);
	pe_fig("faults_lost", tot.lost);
	pe_fig("held_left", after.held);
	return pe_tap_exit();
}
