/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal FUSE file system for the procevent selftests: a root directory
 * holding one empty regular file, served by a thread of the test process,
 * that can HOLD every FLUSH request (leave it unanswered) until the test
 * releases it.
 *
 * A task that has the file open and exits closes it in exit_files(), after
 * the exit tracepoint and before the exit's task work: with its FLUSH held
 * it waits there as long as the test likes.  That is how the tests put the
 * probe of an exit and its hold far apart in time (SPEC 9.1, 9.7).
 *
 * Written from the protocol in <linux/fuse.h>.  INIT, LOOKUP, GETATTR,
 * OPEN, READ (always 0 bytes), FLUSH and RELEASE are answered; FORGET,
 * BATCH_FORGET and INTERRUPT take no answer; everything else gets ENOSYS.
 *
 * The kernel sends FLUSH as a forced request: the closing task waits for
 * the answer uninterruptibly, killed or not (so does any task whose request
 * the server has read and not answered).  A test must release well within
 * the hung-task timeout (60 s, and a panic, on the debug kernel).
 * Stopping the server, or the end of the test process, closes /dev/fuse,
 * which aborts the connection and ends every request still held; for that
 * no other process may keep a copy of the descriptor, so a fork handler
 * closes it in every child.
 *
 * The kernel copies a request into the server's buffer, and a reply out of
 * it, through page references it takes first (get_user_pages).  A fork by
 * another thread of the test in between makes the page copy-on-write, and
 * the server may then read a stale copy: it answers an old request again
 * (ENOENT) and never the new one, whose task waits forever.  So both
 * buffers are MADV_DONTFORK (a child gets no copy of them at all) or, on
 * a kernel without madvise() (tinyconfig), shared mappings, which a fork
 * shares instead of copying.
 *
 * Usage: pe_fuse_start() (-ENODEV: FUSE is missing, the reason is in
 * ->why; the test must SKIP), open ->path in the tasks to stall, watch
 * pe_fuse_held(), pe_fuse_release(), and pe_fuse_stop() in the teardown.
 */
#ifndef PROCEVENT_FUSE_H
#define PROCEVENT_FUSE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/fuse.h>

/* The booted kernel's fuse module, when FUSE is one (selftests/vm/run.sh). */
#define PE_FUSE_KO	"/lib/fuse.ko"
#define PE_FUSE_DEV	"/dev/fuse"
#define PE_FUSE_NAME	"file"
#define PE_FUSE_INO	2
/* Above FUSE_MIN_READ_BUFFER and max_write plus the WRITE header. */
#define PE_FUSE_BUFSZ	(128 * 1024)
/* The largest reply: a header and a fuse_entry_out. */
#define PE_FUSE_OUTSZ	4096
#define PE_FUSE_MAX_WRITE 4096

struct pe_fuse {
	int live;		/* started and not stopped yet */
	int fd;			/* /dev/fuse, -1 when stopped */
	int stop[2];		/* a byte on stop[1] ends the server */
	int mounted;
	int running;		/* the server thread exists */
	pthread_t th;
	char *in;		/* requests, read by the server (DONTFORK) */
	char *out;		/* (wlock) a reply being written (DONTFORK) */
	pthread_mutex_t wlock;
	pthread_mutex_t lock;
	int hold;		/* (lock) hold FLUSH requests */
	uint64_t *held;		/* (lock) their unique ids */
	int nheld, cap;		/* (lock) */
	long long flushes;	/* (lock) FLUSH requests seen */
	int error;		/* (lock) first server failure, -errno */
	char dir[256];		/* mount point */
	char path[300];		/* the regular file */
	char why[640];		/* why pe_fuse_start() failed */
};

/* The one being served: its descriptors are closed in forked children. */
static struct pe_fuse *pe_fuse_active;

static inline uint64_t pe_fuse_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void pe_fuse_atfork_child(void)
{
	struct pe_fuse *fs = pe_fuse_active;

	if (!fs)
		return;
	close(fs->fd);
	close(fs->stop[0]);
	close(fs->stop[1]);
	pe_fuse_active = NULL;
}

static inline void pe_fuse_fail(struct pe_fuse *fs, int err)
{
	pthread_mutex_lock(&fs->lock);
	if (!fs->error)
		fs->error = err;
	pthread_mutex_unlock(&fs->lock);
}

/* One answer: header plus len bytes of data; errors are answered bare. */
static inline void pe_fuse_reply(struct pe_fuse *fs, uint64_t unique,
				 int error, const void *data, size_t len)
{
	struct fuse_out_header oh;
	ssize_t n;

	if (error)
		len = 0;
	if (sizeof(oh) + len > PE_FUSE_OUTSZ) {
		pe_fuse_fail(fs, -E2BIG);
		return;
	}
	oh.len = sizeof(oh) + len;
	oh.error = error;
	oh.unique = unique;
	pthread_mutex_lock(&fs->wlock);
	memcpy(fs->out, &oh, sizeof(oh));
	if (len)
		memcpy(fs->out + sizeof(oh), data, len);
	n = write(fs->fd, fs->out, oh.len);
	pthread_mutex_unlock(&fs->wlock);
	/*
	 * ENOENT: no such request.  One aborted is gone without a trace,
	 * but answering one twice is a server bug: count it.
	 */
	if (n < 0)
		pe_fuse_fail(fs, -errno);
}

static inline void pe_fuse_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0644;
	a->nlink = ino == FUSE_ROOT_ID ? 2 : 1;
	a->blksize = 4096;
}

static inline void pe_fuse_init(struct pe_fuse *fs,
				const struct fuse_in_header *in)
{
	const struct fuse_init_in *ii = (const void *)(in + 1);
	struct fuse_init_out o;

	memset(&o, 0, sizeof(o));
	o.major = FUSE_KERNEL_VERSION;
	o.minor = ii->minor < FUSE_KERNEL_MINOR_VERSION ?
		  ii->minor : FUSE_KERNEL_MINOR_VERSION;
	o.max_readahead = ii->max_readahead;
	o.max_background = 16;
	o.congestion_threshold = 12;
	o.max_write = PE_FUSE_MAX_WRITE;
	o.time_gran = 1;
	if (ii->major != FUSE_KERNEL_VERSION)
		pe_fuse_reply(fs, in->unique, -EPROTO, NULL, 0);
	else
		pe_fuse_reply(fs, in->unique, 0, &o, sizeof(o));
}

static inline void pe_fuse_lookup(struct pe_fuse *fs,
				  const struct fuse_in_header *in, size_t n)
{
	const char *name = (const char *)(in + 1);
	size_t len = n - sizeof(*in);
	struct fuse_entry_out e;

	if (in->nodeid != FUSE_ROOT_ID || !len ||
	    strnlen(name, len) != strlen(PE_FUSE_NAME) ||
	    strncmp(name, PE_FUSE_NAME, len)) {
		pe_fuse_reply(fs, in->unique, -ENOENT, NULL, 0);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.nodeid = PE_FUSE_INO;
	e.generation = 1;
	e.entry_valid = 3600;
	e.attr_valid = 3600;
	pe_fuse_attr(&e.attr, PE_FUSE_INO);
	pe_fuse_reply(fs, in->unique, 0, &e, sizeof(e));
}

/* A FLUSH: held (kept unanswered) while the test wants it. */
static inline void pe_fuse_flush(struct pe_fuse *fs,
				 const struct fuse_in_header *in)
{
	int held = 0;

	pthread_mutex_lock(&fs->lock);
	fs->flushes++;
	if (fs->hold) {
		if (fs->nheld == fs->cap) {
			int cap = fs->cap ? 2 * fs->cap : 256;
			uint64_t *p = realloc(fs->held, cap * sizeof(*p));

			if (p) {
				fs->held = p;
				fs->cap = cap;
			}
		}
		if (fs->nheld < fs->cap) {
			fs->held[fs->nheld++] = in->unique;
			held = 1;
		} else if (!fs->error) {
			fs->error = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	if (!held)
		pe_fuse_reply(fs, in->unique, 0, NULL, 0);
}

static inline void pe_fuse_request(struct pe_fuse *fs, const char *buf,
				   size_t n)
{
	const struct fuse_in_header *in = (const void *)buf;
	struct fuse_attr_out ao;
	struct fuse_open_out oo;

	if (n < sizeof(*in))
		return;
	switch (in->opcode) {
	case FUSE_INIT:
		pe_fuse_init(fs, in);
		break;
	case FUSE_LOOKUP:
		pe_fuse_lookup(fs, in, n);
		break;
	case FUSE_GETATTR:
		if (in->nodeid != FUSE_ROOT_ID && in->nodeid != PE_FUSE_INO) {
			pe_fuse_reply(fs, in->unique, -ENOENT, NULL, 0);
			break;
		}
		memset(&ao, 0, sizeof(ao));
		ao.attr_valid = 3600;
		pe_fuse_attr(&ao.attr, in->nodeid);
		pe_fuse_reply(fs, in->unique, 0, &ao, sizeof(ao));
		break;
	case FUSE_OPEN:
		if (in->nodeid != PE_FUSE_INO) {
			pe_fuse_reply(fs, in->unique, -EISDIR, NULL, 0);
			break;
		}
		memset(&oo, 0, sizeof(oo));
		oo.fh = 1;
		pe_fuse_reply(fs, in->unique, 0, &oo, sizeof(oo));
		break;
	case FUSE_READ:
		/* End of file at once. */
		pe_fuse_reply(fs, in->unique, 0, NULL, 0);
		break;
	case FUSE_FLUSH:
		pe_fuse_flush(fs, in);
		break;
	case FUSE_RELEASE:
		pe_fuse_reply(fs, in->unique, 0, NULL, 0);
		break;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		/* No answer: a held FLUSH stays held. */
		break;
	default:
		pe_fuse_reply(fs, in->unique, -ENOSYS, NULL, 0);
		break;
	}
}

static inline void *pe_fuse_server(void *arg)
{
	struct pe_fuse *fs = arg;
	char *buf = fs->in;
	sigset_t all;

	/* Signals meant for the test's threads never land here. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pe_thread_fifo();
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fs->fd, .events = POLLIN },
			{ .fd = fs->stop[0], .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		n = read(fs->fd, buf, PE_FUSE_BUFSZ);
		if (n < 0) {
			/* ENOENT: a request was interrupted while read. */
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ENOENT)
				continue;
			/* ENODEV: unmounted or aborted. */
			if (errno != ENODEV)
				pe_fuse_fail(fs, -errno);
			break;
		}
		pe_fuse_request(fs, buf, n);
	}
	return NULL;
}

/*
 * Open /dev/fuse, loading PE_FUSE_KO first when the node is missing.
 * Returns the fd, or -ENODEV (FUSE missing; ->why says so) or -errno.
 */
static inline int pe_fuse_open_dev(struct pe_fuse *fs)
{
	uint64_t end;
	int fd, ko, r;

	if (access(PE_FUSE_DEV, F_OK)) {
		ko = open(PE_FUSE_KO, O_RDONLY | O_CLOEXEC);
		if (ko < 0) {
			snprintf(fs->why, sizeof(fs->why),
				 "no %s and no %s to load: FUSE missing",
				 PE_FUSE_DEV, PE_FUSE_KO);
			return -ENODEV;
		}
		r = syscall(SYS_finit_module, ko, "", 0) ? errno : 0;
		close(ko);
		if (r && r != EEXIST) {
			snprintf(fs->why, sizeof(fs->why),
				 "loading %s: %s: FUSE missing", PE_FUSE_KO,
				 strerror(r));
			return -ENODEV;
		}
		end = pe_fuse_now_ms() + 2000;
		while (access(PE_FUSE_DEV, F_OK) && pe_fuse_now_ms() < end)
			usleep(5000);
	}
	fd = open(PE_FUSE_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	r = errno;
	if (r == ENOENT || r == ENODEV || r == ENXIO) {
		snprintf(fs->why, sizeof(fs->why), "open %s: %s: FUSE missing",
			 PE_FUSE_DEV, strerror(r));
		return -ENODEV;
	}
	snprintf(fs->why, sizeof(fs->why), "open %s: %s", PE_FUSE_DEV,
		 strerror(r));
	return -r;
}

static inline void pe_fuse_stop(struct pe_fuse *fs);

/* Memory a fork does not copy-on-write (see the top of this file). */
static inline char *pe_fuse_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (!madvise(p, size, MADV_DONTFORK))
		return p;
	munmap(p, size);
	if (errno != ENOSYS)
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Mount a new instance on a fresh directory under $TMPDIR (or /tmp) and
 * start serving it, with FLUSH held.  0, -ENODEV when FUSE is missing
 * (skip), or another -errno; ->why says what failed.
 */
static inline int pe_fuse_start(struct pe_fuse *fs)
{
	static int atfork_done;
	const char *tmp = getenv("TMPDIR");
	char opts[128];
	struct stat st;
	int r;

	memset(fs, 0, sizeof(*fs));
	fs->live = 1;
	fs->fd = -1;
	fs->stop[0] = fs->stop[1] = -1;
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_init(&fs->wlock, NULL);
	fs->hold = 1;
	if (!atfork_done) {
		if (pthread_atfork(NULL, NULL, pe_fuse_atfork_child)) {
			snprintf(fs->why, sizeof(fs->why), "pthread_atfork");
			return -ENOMEM;
		}
		atfork_done = 1;
	}
	fs->in = pe_fuse_map(PE_FUSE_BUFSZ);
	fs->out = pe_fuse_map(PE_FUSE_OUTSZ);
	if (!fs->in || !fs->out) {
		r = -errno;
		snprintf(fs->why, sizeof(fs->why), "mmap: %s", strerror(-r));
		goto fail;
	}
	fs->fd = pe_fuse_open_dev(fs);
	if (fs->fd < 0) {
		r = fs->fd;
		fs->fd = -1;
		goto fail;
	}
	if (pipe2(fs->stop, O_CLOEXEC)) {
		r = -errno;
		snprintf(fs->why, sizeof(fs->why), "pipe2: %s", strerror(-r));
		goto fail;
	}
	snprintf(fs->dir, sizeof(fs->dir), "%s/pe-fuse-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fs->dir)) {
		r = -errno;
		snprintf(fs->why, sizeof(fs->why), "mkdtemp %s: %s", fs->dir,
			 strerror(-r));
		fs->dir[0] = 0;
		goto fail;
	}
	snprintf(fs->path, sizeof(fs->path), "%s/%s", fs->dir, PE_FUSE_NAME);
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", fs->fd);
	if (mount("pe-fuse", fs->dir, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		r = -errno;
		snprintf(fs->why, sizeof(fs->why), "mount fuse on %s: %s%s",
			 fs->dir, strerror(-r),
			 r == -ENODEV ? ": FUSE missing" : "");
		goto fail;
	}
	fs->mounted = 1;
	pe_fuse_active = fs;
	r = -pthread_create(&fs->th, NULL, pe_fuse_server, fs);
	if (r) {
		snprintf(fs->why, sizeof(fs->why), "pthread_create: %s",
			 strerror(-r));
		goto fail;
	}
	fs->running = 1;
	/* INIT and a LOOKUP: the server answers. */
	if (stat(fs->path, &st) || !S_ISREG(st.st_mode)) {
		r = -errno;
		snprintf(fs->why, sizeof(fs->why), "stat %s: %s", fs->path,
			 strerror(errno));
		goto fail;
	}
	return 0;
fail:
	pe_fuse_stop(fs);
	return r ? r : -EIO;
}

/* FLUSH requests held right now. */
static inline int pe_fuse_held(struct pe_fuse *fs)
{
	int n;

	pthread_mutex_lock(&fs->lock);
	n = fs->nheld;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

/* FLUSH requests seen since the start, held or answered. */
static inline long long pe_fuse_flushes(struct pe_fuse *fs)
{
	long long n;

	pthread_mutex_lock(&fs->lock);
	n = fs->flushes;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

/* The server's first failure (-errno), 0 if none. */
static inline int pe_fuse_error(struct pe_fuse *fs)
{
	int r;

	pthread_mutex_lock(&fs->lock);
	r = fs->error;
	pthread_mutex_unlock(&fs->lock);
	return r;
}

/* Wait until at least n FLUSH requests are held: 0 or -ETIMEDOUT. */
static inline int pe_fuse_wait_held(struct pe_fuse *fs, int n, int ms)
{
	uint64_t end = pe_fuse_now_ms() + ms;

	while (pe_fuse_held(fs) < n) {
		if (pe_fuse_now_ms() >= end)
			return -ETIMEDOUT;
		usleep(2000);
	}
	return 0;
}

/* Hold FLUSH requests from now on (on) or answer them at once. */
static inline void pe_fuse_hold(struct pe_fuse *fs, int on)
{
	pthread_mutex_lock(&fs->lock);
	fs->hold = on;
	pthread_mutex_unlock(&fs->lock);
}

/*
 * Answer every held FLUSH and answer later ones at once (pe_fuse_hold()
 * holds again).  Returns how many were released.
 */
static inline int pe_fuse_release(struct pe_fuse *fs)
{
	uint64_t *held;
	int i, n;

	if (!fs->running)
		return 0;
	pthread_mutex_lock(&fs->lock);
	fs->hold = 0;
	held = fs->held;
	n = fs->nheld;
	fs->held = NULL;
	fs->nheld = fs->cap = 0;
	pthread_mutex_unlock(&fs->lock);
	for (i = 0; i < n; i++)
		pe_fuse_reply(fs, held[i], 0, NULL, 0);
	free(held);
	return n;
}

/*
 * Release what is held, stop the server, unmount and close /dev/fuse
 * (which aborts whatever is still pending).  Safe to call twice, and on a
 * zeroed (never started) or half-started instance.
 */
static inline void pe_fuse_stop(struct pe_fuse *fs)
{
	char c = 0;

	if (!fs->live)
		return;
	if (fs->running) {
		pe_fuse_release(fs);
		if (write(fs->stop[1], &c, 1) != 1)
			pthread_cancel(fs->th);
		pthread_join(fs->th, NULL);
		fs->running = 0;
	}
	if (pe_fuse_active == fs)
		pe_fuse_active = NULL;
	if (fs->mounted) {
		umount2(fs->dir, MNT_DETACH);
		fs->mounted = 0;
	}
	if (fs->fd >= 0) {
		close(fs->fd);
		fs->fd = -1;
	}
	if (fs->stop[0] >= 0)
		close(fs->stop[0]);
	if (fs->stop[1] >= 0)
		close(fs->stop[1]);
	fs->stop[0] = fs->stop[1] = -1;
	if (fs->dir[0]) {
		rmdir(fs->dir);
		fs->dir[0] = 0;
	}
	free(fs->held);
	fs->held = NULL;
	fs->nheld = fs->cap = 0;
	if (fs->in)
		munmap(fs->in, PE_FUSE_BUFSZ);
	if (fs->out)
		munmap(fs->out, PE_FUSE_OUTSZ);
	fs->in = fs->out = NULL;
	fs->live = 0;
}

/*
 * Start the server in a test or SKIP it when FUSE is missing; needs
 * kselftest_harness.h.
 */
#define PE_FUSE_START_OR_SKIP(fs) do {					\
	int _pe_r = pe_fuse_start(fs);					\
									\
	if (_pe_r == -ENODEV)						\
		SKIP(return, "%s", (fs)->why);				\
	ASSERT_EQ(0, _pe_r) TH_LOG("FUSE server: %s", (fs)->why);	\
} while (0)

#endif /* PROCEVENT_FUSE_H */
