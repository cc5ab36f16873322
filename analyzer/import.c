/*
 * import.c - capture files into the state (see import.h): digest each file,
 * refuse one the state has seen, read them all into one engine, and hand its
 * analysis to the store as one checkpoint that also records the digests.
 * Past --records-memory the engine spools its records (spool.h) and the
 * checkpoint reads them back, so an import's memory does not grow with them.
 */
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "analysis.h"
#include "monitor.h"
#include "report.h"
#include "spool.h"
#include "store.h"

/* The SHA-256 of a file's bytes as 64 hex digits; false with err when it cannot be read. */
static bool file_digest(const char *path, char hex[65], char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return false;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	static unsigned char buf[1 << 16];
	ssize_t n;
	while (ok && (n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			ok = false;
			break;
		}
		ok = EVP_DigestUpdate(md, buf, (size_t)n) == 1;
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (ok)
		ok = EVP_DigestFinal_ex(md, d, &len) == 1 && len == 32;
	EVP_MD_CTX_free(md);
	close(fd);
	for (unsigned i = 0; ok && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	if (!ok && !err[0])
		snprintf(err, errlen, "%s: cannot compute its digest", path);
	return ok;
}

static int64_t wall_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int import_run(const struct import_opts *o)
{
	char err[600] = "";
	static char digests[IMPORT_MAX_FILES][65];
	const char *digest_of[IMPORT_MAX_FILES], *name_of[IMPORT_MAX_FILES];
	if (o->n_paths > IMPORT_MAX_FILES)
		return 2;
	enum store_failure why;
	struct store *s = store_open_why(o->db, STORE_WRITE, err, sizeof err, &why);
	if (!s) {
		fprintf(stderr, "tlsready: %s\n", err);
		return why == STORE_FAIL_LOCKED ? EXIT_STATE_IN_USE : why == STORE_FAIL_UNSAFE ? EXIT_UNSAFE_FILE : 2;
	}
	int code = 0;
	char shown[300];
	const char *db = store_display(o->db, shown, sizeof shown);   /* never a conninfo's secrets */
	for (int i = 0; i < o->n_paths; i++) {
		if (strcmp(o->paths[i], "-") == 0) {
			fprintf(stderr, "tlsready: standard input cannot be imported into --db: a file is known by its"
					" digest\n");
			code = 2;
			continue;
		}
		if (!file_digest(o->paths[i], digests[i], err, sizeof err)) {
			fprintf(stderr, "tlsready: %s\n", err);
			code = 2;
			continue;
		}
		digest_of[i] = digests[i];
		name_of[i] = o->paths[i];
		int64_t when;
		char before[256], t[32];
		for (int k = 0; k < i; k++)
			if (strcmp(digests[k], digests[i]) == 0) {
				fprintf(stderr, "tlsready: %s: the same bytes as %s, given twice; nothing imported\n",
					o->paths[i], o->paths[k]);
				code = EXIT_ALREADY_IMPORTED;
			}
		if (store_imported(s, digests[i], &when, before, sizeof before)) {
			fprintf(stderr, "tlsready: %s: already imported into %s on %.19s UTC (as %s); not counted twice,"
					" nothing imported\n", o->paths[i], db, fmt_time(when, t), before);
			code = EXIT_ALREADY_IMPORTED;
		}
	}
	if (code) {
		store_close(s);
		return code;
	}
	struct engine e;
	struct engine_config cfg = o->cfg;
	cfg.spool_records = true;   /* past --records-memory, records wait in a temporary file for the checkpoint */
	if (!engine_init(&e, &cfg, o->svc, err, sizeof err)) {
		fprintf(stderr, "tlsready: %s\n", err);
		store_close(s);
		return 2;
	}
	static struct capture_status st;
	capture_files(&e, capture_engine_sink(&e), o->paths, o->n_paths, &o->co, &st);
	if (st.exit_code == 2) {
		/* a file that cannot be read: nothing is added, so that fixing it and running again works */
		fprintf(stderr, "tlsready: %s; nothing imported\n", st.error);
		engine_free(&e);
		store_close(s);
		return 2;
	}
	for (int i = 0; i < st.n_warnings; i++)
		fprintf(stderr, "tlsready: warning: %s\n", st.warnings[i]);
	engine_finish(&e);
	engine_release_flows(&e);
	spool_say(e.spool, o->quiet);
	struct analysis a;
	if (!analysis_build(&a, &e, &st)) {
		fprintf(stderr, "tlsready: out of memory; nothing imported\n");
		engine_free(&e);
		store_close(s);
		return 2;
	}
	int64_t now = wall_us();
	struct store_checkpoint c = {
		.done = &a, .start_us = e.first_us, .end_us = e.last_us, .now_us = now,
		.redact = o->redact, .redact_key = o->redact_key,
		.import_digests = digest_of, .import_names = name_of, .n_imports = (size_t)o->n_paths,
	};
	if (e.cnt.file_dropped) {
		/* the files' capturer dropped packets (pcapng interface statistics): the interval says so,
		 * as a monitor's does; received = read + dropped */
		c.have_pcap_stats = true;
		c.dropped_kernel = e.cnt.file_dropped;
		c.received = a.packets + e.cnt.file_dropped;
	}
	if (!store_checkpoint(s, &c, err, sizeof err)) {
		fprintf(stderr, "tlsready: %s; nothing imported\n", err);
		code = 2;
	} else if (!o->quiet) {
		fprintf(stderr, "tlsready: imported %d file%s into %s: %zu connections, %" PRIu64 " packets\n", o->n_paths,
			o->n_paths == 1 ? "" : "s", db, a.n_records, a.packets);
	}
	analysis_free(&a);
	engine_free(&e);
	store_close(s);
	return code ? code : st.exit_code;
}
