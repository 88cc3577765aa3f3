// SPDX-License-Identifier: GPL-2.0
/*
 * realbench: a fork/exec storm.  N times: fork, the child execs this
 * program again as "storm -c" (static, it exits at once), the parent
 * waits for it.  One child at a time.
 *
 *   storm [N]     default 10000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long i, n = 10000, bad = 0;
	char self[4096];
	ssize_t len;

	if (argc > 1 && !strcmp(argv[1], "-c"))
		return 0;
	if (argc > 1)
		n = atol(argv[1]);
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		return 1;
	self[len] = 0;
	for (i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			execl(self, "storm", "-c", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || status != 0)
			bad++;
	}
	if (bad) {
		fprintf(stderr, "storm: %ld children failed\n", bad);
		return 1;
	}
	return 0;
}
