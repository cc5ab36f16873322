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
 *   and a file that is not a queue is refused;
 * - read in parts (the writer's windows), a row cut at a part's end waits for the next part; appended in
 *   parts (a monitor's batch as it is built), an entry is invisible until its commit, then the same bytes
 *   as written out here; abandoned or torn before its commit, nothing of it stays.
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

/* FNV-1a 32, as the queue's entries carry it, written out here */
static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 0x811c9dc5u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x01000193u;
	}
	return h;
}

/* A batch read in parts (the writer's windows): a row cut at a part's end is not malformed when more
 * follows, and is read whole from its start once the next part came; without more it is malformed. */
static void rows_in_parts(void **state)
{
	(void)state;
	struct pg_batch b;
	pg_batch_init(&b);
	const char *key[] = { "site-a", "run1", "7", "1000", "2" };
	const char *ctr[] = { "site-a", "packets", "12" };
	const char *ret[] = { "99" };
	pg_batch_row(&b, PGS_KEY, 5, key);
	pg_batch_row(&b, PGS_COUNTER, 3, ctr);
	pg_batch_row(&b, PGS_RETAIN, 1, ret);
	size_t ends[3], pos = 0;
	struct pg_row r;
	bool bad;
	for (int i = 0; i < 3; i++) {
		assert_true(pg_batch_next(b.buf, b.len, &pos, &r, &bad));
		ends[i] = pos;
	}
	for (size_t cut = 0; cut <= b.len; cut++) {
		size_t at = 0;
		int n = 0;
		while (pg_batch_next_part(b.buf, cut, &at, &r, &bad, true))
			n++;
		int whole = (ends[0] <= cut) + (ends[1] <= cut) + (ends[2] <= cut);
		assert_int_equal(n, whole);
		assert_false(bad);
		assert_int_equal(at, whole ? ends[whole - 1] : 0);   /* the cut row starts the next part */
		at = 0;
		while (pg_batch_next_part(b.buf, cut, &at, &r, &bad, false))
			;
		assert_int_equal(bad, cut != 0 && cut != ends[0] && cut != ends[1] && cut != ends[2]);
	}
	pg_batch_free(&b);
}

/* A batch appended in parts (a monitor's, as it is built): invisible to the writer until its commit, then
 * the same entry on disk as written out here by hand (magic, length, bytes, FNV-1a); abandoned, or torn by
 * a crash before its commit, nothing of it stays; the bound applies to the parts. */
static void queue_in_parts(void **state)
{
	(void)state;
	char err[600];
	struct pg_queue *q = pg_queue_open(path("parts"), "dbname=none", 1 << 20, err, sizeof err);
	assert_non_null(q);
	struct pg_batch a = one("100"), b = one("20000"), c = one("3");
	struct pg_queue_stats st;
	pg_queue_begin(q);
	assert_true(pg_queue_append(q, a.buf, a.len));
	assert_true(pg_queue_append(q, b.buf, b.len));
	pg_queue_stats(q, &st);
	assert_int_equal(st.queued_batches, 0);
	assert_int_equal(pg_queue_next_ord(q), 0);
	assert_true(pg_queue_append(q, c.buf, c.len));
	assert_true(pg_queue_commit(q));
	pg_queue_stats(q, &st);
	assert_int_equal(st.queued_batches, 1);
	size_t n = a.len + b.len + c.len;
	assert_int_equal(st.queued_bytes, 12 + n);
	/* abandoned: nothing of it stays */
	pg_queue_begin(q);
	assert_true(pg_queue_append(q, a.buf, a.len));
	pg_queue_abandon(q);
	struct stat sb;
	assert_int_equal(stat(path("parts"), &sb), 0);
	assert_int_equal(sb.st_size, 16 + 12 + n);
	/* torn: parts written, no commit (the process killed), the queue closed as it was */
	pg_queue_begin(q);
	assert_true(pg_queue_append(q, b.buf, b.len));
	pg_queue_close(q);
	q = pg_queue_open(path("parts"), "dbname=none", 1 << 20, err, sizeof err);
	assert_non_null(q);
	pg_queue_stats(q, &st);
	assert_int_equal(st.queued_batches, 1);
	assert_int_equal(stat(path("parts"), &sb), 0);
	assert_int_equal(sb.st_size, 16 + 12 + n);
	pg_queue_close(q);
	/* the entry, byte for byte */
	unsigned char *want = malloc(12 + n), *got = malloc(12 + n);
	uint32_t magic = 0x51525354u, len = (uint32_t)n;
	memcpy(want, &magic, 4);
	memcpy(want + 4, &len, 4);
	memcpy(want + 8, a.buf, a.len);
	memcpy(want + 8 + a.len, b.buf, b.len);
	memcpy(want + 8 + a.len + b.len, c.buf, c.len);
	uint32_t sum = fnv1a(want + 8, n);
	memcpy(want + 8 + n, &sum, 4);
	int fd = open(path("parts"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, got, 12 + n, 16), (ssize_t)(12 + n));
	close(fd);
	assert_memory_equal(got, want, 12 + n);
	free(want);
	free(got);
	/* the bound, part by part: the part that would pass it fails, the commit drops and counts */
	q = pg_queue_open(path("parts"), "dbname=none", 12 + n + 12 + a.len + 3, err, sizeof err);   /* c is 8 bytes */
	assert_non_null(q);
	pg_queue_begin(q);
	assert_true(pg_queue_append(q, a.buf, a.len));
	assert_false(pg_queue_append(q, c.buf, c.len));
	assert_false(pg_queue_commit(q));
	pg_queue_stats(q, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.queued_batches, 1);
	assert_int_equal(stat(path("parts"), &sb), 0);
	assert_int_equal(sb.st_size, 16 + 12 + n);
	pg_queue_close(q);
	pg_batch_free(&a);
	pg_batch_free(&b);
	pg_batch_free(&c);
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
		cmocka_unit_test(rows_in_parts),
		cmocka_unit_test(queue_in_parts),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
