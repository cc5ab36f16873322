/*
 * test_spool.c - the records' spool (spool.c) against records built here
 * and an order computed here with qsort:
 * - every record comes back byte for byte: the record, its protocol's facts
 *   (TLS, host server, port mapper, telnet, DRDA), and a TLS chain's
 *   certificates, with their pointers into the spool;
 * - thousands of records added in random order come back in (first packet,
 *   frame number) order, whatever the batch size: one run per record (more
 *   runs than a reader opens, so merged first), small batches, one batch
 *   kept in memory; read twice, the same;
 * - two spools adopted into one read back as one order;
 * - the file leaves no name in $TMPDIR; a $TMPDIR that cannot be written
 *   keeps every record in memory and says why; a run cut short on disk is a
 *   read failure that says so, never a short report without a word.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <unistd.h>

#include "drda.h"
#include "hostserver.h"
#include "portmapper.h"
#include "protocols.h"
#include "spool.h"
#include "telnet5250.h"
#include "tls.h"
#include "x509.h"

static int by_first_packet(const struct spool_item *x, const struct spool_item *y)
{
	if (x->r->start_us != y->r->start_us)
		return x->r->start_us < y->r->start_us ? -1 : 1;
	return x->r->seq_no < y->r->seq_no ? -1 : x->r->seq_no > y->r->seq_no;
}

static uint64_t sm(uint64_t *s)   /* splitmix64 */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct x509_info certs[3];

/* A record of protocol k (0 none, 1 TLS with a chain of k % 4 certificates, 2 host server, ...). */
static struct flow_record *make(uint64_t i, int64_t start_us, int kind)
{
	struct flow_record *r = calloc(1, sizeof *r);
	r->seq_no = i;
	r->start_us = start_us;
	r->end_us = start_us + 1000;
	r->cport = (uint16_t)(1024 + i);
	r->sport = 9476;
	r->cli.b[15] = (uint8_t)i;
	r->cli.b[14] = (uint8_t)(i >> 8);
	r->packets = i * 3;
	r->bytes = i * 77;
	snprintf(r->dpi.proto, sizeof r->dpi.proto, "P%llu", (unsigned long long)(i % 100));
	switch (kind) {
	case 1: {
		r->proto = &protocol_tls;
		struct tls_state *t = protocol_tls.create();
		t->version = 0x0303;
		t->cipher = (uint16_t)i;
		snprintf(t->ja3, sizeof t->ja3, "%032llx", (unsigned long long)i);
		int n = (int)(i % 4);
		if (n) {
			t->chain = calloc((size_t)n, sizeof *t->chain);
			for (int k = 0; k < n; k++)
				t->chain[k] = &certs[k];   /* never released: not shared */
			t->chain_len = (uint8_t)n;
			t->cert_seen = true;
		}
		r->facts = t;
		break;
	}
	case 2: {
		r->proto = &protocol_hostserver;
		struct hs_state *h = protocol_hostserver.create();
		snprintf(h->user, sizeof h->user, "U%04llu", (unsigned long long)(i % 10000));
		h->server_vrm = 0x00070500;
		r->facts = h;
		break;
	}
	case 3: {
		r->proto = &protocol_portmapper;
		struct pm_state *p = protocol_portmapper.create();
		snprintf(p->requested, sizeof p->requested, "as-signon");
		p->reply_ok = true;
		p->port = 8476;
		r->facts = p;
		break;
	}
	case 4: {
		r->proto = &protocol_telnet5250;
		struct tn_state *t = protocol_telnet5250.create();
		snprintf(t->user, sizeof t->user, "QSECOFR");
		r->facts = t;
		break;
	}
	case 5: {
		r->proto = &protocol_drda;
		struct drda_state *d = protocol_drda.create();
		snprintf(d->prdid, sizeof d->prdid, "JCC04290");
		r->facts = d;
		break;
	}
	default:
		break;
	}
	return r;
}

static void free_rec(struct flow_record *r)
{
	struct tls_state *t = r->facts ? rec_tls(r) : NULL;
	if (t) {
		free(t->chain);
		t->chain = NULL;
		t->chain_len = 0;
	}
	record_free(r);
}

/* The spooled copy equals the original: all bytes but the pointers into the spool, and what they point at. */
static void assert_same(const struct flow_record *a, const struct flow_record *b)
{
	struct flow_record x = *a, y = *b;
	x.facts = y.facts = NULL;
	assert_memory_equal(&x, &y, sizeof x);
	assert_true(!a->facts == !b->facts);
	if (!a->facts)
		return;
	assert_ptr_equal(a->proto, b->proto);
	if (rec_tls(a)) {
		struct tls_state s = *rec_tls(a), t = *rec_tls(b);
		assert_int_equal(s.chain_len, t.chain_len);
		for (int k = 0; k < s.chain_len; k++) {
			assert_ptr_not_equal(s.chain[k], t.chain[k]);
			assert_memory_equal(s.chain[k], t.chain[k], sizeof(struct x509_info));
		}
		assert_true(s.chain_len || t.chain == NULL);
		s.chain = t.chain = NULL;
		assert_memory_equal(&s, &t, sizeof s);
	} else {
		assert_memory_equal(a->facts, b->facts, a->proto->state_size);
	}
}

static int cmp_ptr(const void *x, const void *y)
{
	struct spool_item a = { .r = *(struct flow_record *const *)x }, b = { .r = *(struct flow_record *const *)y };
	return by_first_packet(&a, &b);
}

/* n records in random order through a spool of this budget: back in order, equal, twice. */
static void round_trip(size_t n, size_t budget, uint64_t seed)
{
	struct flow_record **v = calloc(n, sizeof *v);
	uint64_t s = seed;
	for (size_t i = 0; i < n; i++)
		v[i] = make(i, (int64_t)(sm(&s) % (n / 3 + 1)) * 1000, (int)(sm(&s) % 6));   /* equal starts too */
	struct spool sp;
	spool_init(&sp, by_first_packet, budget);
	for (size_t i = 0; i < n; i++)
		assert_true(spool_add(&sp, v[i], 0, -1));
	assert_int_equal(sp.count, n);
	qsort(v, n, sizeof *v, cmp_ptr);
	for (int pass = 0; pass < 2; pass++) {
		struct spool_reader *rd = spool_read(&sp);
		assert_non_null(rd);
		assert_true(sp.n_runs <= SPOOL_MAX_OPEN);
		struct spool_item it;
		size_t k = 0;
		while (spool_next(rd, &it)) {
			assert_true(k < n);
			assert_same(v[k], it.r);
			k++;
		}
		assert_false(sp.read_failed);
		assert_int_equal(k, n);
		spool_reader_close(rd);
	}
	assert_null(spool_error(&sp));
	spool_free(&sp);
	for (size_t i = 0; i < n; i++)
		free_rec(v[i]);
	free(v);
}

static void one_run_per_record(void **st)
{
	(void)st;
	round_trip(5000, 0, 1);   /* 5,000 runs: merged 64 at a time, twice, before reading */
}

static void small_batches(void **st)
{
	(void)st;
	round_trip(20000, 16 * 1024, 2);
}

static void one_batch_in_memory(void **st)
{
	(void)st;
	round_trip(3000, 64u << 20, 3);
}

static void adopted(void **st)
{
	(void)st;
	enum { N = 4000 };
	struct flow_record *v[N];
	uint64_t s = 9;
	struct spool a, b;
	spool_init(&a, by_first_packet, 8192);
	spool_init(&b, by_first_packet, 4096);
	for (size_t i = 0; i < N; i++) {
		v[i] = make(i, (int64_t)(sm(&s) % 100000), (int)(i % 6));
		assert_true(spool_add(sm(&s) & 1 ? &a : &b, v[i], 0, -1));
	}
	assert_true(spool_adopt(&a, &b));
	assert_int_equal(a.count, N);
	assert_int_equal(b.count, 0);
	qsort(v, N, sizeof v[0], cmp_ptr);
	struct spool_reader *rd = spool_read(&a);
	assert_non_null(rd);
	struct spool_item it;
	size_t k = 0;
	while (spool_next(rd, &it))
		assert_same(v[k++], it.r);
	assert_int_equal(k, N);
	spool_reader_close(rd);
	spool_free(&a);
	spool_free(&b);
	for (size_t i = 0; i < N; i++)
		free_rec(v[i]);
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void no_name_left(void **st)
{
	(void)st;
	char dir[] = "/tmp/test_spool.XXXXXX";
	assert_non_null(mkdtemp(dir));
	setenv("TMPDIR", dir, 1);
	struct spool sp;
	spool_init(&sp, by_first_packet, 0);
	struct flow_record *r[3] = { make(1, 5, 1), make(2, 3, 2), make(3, 4, 0) };
	for (int i = 0; i < 3; i++)
		assert_true(spool_add(&sp, r[i], 0, -1));
	assert_true(sp.runs_written >= 2);
	assert_int_equal(entries(dir), 0);   /* written, and no name to find it by */
	struct spool_reader *rd = spool_read(&sp);
	struct spool_item it;
	int64_t want[] = { 3, 4, 5 };
	for (int i = 0; i < 3; i++) {
		assert_true(spool_next(rd, &it));
		assert_int_equal(it.r->start_us, want[i]);
	}
	assert_false(spool_next(rd, &it));
	spool_reader_close(rd);
	spool_free(&sp);
	assert_int_equal(entries(dir), 0);
	unsetenv("TMPDIR");
	rmdir(dir);
	for (int i = 0; i < 3; i++)
		free_rec(r[i]);
}

static void unwritable_dir_keeps_everything(void **st)
{
	(void)st;
	setenv("TMPDIR", "/nonexistent/tlsready-test", 1);
	struct spool sp;
	spool_init(&sp, by_first_packet, 0);
	enum { N = 300 };
	struct flow_record *v[N];
	for (size_t i = 0; i < N; i++) {
		v[i] = make(i, (int64_t)(N - i), (int)(i % 6));
		assert_true(spool_add(&sp, v[i], 0, -1));
	}
	unsetenv("TMPDIR");
	assert_true(sp.write_failed);
	assert_non_null(spool_error(&sp));
	assert_non_null(strstr(spool_error(&sp), "/nonexistent/tlsready-test"));
	assert_int_equal(sp.n_runs, 0);
	struct spool_reader *rd = spool_read(&sp);
	struct spool_item it;
	size_t k = 0;
	while (spool_next(rd, &it)) {
		assert_same(v[N - 1 - k], it.r);
		k++;
	}
	assert_int_equal(k, N);
	assert_false(sp.read_failed);
	spool_reader_close(rd);
	spool_free(&sp);
	for (size_t i = 0; i < N; i++)
		free_rec(v[i]);
}

static void cut_run_is_a_read_failure(void **st)
{
	(void)st;
	struct spool sp;
	spool_init(&sp, by_first_packet, 64 * 1024);   /* a few runs: none merged before reading */
	enum { N = 200 };
	struct flow_record *v[N];
	for (size_t i = 0; i < N; i++) {
		v[i] = make(i, (int64_t)i, 1);
		assert_true(spool_add(&sp, v[i], 0, -1));
	}
	assert_true(sp.n_runs >= 2 && sp.n_runs <= SPOOL_MAX_OPEN);
	/* the last run on disk loses its second half */
	const struct spool_run *last = &sp.runs[sp.n_runs - 1];
	assert_int_equal(ftruncate(last->fd, (off_t)(last->off + last->len / 2)), 0);
	struct spool_reader *rd = spool_read(&sp);
	size_t k = 0;
	struct spool_item it;
	while (rd && spool_next(rd, &it))
		k++;
	assert_true(k < N);
	assert_true(sp.read_failed);
	assert_non_null(strstr(spool_error(&sp), "read"));
	spool_reader_close(rd);
	spool_free(&sp);
	for (size_t i = 0; i < N; i++)
		free_rec(v[i]);
}

static void every_protocol_has_a_size(void **st)
{
	(void)st;
	for (const struct protocol *const *p = protocols; *p; p++)
		assert_true((*p)->state_size > 0);
}

int main(void)
{
	for (int k = 0; k < 3; k++) {
		certs[k].parsed = true;
		snprintf(certs[k].subject, sizeof certs[k].subject, "CN=host%d.example", k);
		snprintf(certs[k].sha256, sizeof certs[k].sha256, "%064d", k);
		certs[k].key_bits = 2048 << k;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_protocol_has_a_size),
		cmocka_unit_test(one_run_per_record),
		cmocka_unit_test(small_batches),
		cmocka_unit_test(one_batch_in_memory),
		cmocka_unit_test(adopted),
		cmocka_unit_test(no_name_left),
		cmocka_unit_test(unwritable_dir_keeps_everything),
		cmocka_unit_test(cut_run_is_a_read_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
