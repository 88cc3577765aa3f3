// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzing: several threads issue random ioctl numbers and arguments, bad,
 * unmapped, read-only, kernel and non-canonical pointers, random read and
 * write lengths and random acks (random ids and ids really received, with
 * random flags, alone and with ACK_RECV) on handles of their own and on
 * handles they share, while the built-in workload forks, signals and
 * execs.  At least 1 000 000
 * calls (100 000 in the short run); every return value is checked against
 * what SPEC section 2 allows for that call and those arguments.
 *
 * ioctl numbers the VFS answers before the driver sees them (types 0x00,
 * 0x15, 'T', 'X', 'f' and 0x94: FIOCLEX, FIONBIO, FIGETBSZ, FICLONE,
 * FS_IOC_FIEMAP, ...) are not sent: their errors are not procevent's.
 */
#include "pe_workload.h"

#define NTHREADS	4
#define NOWN		3
#define NSHARED		2
#define BUFSZ		(64 * 1024)
#define PAGE		4096
#define RING		64

enum ptr_kind { P_GOOD, P_RO, P_NULL, P_HOLE, P_KERNEL, P_NONCANON,
		P_STRADDLE, P_NKINDS };

static int shared_fd[NSHARED];
static char *hole;		/* PROT_NONE: every address in it faults */
static char *ro_page;		/* read-only, filled with 0xA5 */
static long long calls_target;
static long long calls_done;			/* atomic */
static long long errno_seen[256 + 1];		/* atomic; [0]: success */
static long long unexpected;			/* atomic */
static long long records_bad;			/* atomic */
static long long ack_recv_calls;		/* atomic */
static int cgroup_fd = -1;

struct th {
	pthread_t th;
	int idx;
	uint64_t seed;
	int own[NOWN];
	char *buf;		/* BUFSZ, then a PROT_NONE guard page */
	uint64_t ids[RING];
	unsigned int nids;
};

static void note_id(struct th *t, uint64_t id)
{
	t->ids[t->nids++ % RING] = id;
}

static uint64_t some_id(struct th *t)
{
	if (t->nids && pe_rand_below(&t->seed, 4))
		return t->ids[pe_rand_below(&t->seed, t->nids < RING ?
						t->nids : RING)];
	switch (pe_rand_below(&t->seed, 4)) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return pe_rand_below(&t->seed, 1000000);
	}
	return pe_rand(&t->seed);
}

/* An argument pointer of a random kind; *good: need bytes read/writable. */
static void *rand_ptr(struct th *t, size_t need, int *kind)
{
	uint64_t r = pe_rand(&t->seed);

	*kind = pe_rand_below(&t->seed, 3) ? P_GOOD :
		pe_rand_below(&t->seed, P_NKINDS);
	switch (*kind) {
	case P_GOOD:
		if (need >= BUFSZ)
			return t->buf;
		return t->buf + r % (BUFSZ - need + 1);
	case P_RO:
		return ro_page + r % (PAGE - (need < PAGE ? need : PAGE - 1));
	case P_NULL:
		return NULL;
	case P_HOLE:
		return hole + r % (1 << 20);
	case P_KERNEL:
		return (void *)(0xffffffff81000000ULL + (r & 0xffffff));
	case P_NONCANON:
		return (void *)(0x8000000000000000ULL ^ (r & 0xffffffffffULL));
	}
	/* P_STRADDLE: the first bytes in the buffer, the rest in the guard. */
	if (need < 2)
		need = 2;
	return t->buf + BUFSZ - 1 - r % (need - 1);
}

static int readable(int kind)
{
	return kind == P_GOOD || kind == P_RO;
}

static void count_result(long r, int e)
{
	int k = r >= 0 ? 0 : (e > 0 && e < 256 ? e : 256);

	__atomic_fetch_add(&errno_seen[k], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&calls_done, 1, __ATOMIC_RELAXED);
}

static void bad(const char *what, long r, int e, unsigned long a,
		unsigned long b)
{
	long long n = __atomic_fetch_add(&unexpected, 1, __ATOMIC_RELAXED);

	if (n < 20)
		pe_diag("unexpected: %s -> %ld errno %d (%s) [%#lx %#lx]",
			what, r, r < 0 ? e : 0, r < 0 ? strerror(e) : "-", a,
			b);
}

static int in(int e, const int *set)
{
	for (; *set; set++)
		if (e == *set)
			return 1;
	return 0;
}

static void check_record(struct th *t, const struct procevent_event *ev)
{
	int ok = ev->size == sizeof(*ev) && ev->id &&
		 ev->type && !(ev->type & (ev->type - 1)) &&
		 !(ev->type & ~PE_ALL_TYPES) && !ev->flags &&
		 memchr(ev->comm, 0, sizeof(ev->comm));

	if (!ok && __atomic_fetch_add(&records_bad, 1, __ATOMIC_RELAXED) < 5)
		pe_diag("bad record: size %u type %#x id %llu flags %#x",
			ev->size, ev->type, (unsigned long long)ev->id,
			ev->flags);
	note_id(t, ev->id);
}

static int vfs_type(unsigned int cmd)
{
	switch (_IOC_TYPE(cmd)) {
	case 0x00: case 0x15: case 'T': case 'X': case 'f': case 0x94:
		return 1;
	}
	return 0;
}

static const unsigned int valid_cmds[] = {
	PROCEVENT_IOC_SET_MASK, PROCEVENT_IOC_RECV, PROCEVENT_IOC_ACK,
	PROCEVENT_IOC_SET_TIMEOUT, PROCEVENT_IOC_SET_SCOPE,
};

/* A valid command with a random argument of the right shape. */
static void op_valid_ioctl(struct th *t, int fd)
{
	static const int recv_ok[] = { EAGAIN, ENOMSG, EINTR, 0 };
	unsigned int which = pe_rand_below(&t->seed, 5);
	unsigned int cmd = valid_cmds[which];
	size_t need = _IOC_SIZE(cmd);
	int kind, e;
	void *p = rand_ptr(t, need, &kind);
	long r;

	/* Fill what the kernel reads with a random value of the right kind. */
	if (kind == P_GOOD) {
		switch (cmd) {
		case PROCEVENT_IOC_SET_MASK: {
			uint32_t m = pe_rand_below(&t->seed, 8) ?
				     pe_rand_below(&t->seed, 16) :
				     (uint32_t)pe_rand(&t->seed);
			memcpy(p, &m, 4);
			break;
		}
		case PROCEVENT_IOC_SET_TIMEOUT: {
			uint64_t v = pe_rand_below(&t->seed, 8) ?
				     pe_rand_below(&t->seed, 100) * PE_MS :
				     pe_rand(&t->seed);
			memcpy(p, &v, 8);
			break;
		}
		case PROCEVENT_IOC_ACK: {
			struct procevent_ack a = { .id = some_id(t) };

			if (!pe_rand_below(&t->seed, 8))
				a.flags = pe_rand_below(&t->seed, 4) ? 1 :
					  (uint32_t)pe_rand(&t->seed);
			if (!pe_rand_below(&t->seed, 16))
				a.reserved = (uint32_t)pe_rand(&t->seed) | 1;
			memcpy(p, &a, sizeof(a));
			break;
		}
		case PROCEVENT_IOC_SET_SCOPE: {
			struct procevent_scope s = {
				.kind = pe_rand_below(&t->seed, 4),
				.fd = (int)pe_rand_below(&t->seed, 3) - 1,
			};
			if (!pe_rand_below(&t->seed, 3))
				s.fd = cgroup_fd;
			else if (!pe_rand_below(&t->seed, 4))
				s.fd = (int)pe_rand_below(&t->seed, 40);
			if (!pe_rand_below(&t->seed, 16))
				s.reserved = pe_rand(&t->seed) | 1;
			memcpy(p, &s, sizeof(s));
			break;
		}
		}
	}
	r = ioctl(fd, cmd, p);
	e = errno;
	count_result(r, e);
	if (r > 0) {
		bad("ioctl returned > 0", r, e, cmd, (unsigned long)p);
		return;
	}
	if (cmd == PROCEVENT_IOC_RECV) {
		/* The kernel writes: only a good buffer takes the record. */
		if (r == 0 && kind == P_GOOD)
			check_record(t, p);
		else if (r == 0 || (!in(e, recv_ok) &&
				    !(e == EFAULT && kind != P_GOOD)))
			bad("RECV", r, e, kind, (unsigned long)p);
		return;
	}
	if (!readable(kind)) {
		if (r != -1 || e != EFAULT)
			bad("ioctl with a bad pointer", r, e, cmd, kind);
		return;
	}
	if (kind == P_RO) {
		/* 0xA5 bytes: bad mask bits, huge timeout, nonzero flags... */
		static const int ro_ok[] = { EINVAL, ENOENT, EBADF, ENOTDIR, 0 };

		if (r && !in(e, ro_ok))
			bad("ioctl from read-only memory", r, e, cmd, 0);
		return;
	}
	switch (cmd) {
	case PROCEVENT_IOC_SET_MASK: {
		uint32_t m;

		memcpy(&m, p, 4);
		if (m & ~PE_ALL_TYPES ? (r != -1 || e != EINVAL) :
		    (r && (e != ENOSPC || !m)))
			bad("SET_MASK", r, e, m, 0);
		break;
	}
	case PROCEVENT_IOC_SET_TIMEOUT: {
		uint64_t v;

		memcpy(&v, p, 8);
		if (v > INT64_MAX ? (r != -1 || e != EINVAL) : r != 0)
			bad("SET_TIMEOUT", r, e, v, 0);
		break;
	}
	case PROCEVENT_IOC_ACK: {
		struct procevent_ack a;

		memcpy(&a, p, sizeof(a));
		if ((a.flags & ~PROCEVENT_ACK_KILL) || a.reserved) {
			if (r != -1 || e != EINVAL)
				bad("ACK bad flags", r, e, a.flags, a.reserved);
		} else if (r && e != ENOENT && !(e == EINVAL && a.flags)) {
			bad("ACK", r, e, a.id, a.flags);
		}
		break;
	}
	case PROCEVENT_IOC_SET_SCOPE: {
		struct procevent_scope s;

		memcpy(&s, p, sizeof(s));
		if (s.reserved || s.kind > PROCEVENT_SCOPE_PIDNS ||
		    (s.kind == PROCEVENT_SCOPE_PIDNS && s.fd != -1)) {
			if (r != -1 || e != EINVAL)
				bad("SET_SCOPE invalid", r, e, s.kind, s.fd);
		} else if (s.kind != PROCEVENT_SCOPE_CGROUP) {
			if (r)
				bad("SET_SCOPE", r, e, s.kind, s.fd);
		} else if (s.fd == cgroup_fd) {
			if (r)
				bad("SET_SCOPE cgroup", r, e, s.kind, s.fd);
		} else if (r && e != EBADF && e != ENOTDIR) {
			bad("SET_SCOPE cgroup fd", r, e, s.kind, s.fd);
		}
		break;
	}
	}
}

/* PROCEVENT_IOC_GET_INFO, of any size from the first version's on. */
static int is_get_info(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == PROCEVENT_IOC_MAGIC &&
	       _IOC_NR(cmd) == _IOC_NR(PROCEVENT_IOC_GET_INFO) &&
	       _IOC_DIR(cmd) == _IOC_READ &&
	       _IOC_SIZE(cmd) >= PROCEVENT_INFO_SIZE_VER0;
}

/*
 * GET_INFO writes _IOC_SIZE(cmd) bytes: into a buffer that large (0), or
 * through a bad pointer (EFAULT).
 */
static void op_get_info(struct th *t, int fd, unsigned int cmd)
{
	static __thread unsigned char info[1 << _IOC_SIZEBITS];
	int good = pe_rand_below(&t->seed, 2);
	long r;
	int e;

	r = ioctl(fd, cmd, good ? (void *)info : (void *)16);
	e = errno;
	count_result(r, e);
	if (good ? r != 0 : (r != -1 || e != EFAULT))
		bad("get_info", r, e, cmd, 0);
}

/* PROCEVENT_IOC_ACK_RECV, of any size from the first version's on. */
static int is_ack_recv(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == PROCEVENT_IOC_MAGIC &&
	       _IOC_NR(cmd) == _IOC_NR(PROCEVENT_IOC_ACK_RECV) &&
	       _IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE) &&
	       _IOC_SIZE(cmd) >= PROCEVENT_ACK_RECV_SIZE_VER0;
}

/*
 * ACK_RECV with a random ack: through a bad pointer EFAULT; with bad
 * flags EINVAL; else ACK's errors or RECV's (the handles are
 * non-blocking), and a received record is well formed.
 */
static void op_ack_recv(struct th *t, int fd, unsigned int cmd)
{
	static const int ok[] = { ENOENT, EINVAL, EPERM, EAGAIN, ENOMSG,
				  EINTR, 0 };
	static __thread unsigned char buf[1 << _IOC_SIZEBITS];
	struct procevent_ack_recv ar = { .ack.id = some_id(t) };
	int good = pe_rand_below(&t->seed, 4) != 0;
	int bad_flags;
	long r;
	int e;

	if (!pe_rand_below(&t->seed, 8))
		ar.ack.id = 0;
	if (!pe_rand_below(&t->seed, 8))
		ar.ack.flags = pe_rand_below(&t->seed, 4) ? 1 :
			       (uint32_t)pe_rand(&t->seed);
	if (!pe_rand_below(&t->seed, 16))
		ar.ack.reserved = (uint32_t)pe_rand(&t->seed) | 1;
	if (!pe_rand_below(&t->seed, 16))
		ar.flags = (uint32_t)pe_rand(&t->seed);
	ar.acked = (uint32_t)pe_rand(&t->seed);
	memset(buf, 0xa5, _IOC_SIZE(cmd));
	memcpy(buf, &ar, sizeof(ar));
	bad_flags = (ar.flags & ~PROCEVENT_ACK_RECV_NONBLOCK) ||
		    ar.ack.reserved || (ar.ack.flags & ~PROCEVENT_ACK_KILL) ||
		    (!ar.ack.id && ar.ack.flags);
	r = ioctl(fd, cmd, good ? (void *)buf : (void *)16);
	e = errno;
	count_result(r, e);
	__atomic_fetch_add(&ack_recv_calls, 1, __ATOMIC_RELAXED);
	if (!good) {
		if (r != -1 || e != EFAULT)
			bad("ACK_RECV bad pointer", r, e, cmd, 0);
		return;
	}
	memcpy(&ar, buf, sizeof(ar));
	if (bad_flags) {
		if (r != -1 || e != EINVAL)
			bad("ACK_RECV bad flags", r, e, ar.flags, ar.ack.flags);
		return;
	}
	if (r > 0 || (r && !in(e, ok)) || ar.acked > 1 ||
	    (ar.acked && !ar.ack.id))
		bad("ACK_RECV", r, e, ar.acked, ar.ack.id);
	else if (r == 0)
		check_record(t, &ar.event);
}

/* A random command number: unknown ones must be ENOTTY. */
static void op_random_ioctl(struct th *t, int fd)
{
	unsigned int cmd, i;
	int kind, e;
	unsigned long arg;
	long r;

	do {
		switch (pe_rand_below(&t->seed, 3)) {
		case 0:
			cmd = (uint32_t)pe_rand(&t->seed);
			break;
		case 1:
			cmd = _IOC(pe_rand_below(&t->seed, 4),
				   PROCEVENT_IOC_MAGIC,
				   pe_rand_below(&t->seed, 16),
				   pe_rand_below(&t->seed, 200));
			break;
		default:
			cmd = valid_cmds[pe_rand_below(&t->seed, 5)] ^
			      (1u << pe_rand_below(&t->seed, 32));
		}
	} while (vfs_type(cmd));
	for (i = 0; i < 5; i++)
		if (cmd == valid_cmds[i])
			return op_valid_ioctl(t, fd);
	if (is_get_info(cmd))
		return op_get_info(t, fd, cmd);
	if (is_ack_recv(cmd))
		return op_ack_recv(t, fd, cmd);
	arg = pe_rand_below(&t->seed, 2) ?
	      (unsigned long)rand_ptr(t, 256, &kind) : pe_rand(&t->seed);
	r = ioctl(fd, cmd, arg);
	e = errno;
	count_result(r, e);
	if (r != -1 || e != ENOTTY)
		bad("unknown ioctl", r, e, cmd, arg);
}

static size_t rand_len(struct th *t, size_t unit)
{
	switch (pe_rand_below(&t->seed, 10)) {
	case 0:
		return pe_rand(&t->seed);
	case 1: case 2: case 3:
		return unit * pe_rand_below(&t->seed, BUFSZ / unit + 2);
	}
	return pe_rand_below(&t->seed, 1024);
}

static void op_read(struct th *t, int fd)
{
	size_t len = rand_len(t, sizeof(struct procevent_event));
	int kind, e, i;
	char *p = rand_ptr(t, len, &kind);
	int whole = kind == P_GOOD && p + len <= t->buf + BUFSZ;
	ssize_t r = read(fd, p, len);

	e = errno;
	count_result(r, e);
	if (r >= 0) {
		if (r % sizeof(struct procevent_event) || (size_t)r > len ||
		    (r && len < sizeof(struct procevent_event)))
			bad("read count", r, e, len, kind);
		else if (kind == P_GOOD)
			for (i = 0; i < r / (int)sizeof(struct procevent_event); i++)
				check_record(t, (void *)(p + i * sizeof(struct procevent_event)));
		return;
	}
	if (len > (size_t)INT64_MAX && (e == EINVAL || e == EFAULT))
		return;
	if (len < sizeof(struct procevent_event)) {
		if (e != EINVAL && !(e == EFAULT && !whole))
			bad("read short", r, e, len, kind);
		return;
	}
	if (e != EAGAIN && e != EINTR && !(e == EFAULT && !whole))
		bad("read", r, e, len, kind);
}

static void op_write(struct th *t, int fd)
{
	size_t len = rand_len(t, sizeof(struct procevent_ack)), i;
	int kind, e;
	char *p = rand_ptr(t, len, &kind);
	int whole = (kind == P_GOOD && p + len <= t->buf + BUFSZ) ||
		    (kind == P_RO && len <= PAGE &&
		     p + len <= ro_page + PAGE);
	ssize_t r;

	if (kind == P_GOOD && whole) {
		for (i = 0; i + 16 <= len && i < 16 * 8; i += 16) {
			struct procevent_ack a = { .id = some_id(t) };

			if (!pe_rand_below(&t->seed, 16))
				a.flags = 1;
			memcpy(p + i, &a, sizeof(a));
		}
	}
	r = write(fd, p, len);
	e = errno;
	count_result(r, e);
	if (r >= 0) {
		if (r % 16 || (size_t)r > len)
			bad("write count", r, e, len, kind);
		return;
	}
	if (len > (size_t)INT64_MAX && (e == EINVAL || e == EFAULT))
		return;
	if (len % 16) {
		if (e != EINVAL && !(e == EFAULT && !whole))
			bad("write length", r, e, len, kind);
		return;
	}
	if (e != ENOENT && e != EINVAL && !(e == EFAULT && !whole))
		bad("write", r, e, len, kind);
}

/* Receive everything waiting and ack it properly. */
static void op_drain(struct th *t, int fd)
{
	struct procevent_event *ev = (void *)t->buf;
	struct procevent_ack ack[64];
	ssize_t n = read(fd, ev, 64 * sizeof(*ev));
	int e = errno, k, i;

	count_result(n, e);
	if (n < 0) {
		if (e != EAGAIN && e != EINTR)
			bad("drain read", n, e, 0, 0);
		return;
	}
	k = n / sizeof(*ev);
	memset(ack, 0, sizeof(ack));
	for (i = 0; i < k; i++) {
		check_record(t, &ev[i]);
		ack[i].id = ev[i].id;
	}
	for (i = 0; i < k; i++) {
		/* Ack one at a time: another thread may answer one first. */
		ssize_t w = write(fd, &ack[i], sizeof(ack[i]));

		e = errno;
		count_result(w, e);
		if (w != sizeof(ack[i]) && !(w < 0 && e == ENOENT))
			bad("drain ack", w, e, ack[i].id, 0);
	}
}

static int open_own(struct th *t)
{
	int fd = open(PE_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	uint64_t tmo = 20 * PE_MS;

	count_result(fd, errno);
	if (fd < 0) {
		bad("open", fd, errno, 0, 0);
		return -1;
	}
	ioctl(fd, PROCEVENT_IOC_SET_TIMEOUT, &tmo);
	return fd;
}

static void *fuzz_thread(void *arg)
{
	struct th *t = arg;
	int i;

	for (i = 0; i < NOWN; i++)
		t->own[i] = open_own(t);
	while (__atomic_load_n(&calls_done, __ATOMIC_RELAXED) < calls_target) {
		unsigned int o = pe_rand_below(&t->seed, 100);
		int slot = pe_rand_below(&t->seed, NOWN);
		int fd = pe_rand_below(&t->seed, 10) < 3 ?
			 shared_fd[pe_rand_below(&t->seed, NSHARED)] :
			 t->own[slot];

		if (fd < 0) {
			t->own[slot] = open_own(t);
			continue;
		}
		if (o < 30) {
			op_random_ioctl(t, fd);
		} else if (o < 54) {
			op_valid_ioctl(t, fd);
		} else if (o < 60) {
			op_ack_recv(t, fd, PROCEVENT_IOC_ACK_RECV);
		} else if (o < 72) {
			op_read(t, fd);
		} else if (o < 84) {
			op_write(t, fd);
		} else if (o < 88) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int r = poll(&p, 1, 0);

			count_result(r, errno);
			if (r < 0 || (r && (p.revents & ~(POLLIN | POLLRDNORM))))
				bad("poll", r, errno, p.revents, 0);
		} else if (o < 96) {
			op_drain(t, fd);
		} else if (o < 98 && fd == t->own[slot]) {
			int r = close(fd);

			count_result(r, errno);
			if (r)
				bad("close", r, errno, 0, 0);
			t->own[slot] = open_own(t);
		} else {
			op_drain(t, shared_fd[pe_rand_below(&t->seed,
							    NSHARED)]);
		}
	}
	for (i = 0; i < NOWN; i++)
		if (t->own[i] >= 0)
			close(t->own[i]);
	return NULL;
}

int main(void)
{
	static const char * const names[] = {
		[0] = "ok", [EPERM] = "EPERM", [ENOENT] = "ENOENT",
		[EINTR] = "EINTR", [EBADF] = "EBADF", [EAGAIN] = "EAGAIN",
		[EFAULT] = "EFAULT", [ENOTDIR] = "ENOTDIR",
		[EINVAL] = "EINVAL", [ENOSPC] = "ENOSPC", [ENOTTY] = "ENOTTY",
		[ENOMSG] = "ENOMSG",
	};
	struct pe_counters before, after;
	struct pe_tstats d[PE_NTYPES], tot;
	static struct th th[NTHREADS];
	struct pe_wl *wl;
	uint64_t t0;
	pid_t wpid;
	int i, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pe_tap_plan(5);
	calls_target = pe_short() ? 100000 : 1000000;
	hole = mmap(NULL, 1 << 20, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ro_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	wl = pe_shared(sizeof(*wl));
	if (hole == MAP_FAILED || ro_page == MAP_FAILED || !wl)
		return 1;
	memset(ro_page, 0xA5, PAGE);
	mprotect(ro_page, PAGE, PROT_READ);
	cgroup_fd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	pe_counters_read(&before);
	wl->par = 4;
	wl->allow_kill = 1;
	wpid = pe_wl_start(wl, 0xf00d);
	for (i = 0; i < NSHARED; i++) {
		uint64_t tmo = 20 * PE_MS;

		shared_fd[i] = pe_subscribe(PE_ALL_TYPES, O_NONBLOCK);
		ioctl(shared_fd[i], PROCEVENT_IOC_SET_TIMEOUT, &tmo);
	}
	pe_tap(wpid > 0 && shared_fd[0] >= 0 && shared_fd[1] >= 0,
	       "fuzz_setup");

	t0 = pe_now();
	for (i = 0; i < NTHREADS; i++) {
		char *m = mmap(NULL, BUFSZ + PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		mprotect(m + BUFSZ, PAGE, PROT_NONE);
		th[i].buf = m;
		th[i].idx = i;
		th[i].seed = 0x1234567ULL * (i + 1) ^ (uint64_t)getpid();
		pthread_create(&th[i].th, NULL, fuzz_thread, &th[i]);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i].th, NULL);
	for (i = 0; i < NSHARED; i++)
		close(shared_fd[i]);
	pe_diag("%lld calls in %llu ms from %d threads", calls_done,
		(pe_now() - t0) / PE_MS, NTHREADS);
	for (i = 0; i <= 256; i++)
		if (errno_seen[i])
			pe_diag("  %-8s %lld", i < (int)(sizeof(names) / sizeof(names[0])) && names[i] ? names[i] : "other",
				errno_seen[i]);
	pe_tap(calls_done >= calls_target, "fuzz_call_target_reached");
	pe_tap(!unexpected && !records_bad,
	       "fuzz_every_return_value_allowed_by_spec");

	r = pe_wl_stop(wl, wpid, 30000);
	pe_diag("workload: spawned %lld reaped %lld killed %lld bad_status %lld",
		wl->spawned, wl->reaped, wl->killed, wl->bad_status);
	pe_tap(!r && wl->done && wl->spawned == wl->reaped && !wl->bad_status,
	       "fuzz_workload_reaped");
	r = pe_wait_quiet(&after, 10000);
	pe_counters_delta(&before, &after, d);
	pe_counters_diag("fuzz", d);
	pe_sum(d, &tot);
	pe_tap(!r && !after.held && !after.nsubs && !tot.lost,
	       "fuzz_nothing_held_or_lost_at_end");

	pe_fig("fuzz_calls", calls_done);
	pe_fig("fuzz_ack_recv_calls", ack_recv_calls);
	pe_fig("fuzz_unexpected", unexpected + records_bad);
	for (i = 0; i <= 256; i++) {
		char key[48];

		if (!errno_seen[i] || !i)
			continue;
		snprintf(key, sizeof(key), "fuzz_errno_%s",
			 i < (int)(sizeof(names) / sizeof(names[0])) && names[i] ? names[i] : "other");
		pe_fig(key, errno_seen[i]);
	}
	pe_fig("fuzz_ok", errno_seen[0]);
	pe_fig("fuzz_events", tot.raised);
	pe_fig("fuzz_lost", tot.lost);
	pe_fig("held_left", after.held);
	return pe_tap_exit();
}
