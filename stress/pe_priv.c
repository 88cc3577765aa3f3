// SPDX-License-Identifier: GPL-2.0
/*
 * Privilege: who may open /dev/procevent, and what a handle passed to an
 * unprivileged process over a UNIX socket can do there.
 *
 * Refused: an unprivileged user (EACCES from the 0600 node; EPERM from the
 * driver when the node is made 0666), root without CAP_SYS_ADMIN (EPERM),
 * root of a new user namespace (EPERM: the capability must be held in the
 * initial user namespace).
 *
 * A passed handle is the capability, as with fanotify: the unprivileged
 * holder can subscribe, receive events of every process (root's too),
 * hold them, acknowledge them, and veto FORK, EXEC and SIGNAL events with
 * PROCEVENT_ACK_KILL, which kills the process.  It cannot open another
 * handle or read /proc/procevent, and when it dies whatever it held moves
 * on.
 */
#include "pe_stress.h"

#include <grp.h>
#include <sched.h>
#include <sys/socket.h>
#include <linux/capability.h>

#define NOBODY	65534

struct shm {
	volatile int ready, quit, stall, kill_fork;
	volatile int e_open, e_proc, e_setmask, e_timeout;
	volatile int nrecv, nack_ok, nack_fail, last_uid, kill_acks;
};

static struct shm *shm;

static int child_result(int (*fn)(void))
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(fn());
	if (pid < 0 || pe_reap(pid, 10000, &st) || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int become_nobody(void)
{
	return setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY);
}

static int try_open(void)
{
	int fd = open(PE_DEV, O_RDWR);

	return fd >= 0 ? 0 : errno;
}

static int open_as_nobody(void)
{
	if (become_nobody())
		return 200;
	return try_open();
}

static int open_without_cap(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0);
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return 200;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	d[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
	d[CAP_SYS_ADMIN / 32].inheritable &= ~(1u << (CAP_SYS_ADMIN % 32));
	if (syscall(SYS_capset, &h, d))
		return 201;
	return try_open();
}

static int open_in_userns(void)
{
	int fd;

	if (unshare(CLONE_NEWUSER))
		return 200;
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, "0 0 1", 5) != 5)
		return 201;
	close(fd);
	if (getuid() != 0)
		return 202;
	return try_open();
}

/* The unprivileged holder of a passed handle. */
static void holder(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { &c, 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct procevent_event ev;
	uint32_t mask = PROCEVENT_EXIT | PROCEVENT_FORK;
	uint64_t tns = 0;
	int fd, p;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (become_nobody())
		_exit(2);
	if (recvmsg(sock, &mh, 0) != 1 || !CMSG_FIRSTHDR(&mh))
		_exit(3);
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	shm->e_open = try_open();
	p = open(PE_PROC, O_RDONLY);
	shm->e_proc = p < 0 ? errno : 0;
	shm->e_setmask = ioctl(fd, PROCEVENT_IOC_SET_MASK, &mask) ? errno : 0;
	shm->e_timeout = ioctl(fd, PROCEVENT_IOC_SET_TIMEOUT, &tns) ? errno : 0;
	shm->ready = 1;
	while (!shm->quit) {
		struct procevent_ack a = { 0 };

		if (shm->stall || pe_poll_in(fd, 20) <= 0) {
			pe_sleep_us(5000);
			continue;
		}
		if (ioctl(fd, PROCEVENT_IOC_RECV, &ev))
			continue;
		shm->nrecv++;
		shm->last_uid = ev.uid;
		a.id = ev.id;
		if (ev.type == PROCEVENT_FORK && shm->kill_fork) {
			a.flags = PROCEVENT_ACK_KILL;
			shm->kill_fork = 0;
			shm->kill_acks++;
		}
		if (ioctl(fd, PROCEVENT_IOC_ACK, &a))
			shm->nack_fail++;
		else
			shm->nack_ok++;
	}
	_exit(0);		/* with whatever is still on the handle */
}

static int wait_for(volatile int *f, int ms)
{
	uint64_t end = pe_now() + (uint64_t)ms * PE_MS;

	while (!*f) {
		if (pe_now() > end)
			return -ETIMEDOUT;
		pe_sleep_us(1000);
	}
	return 0;
}

int main(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c = 'h';
	struct iovec iov = { &c, 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	struct pe_counters pc;
	int sv[2], fd, st = 0, r, ok;
	pid_t h, k;
	uint64_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pe_tap_plan(9);
	shm = pe_shared(sizeof(*shm));

	r = child_result(open_as_nobody);
	pe_tap(r == EACCES, "priv_unprivileged_user_open_eacces");
	chmod(PE_DEV, 0666);
	r = child_result(open_as_nobody);
	chmod(PE_DEV, 0600);
	pe_tap(r == EPERM, "priv_unprivileged_user_open_eperm_from_driver");
	r = child_result(open_without_cap);
	pe_tap(r == EPERM, "priv_root_without_cap_sys_admin_open_eperm");
	r = child_result(open_in_userns);
	if (r == 200)
		pe_diag("unshare(CLONE_NEWUSER) failed in the child");
	pe_tap(r == EPERM, "priv_root_in_new_user_namespace_open_eperm");

	/* A handle passed to an unprivileged process. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 1;
	fd = open(PE_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	fflush(NULL);
	h = fork();
	if (h == 0)
		holder(sv[1]);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	r = sendmsg(sv[0], &mh, 0);
	close(fd);		/* the holder's copy is the only one left */
	ok = r == 1 && !wait_for(&shm->ready, 5000);
	pe_tap(ok && shm->e_open == EACCES && shm->e_proc == EACCES,
	       "priv_passed_handle_holder_cannot_open_or_read_proc");
	pe_diag("holder: open %d, /proc/procevent %d, SET_MASK %d, SET_TIMEOUT %d",
		shm->e_open, shm->e_proc, shm->e_setmask, shm->e_timeout);

	/* It subscribes, receives root's events and acks them. */
	k = fork();
	if (k == 0)
		_exit(5);
	r = pe_reap(k, 5000, &st);
	pe_tap(ok && !shm->e_setmask && !shm->e_timeout && !r &&
	       WIFEXITED(st) && WEXITSTATUS(st) == 5 && shm->nrecv == 2 &&
	       shm->nack_ok == 2 && shm->last_uid == 0,
	       "priv_passed_handle_subscribes_receives_and_acks");

	/* Its veto kills a root process. */
	shm->kill_fork = 1;
	k = fork();
	if (k == 0)
		_exit(6);
	r = pe_reap(k, 5000, &st);
	pe_tap(!r && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
	       shm->kill_acks == 1, "priv_passed_handle_kill_ack_kills_the_process");

	/* What it holds when it dies moves on. */
	shm->stall = 1;
	pe_sleep_us(50000);
	k = fork();
	if (k == 0)
		_exit(7);
	t = pe_now();
	while (pe_now() - t < 2000 * PE_MS) {
		pe_counters_read(&pc);
		if (pc.held)
			break;
		pe_sleep_us(2000);
	}
	ok = pc.held == 1;
	shm->quit = 1;
	pe_reap(h, 5000, NULL);
	r = pe_reap(k, 5000, &st);
	pe_tap(ok && !r && WIFEXITED(st) && WEXITSTATUS(st) == 7,
	       "priv_passed_handle_holder_death_releases_held_process");
	pe_wait_quiet(&pc, 5000);
	pe_tap(!pc.held && !pc.nsubs, "priv_nothing_held_at_end");
	return pe_tap_exit();
}
