// SPDX-License-Identifier: GPL-2.0
/*
 * Memory pressure: in a VM with little memory, a hog takes all but a few
 * megabytes while the workload runs and two subscribers ack everything,
 * and the event pool is shrunk, emptied and refilled under that pressure
 * (pool_size 0, 2, 8, 256).  Events that find no free entry are lost and
 * counted, their tasks are not held; nothing may hang: every workload
 * child is reaped, nothing is held at the end, and every delivery still
 * ends in an ack, a withdrawal or a timeout.
 */
#include "pe_workload.h"

#define MARGIN_KB	(24 * 1024)

static volatile int stopping;

static long mem_available_kb(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Take memory until only MARGIN_KB is available, then sit on it. */
static void hog(void)
{
	long chunks = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		long avail = mem_available_kb();
		char *p;

		if (avail < 0 || avail < MARGIN_KB + 8 * 1024)
			break;
		p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED)
			break;
		memset(p, 1, 4 << 20);
		chunks++;
	}
	printf("# hog holds %ld MB, %ld kB left available\n", chunks * 4,
	       mem_available_kb());
	fflush(stdout);
	for (;;)
		pause();
}

static void *sub_thread(void *arg)
{
	int fd = (int)(long)arg;
	struct procevent_event ev[8];
	struct procevent_ack ack[8];

	while (!stopping) {
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
			ack[i].id = ev[i].id;
			write(fd, &ack[i], sizeof(ack[i]));
		}
	}
	return NULL;
}

int main(void)
{
	static const int pools[] = { 0, 2, 8, 256 };
	int seconds = pe_short() ? 8 : 24, i, r, fd[2], ok = 1;
	struct pe_counters before, after;
	struct pe_tstats d[PE_NTYPES], tot;
	pthread_t th[2];
	struct pe_wl *wl;
	pid_t hp, wp;
	long long pool0 = pe_param_read("pool_size");

	setvbuf(stdout, NULL, _IOLBF, 0);
	pe_tap_plan(5);
	wl = pe_shared(sizeof(*wl));
	pe_diag("MemAvailable %ld kB before the hog", mem_available_kb());
	for (i = 0; i < 2; i++) {
		fd[i] = pe_subscribe(PE_ALL_TYPES, O_NONBLOCK);
		if (fd[i] < 0)
			ok = 0;
	}
	pe_wait_quiet(&before, 5000);
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, sub_thread, (void *)(long)fd[i]);
	fflush(NULL);
	hp = fork();
	if (hp == 0)
		hog();
	while (hp > 0 && mem_available_kb() > MARGIN_KB + 16 * 1024)
		pe_sleep_us(100000);
	wl->par = 8;
	wp = pe_wl_start(wl, 77);
	pe_tap(ok && hp > 0 && wp > 0, "mem_setup_under_pressure");

	for (i = 0; i < seconds; i++) {
		int v = pools[(i / 2) % 4];

		if (i % 2 == 0 && pe_param_write("pool_size", v))
			ok = 0;
		pe_sleep_us(1000000);
	}
	pe_param_write("pool_size", pool0 > 0 ? pool0 : 256);
	pe_tap(ok, "mem_pool_resized_under_pressure");
	r = pe_wl_stop(wl, wp, 60000);
	pe_diag("workload: spawned %lld reaped %lld bad_status %lld fork_failed %lld",
		wl->spawned, wl->reaped, wl->bad_status, wl->fork_failed);
	pe_tap(!r && wl->done && wl->spawned == wl->reaped && !wl->bad_status,
	       "mem_every_workload_process_reaped");
	kill(hp, SIGKILL);
	pe_reap(hp, 10000, NULL);

	r = pe_wait_quiet(&after, 30000);
	stopping = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pe_counters_read(&after);
	pe_counters_delta(&before, &after, d);
	pe_counters_diag("mem", d);
	pe_sum(d, &tot);
	pe_tap(!r && !after.held, "mem_nothing_held_at_end");
	ok = 1;
	for (i = 0; i < PE_NTYPES; i++)
		if (d[i].delivered != d[i].acked + d[i].withdrawn + d[i].timedout)
			ok = 0;
	pe_tap(ok && tot.lost > 0, "mem_losses_counted_and_deliveries_balance");
	pe_fig("mem_events", tot.raised);
	pe_fig("mem_lost", tot.lost);
	pe_fig("held_left", after.held);
	for (i = 0; i < 2; i++)
		close(fd[i]);
	return pe_tap_exit();
}
