/*
 * test_outfile.c - replacing a file as a whole (outfile_replace_open/commit,
 * the monitor's --report-file): the new content arrives under a new inode by
 * a rename, with the mode asked for, and no temporary file is left; a
 * symbolic link, a hard-linked file or a directory at the path is refused and
 * left as it was; a FIFO is written directly; OUTFILE_NEW never opens an
 * existing file.  Truth: the kernel (lstat, readlink, read back).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

static char dir[64];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "/tmp/tlsready-outfile-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path, char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return buf;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int entries(void)
{
	int n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, ".."));
	if (d)
		closedir(d);
	return n;
}

/* write `text` to path the replace way; returns the open result, *committed the commit's */
static enum outfile_result replace(const char *path, const char *text, bool *committed, char *err, size_t errlen)
{
	int fd;
	char tmp[4096];
	enum outfile_result r = outfile_replace_open(path, 0640, &fd, tmp, sizeof tmp, err, errlen);
	*committed = false;
	if (r != OUTFILE_OK)
		return r;
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	*committed = outfile_replace_commit(tmp, path, err, errlen);
	return r;
}

static void replaces_by_rename(void **st)
{
	(void)st;
	char p[128], err[600], buf[64];
	bool done;
	path_of(p, sizeof p, "report.html");
	put(p, "old report");
	struct stat before, after;
	assert_int_equal(lstat(p, &before), 0);
	mode_t old = umask(022);
	assert_int_equal(replace(p, "new report", &done, err, sizeof err), OUTFILE_OK);
	umask(old);
	assert_true(done);
	assert_int_equal(lstat(p, &after), 0);
	assert_string_equal(slurp(p, buf, sizeof buf), "new report");
	assert_true(after.st_ino != before.st_ino);   /* a new file, renamed over the old one */
	assert_int_equal(after.st_mode & 0777, 0640);
	assert_int_equal(entries(), 1);               /* no temporary file left */
	unlink(p);
}

static void creates_when_missing(void **st)
{
	(void)st;
	char p[128], err[600], buf[64];
	bool done;
	path_of(p, sizeof p, "fresh.json");
	assert_int_equal(replace(p, "{}", &done, err, sizeof err), OUTFILE_OK);
	assert_true(done);
	assert_string_equal(slurp(p, buf, sizeof buf), "{}");
	assert_int_equal(entries(), 1);
	unlink(p);
}

static void refuses_links_and_directories(void **st)
{
	(void)st;
	char p[128], target[128], hard[128], err[600], buf[64], lnk[128];
	bool done;
	path_of(p, sizeof p, "report.html");
	path_of(target, sizeof target, "target");
	put(target, "keep me");
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(replace(p, "evil", &done, err, sizeof err), OUTFILE_UNSAFE);
	assert_non_null(strstr(err, "symbolic link"));
	assert_string_equal(slurp(target, buf, sizeof buf), "keep me");
	ssize_t n = readlink(p, lnk, sizeof lnk - 1);
	assert_true(n > 0);
	lnk[n] = '\0';
	assert_string_equal(lnk, target);             /* the link itself is untouched too */
	assert_int_equal(entries(), 2);
	unlink(p);
	path_of(hard, sizeof hard, "hard");
	assert_int_equal(link(target, hard), 0);
	assert_int_equal(replace(hard, "evil", &done, err, sizeof err), OUTFILE_UNSAFE);
	assert_non_null(strstr(err, "hard links"));
	assert_string_equal(slurp(target, buf, sizeof buf), "keep me");
	unlink(hard);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(replace(p, "evil", &done, err, sizeof err), OUTFILE_UNSAFE);
	assert_int_equal(entries(), 2);
	rmdir(p);
	unlink(target);
}

static void link_planted_before_the_commit_is_refused(void **st)
{
	(void)st;
	char p[128], target[128], err[600], buf[64], tmp[4096];
	int fd;
	path_of(p, sizeof p, "report.html");
	path_of(target, sizeof target, "target");
	put(target, "keep me");
	assert_int_equal(outfile_replace_open(p, 0640, &fd, tmp, sizeof tmp, err, sizeof err), OUTFILE_OK);
	assert_true(write(fd, "new", 3) == 3);
	close(fd);
	assert_int_equal(symlink(target, p), 0);      /* planted between the open and the commit */
	assert_false(outfile_replace_commit(tmp, p, err, sizeof err));
	assert_non_null(strstr(err, "symbolic link"));
	assert_string_equal(slurp(target, buf, sizeof buf), "keep me");
	assert_int_equal(entries(), 2);               /* the temporary file was removed */
	unlink(p);
	unlink(target);
}

static void fifo_written_directly(void **st)
{
	(void)st;
	char p[128], err[600], tmp[4096];
	int fd;
	path_of(p, sizeof p, "pipe");
	assert_int_equal(mkfifo(p, 0600), 0);
	int reader = open(p, O_RDONLY | O_NONBLOCK);
	assert_true(reader >= 0);
	assert_int_equal(outfile_replace_open(p, 0640, &fd, tmp, sizeof tmp, err, sizeof err), OUTFILE_OK);
	assert_string_equal(tmp, "");
	assert_true(write(fd, "hi", 2) == 2);
	close(fd);
	assert_true(outfile_replace_commit(tmp, p, err, sizeof err));
	char b[8] = "";
	assert_int_equal(read(reader, b, sizeof b), 2);
	assert_memory_equal(b, "hi", 2);
	close(reader);
	struct stat sb;
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	unlink(p);
}

static void new_never_opens_an_existing_file(void **st)
{
	(void)st;
	char p[128], err[600], buf[64];
	int fd;
	path_of(p, sizeof p, "taken");
	put(p, "someone else's");
	assert_int_not_equal(outfile_open(p, OUTFILE_NEW, 0600, &fd, NULL, err, sizeof err), OUTFILE_OK);
	assert_int_equal(fd, -1);
	assert_string_equal(slurp(p, buf, sizeof buf), "someone else's");
	unlink(p);
}

static void abort_removes(void **st)
{
	(void)st;
	char p[128], err[600], tmp[4096];
	int fd;
	path_of(p, sizeof p, "report.txt");
	assert_int_equal(outfile_replace_open(p, 0640, &fd, tmp, sizeof tmp, err, sizeof err), OUTFILE_OK);
	close(fd);
	assert_int_equal(entries(), 1);
	outfile_replace_abort(tmp);
	assert_int_equal(entries(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(replaces_by_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(creates_when_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_links_and_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(link_planted_before_the_commit_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(fifo_written_directly, setup, teardown),
		cmocka_unit_test_setup_teardown(new_never_opens_an_existing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(abort_removes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
