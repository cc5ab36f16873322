/*
 * tests/bench/rusage.c - run one command and measure it, for the benchmark
 * (tests/bench/run.sh); a stand-in for /usr/bin/time -v that needs nothing.
 *
 * In:  rusage OUTFILE COMMAND [ARG]...   (COMMAND's stdin/stdout/stderr are
 *      inherited; run.sh redirects them)
 * Out: one line appended to OUTFILE:
 *        "wall_s user_s sys_s maxrss_kib exit_status"
 *      (wall from CLOCK_MONOTONIC around fork..wait4; user, sys and peak
 *      resident set size from wait4's rusage of the child).  rusage exits
 *      with the command's status (128+signal if killed), 127 if it could
 *      not be started.
 * Built by run.sh with: gcc -O2 rusage.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUTFILE COMMAND [ARG]...\n");
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rusage: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	int st = 0;
	struct rusage ru;
	pid_t r;
	do
		r = wait4(pid, &st, 0, &ru);
	while (r < 0 && errno == EINTR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0) {
		perror("rusage: wait4");
		return 127;
	}
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	FILE *f = fopen(argv[1], "a");
	if (!f) {
		fprintf(stderr, "rusage: %s: %s\n", argv[1], strerror(errno));
		return 127;
	}
	fprintf(f, "%.3f %.3f %.3f %ld %d\n",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss, code);
	fclose(f);
	return code;
}
