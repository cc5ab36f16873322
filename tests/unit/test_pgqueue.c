/*
 * test_pgqueue.c - a shared-store sensor's batches and its queue file, without a database
 * (analyzer/store_pg_rows.c, store_pg_stage.c, store_queue.c):
 * - a batch's rows come back as they were written (statement, parameter count, bytes, NULL);
 *   a truncated batch, a wrong parameter count, a length past the end or a missing NUL is
 *   malformed, never read past its end;
 * - staging rows become array literals in which quotes and backslashes of wire bytes are escaped,
 *   and non-UTF-8 text keeps its ASCII bytes only;
 * - the queue file: batches appended are there after a reopen (a restart), a torn entry at the
 *   tail is cut off, the byte bound drops and counts, a symbolic link is refused, the file is 0600,
 *   and a file that is not a queue is refused.
 * Expected values are written out by hand.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_pg.h"

static char dir[64];

static const char *path(const char *name)
{
	static char p[128];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void rows_round_trip(void **state)
{
	(void)state;
	struct pg_batch b;
	pg_batch_init(&b);
	const char *key[] = { "site-a", "run1", "7", "1000", "2" };
	const char *ctr[] = { "site-a", "we\"ird\\name\n", NULL };
	pg_batch_row(&b, PGS_KEY, 5, key);
	pg_batch_row(&b, PGS_COUNTER, 3, ctr);
	assert_false(b.failed);
	assert_int_equal(b.rows, 2);
	size_t pos = 0;
	struct pg_row r;
	bool bad;
	assert_true(pg_batch_next(b.buf, b.len, &pos, &r, &bad));
	assert_int_equal(r.st, PGS_KEY);
	assert_int_equal(r.n, 5);
	assert_string_equal(r.vals[0], "site-a");
	assert_string_equal(r.vals[2], "7");
	assert_true(pg_batch_next(b.buf, b.len, &pos, &r, &bad));
	assert_int_equal(r.st, PGS_COUNTER);
	assert_string_equal(r.vals[1], "we\"ird\\name\n");
	assert_null(r.vals[2]);
	assert_false(pg_batch_next(b.buf, b.len, &pos, &r, &bad));
	assert_false(bad);
	/* every shorter prefix is malformed or ends cleanly at a row boundary, never read past */
	for (size_t cut = 1; cut < b.len; cut++) {
		unsigned char *p = malloc(cut);
		memcpy(p, b.buf, cut);
		size_t at = 0;
		int n = 0;
		while (pg_batch_next(p, cut, &at, &r, &bad))
			n++;
		assert_true(at <= cut);
		assert_true(bad || n < 2);
		free(p);
	}
	/* a wrong parameter count for the statement */
	unsigned char wrong[] = { PGS_KEY, 4 };
	pos = 0;
	assert_false(pg_batch_next(wrong, sizeof wrong, &pos, &r, &bad));
	assert_true(bad);
	/* a length past the end */
	unsigned char big[] = { PGS_RETAIN, 1, 0xff, 0xff, 0xff, 0x7f, 'x', 0 };
	pos = 0;
	assert_false(pg_batch_next(big, sizeof big, &pos, &r, &bad));
	assert_true(bad);
	/* a value without its NUL */
	unsigned char nonul[] = { PGS_RETAIN, 1, 1, 0, 0, 0, 'x', 'y' };
	pos = 0;
	assert_false(pg_batch_next(nonul, sizeof nonul, &pos, &r, &bad));
	assert_true(bad);
	/* a statement number out of range */
	unsigned char st[] = { PGS_COUNT, 0 };
	pos = 0;
	assert_false(pg_batch_next(st, sizeof st, &pos, &r, &bad));
	assert_true(bad);
	pg_batch_free(&b);
}

static void staging_arrays(void **state)
{
	(void)state;
	struct pg_batch b;
	pg_batch_init(&b);
	/* schema 3: the last column is the DHCP host's key */
	const char *n1[] = { "1", "20000", "0", "192.0.2.1", "", "", "0", "0", "user", "A\"B\\C,{}", "" };
	const char *n2[] = { "2", "20000", "0", "192.0.2.1", "", "", "0", "0", "user", "caf\xe9 \xc3\xa9",
			     "02:00:00:00:00:0a" };
	pg_batch_stage(&b, PGS_S_NAME, 11, n1);
	pg_batch_stage(&b, PGS_S_NAME, 11, n2);
	assert_int_equal(b.rows, 0);   /* gathered, not yet rows */
	pg_batch_flush(&b);
	assert_int_equal(b.rows, 1);
	size_t pos = 0;
	struct pg_row r;
	bool bad;
	assert_true(pg_batch_next(b.buf, b.len, &pos, &r, &bad));
	assert_int_equal(r.st, PGS_A_NAME);
	assert_int_equal(r.n, 11);
	assert_string_equal(r.vals[0], "{\"1\",\"2\"}");
	assert_string_equal(r.vals[9], "{\"A\\\"B\\\\C,{}\",\"caf? ??\"}");
	assert_string_equal(r.vals[10], "{\"\",\"02:00:00:00:00:0a\"}");
	pg_batch_free(&b);
}

static struct pg_batch one(const char *tag)
{
	struct pg_batch b;
	pg_batch_init(&b);
	const char *v[] = { tag };
	pg_batch_row(&b, PGS_RETAIN, 1, v);
	return b;
}

static void queue_file(void **state)
{
	(void)state;
	char err[600];
	struct pg_queue *q = pg_queue_open(path("q"), "dbname=none", 1 << 20, err, sizeof err);
	assert_non_null(q);
	struct stat sb;
	assert_int_equal(stat(path("q"), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	struct pg_batch a = one("100"), b = one("200");
	assert_true(pg_queue_put(q, &a));
	assert_true(pg_queue_put(q, &b));
	struct pg_queue_stats st;
	pg_queue_stats(q, &st);
	assert_int_equal(st.queued_batches, 2);
	assert_int_equal(st.queued_bytes, 2 * (12 + a.len));
	pg_queue_close(q);   /* never started: nothing applied, everything stays */
	/* a torn entry at the tail (a crash in the middle of an append) */
	int fd = open(path("q"), O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x54\x53\x52\x51\x40\x00", 6), 6);
	close(fd);
	q = pg_queue_open(path("q"), "dbname=none", 1 << 20, err, sizeof err);
	assert_non_null(q);
	pg_queue_stats(q, &st);
	assert_int_equal(st.queued_batches, 2);
	assert_int_equal(stat(path("q"), &sb), 0);
	assert_int_equal(sb.st_size, 16 + 2 * (12 + a.len));
	pg_queue_close(q);
	/* the bound: a batch that would pass it is dropped and counted */
	q = pg_queue_open(path("q"), "dbname=none", 16 + 2 * (12 + a.len) + 5, err, sizeof err);
	assert_non_null(q);
	assert_false(pg_queue_put(q, &a));
	pg_queue_stats(q, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.queued_batches, 2);
	pg_queue_close(q);
	pg_batch_free(&a);
	pg_batch_free(&b);
	/* a symbolic link is refused; so is a file that is not a queue */
	char target[128], link[128];
	snprintf(target, sizeof target, "%s", path("q"));
	snprintf(link, sizeof link, "%s", path("link"));
	assert_int_equal(symlink(target, link), 0);
	assert_null(pg_queue_open(link, "dbname=none", 1 << 20, err, sizeof err));
	fd = open(path("other"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_int_equal(write(fd, "not a queue file at all", 23), 23);
	close(fd);
	assert_null(pg_queue_open(path("other"), "dbname=none", 1 << 20, err, sizeof err));
	assert_non_null(strstr(err, "not a tlsready queue file"));
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/tlsready-pgq-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rows_round_trip),
		cmocka_unit_test(staging_arrays),
		cmocka_unit_test(queue_file),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
