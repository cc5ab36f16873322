/*
 * monitor.c - the monitor loop, the privilege drop, the signals, and the
 * report of the stored state (see monitor.h).
 *
 * Start-up, in this order: read the catalogue, open (create, check,
 * migrate) the state file, open the events file, open the capture device,
 * give the files to the unprivileged user and become that user with no
 * capabilities left.  Then, in the capture thread: packets go into the
 * engine; every second idle flows are expired (no packet needed); every
 * --interval the finished records, a snapshot of the open flows and the
 * interval's counters go to the store in one transaction, and the records
 * are freed, so memory does not grow with the number of finished flows
 * (within an interval, records past --records-memory wait in a spool,
 * spool.h, read back by the checkpoint).
 * SIGTERM/SIGINT end every open flow as "open" and write a last checkpoint;
 * SIGHUP re-reads --services and reopens the events file; SIGUSR1 writes
 * the report of the stored state to --report-file or standard error.
 * --report-file is also rewritten after the checkpoints (every one, or the
 * first --report-interval after the last write) and at the stop, replaced
 * as a whole by a rename so that a reader never sees half a report.
 * On the shared PostgreSQL store the capture thread never reads the
 * database: the findings of the events file are computed by the store's
 * writer thread when it applies a checkpoint and drained here every second,
 * and the reports (--report-file, SIGUSR1) are written by a thread of their
 * own.
 */
#define _GNU_SOURCE
#include "monitor.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "findings.h"
#include "inventory.h"
#include "leasebook.h"
#include "outfile.h"
#include "compare.h"
#include "names.h"
#include "redact.h"
#include "report.h"
#include "report_compare.h"
#include "report_plan.h"
#include "state_report.h"
#include "services.h"
#include "spool.h"
#include "store.h"
#include "tls.h"

#define DAY_US ((int64_t)86400 * 1000000)
#define HOUR_US ((int64_t)3600 * 1000000)
#define STOP_FLUSH_MS 10000        /* the shared store's queue applied at the stop: the wait's bound */

static volatile sig_atomic_t got_hup, got_usr1;

static void on_stop(int sig)
{
	(void)sig;
	capture_stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool monitor_parse_duration(const char *s, int64_t *us)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	int64_t unit = 1;
	if (*end) {
		static const struct { char c; int64_t secs; } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
									   { 'd', 86400 }, { 'w', 604800 } };
		unit = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (*end == units[i].c && end[1] == '\0')
				unit = units[i].secs;
		if (!unit)
			return false;
	}
	if (v > (unsigned long long)(INT64_MAX / 1000000 / unit))
		return false;
	*us = (int64_t)v * unit * 1000000;
	return true;
}

/* ---- privilege drop, tcpdump style ---- */

bool monitor_parse_when(const char *s, int64_t now_us, int64_t *us)
{
	int64_t d;
	if (monitor_parse_duration(s, &d)) {
		*us = now_us - d;
		return true;
	}
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		return false;
	if (*end == 'T' || *end == ' ') {
		const char *t = strptime(end + 1, "%H:%M:%S", &tm);
		if (!t)
			t = strptime(end + 1, "%H:%M", &tm);
		end = t;
		if (end && *end == 'Z')
			end++;
	}
	if (!end || *end)
		return false;
	*us = (int64_t)timegm(&tm) * 1000000;
	return true;
}

static bool clear_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data) != 0) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
		return false;
	}
	return true;
}

static bool become(const struct passwd *pw, char *err, size_t errlen)
{
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot become user %s: %s", pw->pw_name, strerror(errno));
		return false;
	}
	if (getuid() == 0 || geteuid() == 0 || getgid() == 0 || getegid() == 0 || setuid(0) != -1) {
		snprintf(err, errlen, "dropping root to user %s failed: root could be regained", pw->pw_name);
		return false;
	}
	return true;
}

/* Resolve -Z (or the default user).  *keep_root: running as root was asked for (-Z root). */
static const struct passwd *target_user(const char *name, bool *keep_root, char *err, size_t errlen)
{
	const struct passwd *pw;
	bool dflt = name == NULL;
	if (dflt)
		name = getpwnam("tlsready") ? "tlsready" : "nobody";
	if (!(pw = getpwnam(name))) {
		snprintf(err, errlen, "%s%s: no such user%s", dflt ? "the default user " : "-Z ", name,
			 dflt ? "; give -Z USER" : "");
		return NULL;
	}
	*keep_root = pw->pw_uid == 0;
	if (*keep_root && strcmp(name, "root") != 0) {
		snprintf(err, errlen, "-Z %s: that user is root; say -Z root to keep root", name);
		return NULL;
	}
	return pw;
}

/* After the device and the files are open: no root and no capabilities left. */
static bool drop_privileges(const struct passwd *pw, bool keep_root, bool explicit_user, char *err, size_t errlen)
{
	bool root = getuid() == 0 || geteuid() == 0;
	if (root && keep_root) {
		fprintf(stderr, "tlsready: warning: keeping root (-Z root)\n");
	} else if (root) {
		if (!become(pw, err, errlen))
			return false;
	} else if (explicit_user && pw->pw_uid != getuid()) {
		snprintf(err, errlen, "-Z %s: cannot switch user when not started as root", pw->pw_name);
		return false;
	}
	if (!(root && keep_root) && !clear_capabilities(err, errlen))
		return false;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return false;
	}
	return true;
}

/* ---- the monitor ---- */

struct mon {
	const struct monitor_opts *o;
	struct services *svc;
	struct engine e;
	struct store *store;
	struct events ev;
	struct capture_handle *cap;
	struct capture_status st;
	struct store_totals prev;  /* the totals at the last checkpoint */
	unsigned long long prev_recv, prev_drop, prev_ifdrop;
	int64_t iv_start_us;
	unsigned failed_checkpoints;
	int64_t last_report_us;    /* monotonic time --report-file was last written (0: not yet) */
	bool report_failing;       /* the last write of --report-file failed (said once) */
	bool engine_ok;            /* engine_init() succeeded: engine_free() at the end */
	struct reporter *rep;      /* the shared store: --report-file written by a thread of its own */
	int64_t att_day;           /* --max-attempts: the UTC day whose attempt-only records are counted, */
	uint64_t att_kept;         /* and how many of them were kept as records */
};

/* A checkpoint handed `kept` attempt-only records over: the rest of the interval keeps at most what is
 * left of its UTC day's --max-attempts (the day of the last packet: an interval over midnight keeps what
 * was left of the day before). */
static void count_kept(struct mon *m, size_t kept)
{
	if (!m->e.att)
		return;
	int64_t day = inventory_day(m->e.last_us);
	if (day != m->att_day) {
		m->att_day = day;
		m->att_kept = 0;
	}
	m->att_kept += kept;
	uint64_t cap = m->e.att->limit;
	m->e.att->max_kept = m->att_kept < cap ? cap - m->att_kept : 0;
}

static void on_flow(void *ctx, const char *json)
{
	events_flow(&((struct mon *)ctx)->ev, json);
}

/* libpcap's counters are 32-bit and cumulative: the delta since the last checkpoint */
static uint64_t delta32(unsigned long long now, unsigned long long before)
{
	return (uint32_t)((uint32_t)now - (uint32_t)before);
}

/* A finding's strings that point into the catalogue (service names) copied into the inventory: it
 * goes to the shared store's writer thread, and SIGHUP may free the catalogue meanwhile. */
static void own_strings(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n_clients; i++)
		for (size_t j = 0; j < inv->clients[i].n_use; j++)
			if (inv->clients[i].use[j].service)
				inv->clients[i].use[j].service = inventory_intern(inv, inv->clients[i].use[j].service);
	for (size_t i = 0; i < inv->n_servers; i++)
		for (size_t j = 0; j < inv->servers[i].n_ports; j++)
			if (inv->servers[i].ports[j].service)
				inv->servers[i].ports[j].service = inventory_intern(inv, inv->servers[i].ports[j].service);
}

/* A record's DHCP host by the lease book (ctx). */
static int32_t book_host(const void *ctx, const struct flow_record *r)
{
	return leasebook_host_at(ctx, &r->cli, r->start_us);
}

/* The inventory of the checkpoint's flows (analysis a: done's and open's records) as the store will key
 * its rows: a row per DHCP host over its addresses (the host whose lease held the address when the
 * connection started: the leases the state kept and this checkpoint's, store_lease_book()), named by
 * the host's key (dhcp->hw, redacted as stored), or per address; the names redacted if asked. */
static bool build_now(struct mon *m, const struct analysis *done, const struct analysis *open, const struct analysis *a,
		      struct inventory *inv)
{
	struct store_checkpoint c = { .done = done, .open = open, .redact = m->o->redact, .redact_key = m->o->redact_key };
	struct leasebook book = { 0 };
	int32_t *hosts = a->spool ? NULL : malloc((a->n_records ? a->n_records : 1) * sizeof *hosts);
	if (!a->spool && !hosts)
		return false;
	if (!store_lease_book(m->store, &c, &book)) {
		fprintf(stderr, "tlsready: warning: the DHCP leases could not be read; the findings of this checkpoint"
				" compare per address\n");
		leasebook_free(&book);
	}
	bool ok;
	if (a->spool) {
		ok = inventory_build_spooled(inv, a, NULL, false, book_host, &book);   /* inventory_build_follow's rows */
	} else {
		for (size_t i = 0; i < a->n_records; i++)
			hosts[i] = leasebook_host_at(&book, &a->records[i]->cli, a->records[i]->start_us);
		ok = inventory_build_follow(inv, a, hosts);
	}
	if (ok && m->o->redact)
		redact_inventory(inv, m->o->redact_key);
	if (ok && !(ok = leasebook_identify(&book, inv)))   /* after the redaction: the keys are as stored */
		inventory_free(inv);
	free(hosts);
	leasebook_free(&book);
	return ok;
}

/* What the store holds for the clients of `now`: their addresses and DHCP hosts (store_query). */
static bool load_before(struct mon *m, const struct inventory *now, struct inventory *before, char *err, size_t errlen)
{
	struct store_query q;
	bool ok = store_query_of_clients(&q, now);
	if (!ok)
		snprintf(err, errlen, "out of memory");
	ok = ok && store_load_inventory(m->store, &q, before, err, errlen);
	store_query_free(&q);
	return ok;
}

/* done's spooled records and open's into one spool, and the analysis of it (false: no memory, or the
 * spool could not be read or written back). */
static bool spool_both(struct spool *both, const struct analysis *done, const struct analysis *open,
		       struct analysis *a)
{
	struct record_iter it;
	bool ok = analysis_iter_start(done, &it);
	const struct flow_record *r;
	size_t i;
	while (ok && (r = analysis_iter_next(&it, &i)))
		ok = spool_add(both, r, 0, -1);
	analysis_iter_end(&it);
	for (i = 0; ok && open && i < open->n_records; i++)
		ok = spool_add(both, open->records[i], 0, -1);
	return ok && !analysis_error(done) && analysis_of_spool(a, both, done->last_us);
}

/* The checkpoint's findings: the inventory of its flows (open ones included, clients keyed as they will
 * be stored) against what the store holds for the same clients.  The shared store: the inventory goes to
 * its writer thread, which compares it with every sensor's stored inventory when it applies this
 * checkpoint (the capture thread never waits on the database); the findings come back through
 * take_findings(). */
static size_t detect(struct mon *m, const struct analysis *done, const struct analysis *open, int64_t now,
		     struct event_finding **out)
{
	*out = NULL;
	bool in_loop = store_reads_in_loop(m->store);
	if (!in_loop && !m->o->events_file && !m->o->use_syslog)
		return 0;   /* nobody to tell: the database is not asked */
	size_t n = done->n_records + (open ? open->n_records : 0), i = 0, j = 0, k = 0;
	struct flow_record **all = done->spool ? NULL : malloc((n ? n : 1) * sizeof *all);
	struct spool both;         /* done spooled (past --records-memory): done's and open's records on disk */
	if (done->spool) {
		spool_init(&both, engine_spool_order, done->spool->budget);
	} else if (!all) {
		if (!in_loop)
			store_findings_next(m->store, NULL, now, m->o->back_after_us);
		return 0;
	}
	while (all && (i < done->n_records || (open && j < open->n_records))) {   /* both sorted by first packet */
		if (open && j < open->n_records &&
		    (i == done->n_records || open->records[j]->start_us < done->records[i]->start_us))
			all[k++] = open->records[j++];
		else
			all[k++] = done->records[i++];
	}
	struct analysis a;
	struct inventory now_inv, before;
	size_t found = 0;
	bool handed = false;
	if (all ? analysis_of_records(&a, all, n, done->last_us) : spool_both(&both, done, open, &a)) {
		if (build_now(m, done, open, &a, &now_inv)) {
			if (!in_loop) {
				own_strings(&now_inv);
				store_findings_next(m->store, &now_inv, now, m->o->back_after_us);
				handed = true;
			}
			char err[600];
			if (in_loop && load_before(m, &now_inv, &before, err, sizeof err)) {
				found = events_detect(&before, &now_inv, now, m->o->back_after_us, out);
				inventory_free(&before);
			} else if (in_loop) {
				fprintf(stderr, "tlsready: warning: %s; no findings at this checkpoint\n", err);
			}
			inventory_free(&now_inv);
		}
		analysis_free(&a);
	}
	if (!in_loop && !handed)   /* no memory: this checkpoint gives no findings (counted) */
		store_findings_next(m->store, NULL, now, m->o->back_after_us);
	free(all);
	if (done->spool)
		spool_free(&both);
	return found;
}

/* The findings the shared store's writer computed since the last call, to the events file and syslog
 * (a whole checkpoint's at a time: it hands them over per applied checkpoint). */
static void take_findings(struct mon *m)
{
	struct event_finding *found;
	size_t n = store_findings_take(m->store, &found);
	for (size_t i = 0; i < n; i++)
		events_finding(&m->ev, &found[i]);
	free(found);
	if (n && !events_flush(&m->ev))
		fprintf(stderr, "tlsready: warning: %s: writing events failed\n", m->o->events_file);
}

static bool checkpoint(struct mon *m, bool final)
{
	char err[600];
	struct flow_record **open = NULL;
	size_t n_open = 0;
	int64_t now = wall_us();
	m->e.cnt.store_dropped = store_dropped_checkpoints(m->store);   /* goes with this checkpoint's counters */
	m->e.cnt.store_findings_skipped = store_findings_skipped(m->store);
	count_kept(m, engine_prepare_records(&m->e));
	struct analysis done, opened;
	if (!analysis_build(&done, &m->e, &m->st)) {
		fprintf(stderr, "tlsready: out of memory building the inventory; retrying at the next checkpoint\n");
		return false;
	}
	if (!final)
		n_open = engine_open_snapshot(&m->e, &open);
	bool have_open = analysis_of_records(&opened, open, n_open, m->e.last_us);
	struct event_finding *found = NULL;
	size_t n_found = detect(m, &done, have_open ? &opened : NULL, now, &found);
	bool have_stats = m->cap && capture_live_stats(m->cap, &m->st);
	/* at the stop, after the drain: what libpcap received and the engine never saw */
	uint64_t not_analysed = final && have_stats ? capture_not_analysed(&m->st, m->e.cnt.packets) : 0;
	struct store_checkpoint c = {
		.done = &done, .open = have_open ? &opened : NULL, .prev = &m->prev,
		.iface = m->o->co.iface, .start_us = m->iv_start_us, .end_us = now, .have_pcap_stats = have_stats,
		.received = have_stats ? delta32(m->st.ps_recv, m->prev_recv) : 0,
		.dropped_kernel = have_stats ? delta32(m->st.ps_drop, m->prev_drop) : 0,
		.dropped_interface = have_stats ? delta32(m->st.ps_ifdrop, m->prev_ifdrop) : 0,
		.not_analysed = not_analysed,
		.now_us = now, .retain_us = m->o->retain_us,
		.redact = m->o->redact, .redact_key = m->o->redact_key,
		.on_flow = on_flow, .ctx = m,
	};
	bool ok = store_checkpoint(m->store, &c, err, sizeof err);
	if (ok) {
		for (size_t i = 0; i < n_found; i++)
			events_finding(&m->ev, &found[i]);
		store_totals_of(&m->prev, &done);
		/* the names went into the state with this checkpoint: the next interval's start afresh (their
		 * counts add up in the store, and a prepared table takes no more names) */
		names_free(m->e.names);
		m->e.names = NULL;
		if (have_stats) {
			m->prev_recv = m->st.ps_recv;
			m->prev_drop = m->st.ps_drop;
			m->prev_ifdrop = m->st.ps_ifdrop;
		}
		m->iv_start_us = now;
	}
	free(found);
	analysis_free(&done);
	if (have_open)
		analysis_free(&opened);
	engine_free_snapshot(open, n_open);
	if (m->e.spool && m->e.spool->write_failed)   /* this interval's records stayed in memory: say why */
		spool_say(m->e.spool, true);
	if (ok) {
		engine_drop_records(&m->e);
		engine_attempts_stored(&m->e);   /* the folded groups are in the store: the next interval folds afresh */
		malloc_trim(0);   /* give the freed records back: the resident size follows the open flows */
		if (!events_flush(&m->ev))
			fprintf(stderr, "tlsready: warning: %s: writing events failed\n", m->o->events_file);
		m->failed_checkpoints = 0;
	} else if (m->failed_checkpoints++ < 5 || final) {
		/* the records stay in memory and go with the next checkpoint */
		fprintf(stderr, "tlsready: warning: checkpoint failed: %s\n", err);
	}
	return ok;
}

static void reload(struct mon *m)
{
	char err[600];
	if (m->o->services_file) {
		struct services *fresh = malloc(sizeof *fresh);
		if (!fresh) {
			fprintf(stderr, "tlsready: SIGHUP: out of memory; the catalogue is unchanged\n");
		} else {
			services_init(fresh);
			if (!services_load(fresh, m->o->services_file, err, sizeof err)) {
				fprintf(stderr, "tlsready: SIGHUP: %s; the catalogue is unchanged\n", err);
				free(fresh);
			} else {
				struct services *old = m->svc;
				engine_set_services(&m->e, fresh);
				m->svc = fresh;
				free(old);
				if (!capture_live_refilter(m->cap, &m->st))
					fprintf(stderr, "tlsready: SIGHUP: %s\n", m->st.error);
				fprintf(stderr, "tlsready: SIGHUP: %s read again\n", m->o->services_file);
			}
		}
	}
	if (!events_reopen(&m->ev, err, sizeof err))
		fprintf(stderr, "tlsready: SIGHUP: %s\n", err);
}

/* The format of a --report-file, from its name: .html the page to share, .json and .csv those
 * reports, anything else the text. */
static const char *report_file_format(const char *path)
{
	static const char *const ext[][2] = { { ".html", "html" }, { ".json", "json" }, { ".csv", "csv" } };
	size_t len = strlen(path);
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t el = strlen(ext[i][0]);
		if (len > el && strcmp(path + len - el, ext[i][0]) == 0)
			return ext[i][1];
	}
	return "text";
}

/* The report of the stored state to --report-file, replaced as a whole (outfile_replace_open: a new
 * file renamed over it, no link followed, created 0640: it names users), or the text report to
 * standard error without --report-file (SIGUSR1 only).  `why` starts each message; a failure is said
 * when `loud` (SIGUSR1, the stop) or when the last write worked, so a periodic failure is said once. */
static void write_report(struct mon *m, const char *why, bool loud)
{
	FILE *f = stderr;
	char err[600] = "", tmp[4096] = "";
	const char *rf = m->o->report_file;
	if (rf) {
		int fd;
		if (outfile_replace_open(rf, 0640, &fd, tmp, sizeof tmp, err, sizeof err) != OUTFILE_OK) {
			if (loud || !m->report_failing)
				fprintf(stderr, "tlsready: %s: report file %s; not written\n", why, err);
			m->report_failing = true;
			return;
		}
		if (!(f = fdopen(fd, "w"))) {
			fprintf(stderr, "tlsready: %s: %s: cannot write: %s\n", why, rf, strerror(errno));
			close(fd);
			outfile_replace_abort(tmp);
			m->report_failing = true;
			return;
		}
	}
	int64_t now = wall_us();
	struct monitor_report_opts ro = { .db = m->o->db, .now_us = now, .new_since_us = now - MONITOR_DEFAULT_SINCE,
					  .new_len_us = MONITOR_DEFAULT_SINCE, .format = rf ? report_file_format(rf) : "text" };
	int rc = monitor_report(&ro, f);
	if (f == stderr)
		return;
	bool ok = fclose(f) == 0 && rc != 2;
	if (!ok) {
		outfile_replace_abort(tmp);
		snprintf(err, sizeof err, "%s: write failed", rf);
	} else {
		ok = outfile_replace_commit(tmp, rf, err, sizeof err);
	}
	if (!ok && (loud || !m->report_failing))
		fprintf(stderr, "tlsready: %s: report file %s; not written\n", why, err);
	m->report_failing = !ok;
}

/* ---- the shared store's reports, off the capture thread ---- */

/* A report of the shared store reads the database, which may be slow or away: it is written by this
 * thread, which the capture thread only asks (a flag under a mutex, never a wait).  A request while a
 * report is being written is kept for after it (one, not a backlog).  The thread first waits (bounded)
 * for the checkpoints queued so far to be applied, so that the report shows them. */
#define REPORT_FLUSH_MS 5000

struct reporter {
	struct mon *m;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want, loud, stop;
	const char *why;
};

static void *reporter_main(void *arg)
{
	struct reporter *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->want && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		const char *why = r->why;
		bool loud = r->loud;
		r->want = r->loud = false;
		pthread_mutex_unlock(&r->mu);
		store_flush(r->m->store, REPORT_FLUSH_MS);
		write_report(r->m, why, loud);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static bool reporter_start(struct mon *m)
{
	struct reporter *r = calloc(1, sizeof *r);
	if (!r)
		return false;
	r->m = m;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);   /* signals stay with the capture thread */
	int rc = pthread_create(&r->th, NULL, reporter_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		return false;
	}
	m->rep = r;
	return true;
}

static void reporter_ask(struct reporter *r, const char *why, bool loud)
{
	pthread_mutex_lock(&r->mu);
	r->want = true;
	r->why = why;
	r->loud |= loud;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* At the stop: the report being written is finished, a request not started is dropped (the stop
 * writes the last one). */
static void reporter_stop(struct mon *m)
{
	struct reporter *r = m->rep;
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	m->rep = NULL;
}

/* A report now (the file store: here) or by the reporter thread (the shared store). */
static void report_now(struct mon *m, const char *why, bool loud)
{
	if (m->rep)
		reporter_ask(m->rep, why, loud);
	else
		write_report(m, why, loud);
}

static void set_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static int loop(struct mon *m)
{
	int64_t interval = (int64_t)m->o->interval_s * 1000000;
	int64_t next_ckpt = mono_us() + interval, next_tick = mono_us() + 1000000;
	int code = 0;
	while (!capture_stop) {
		if (capture_live_dispatch(m->cap, &m->st) < 0) {
			fprintf(stderr, "tlsready: %s\n", m->st.warnings[m->st.n_warnings - 1]);
			code = 1;
			break;
		}
		int64_t t = mono_us();
		if (t >= next_tick) {
			engine_tick(&m->e, wall_us());
			take_findings(m);   /* the shared store's: a mutex, never the database */
			next_tick = t + 1000000;
		}
		if (t >= next_ckpt) {
			checkpoint(m, false);
			next_ckpt = t + interval;
			/* the shared store's report is written by its own thread: the capture never waits on it */
			if (m->o->report_file && (!m->last_report_us || t - m->last_report_us >= m->o->report_every_us)) {
				m->last_report_us = t;   /* checkpoint times only grow: the period never slips */
				report_now(m, "checkpoint", false);
			}
		}
		if (got_hup) {
			got_hup = 0;
			checkpoint(m, false);
			reload(m);
		}
		if (got_usr1) {
			got_usr1 = 0;
			checkpoint(m, false);
			report_now(m, "SIGUSR1", true);
		}
	}
	return code;
}

static void shut(struct mon *m)
{
	capture_live_close(m->cap);
	events_close(&m->ev);
	store_close(m->store);
	if (m->engine_ok)
		engine_free(&m->e);
	free(m->svc);
}

static int start(struct mon *m)
{
	const struct monitor_opts *o = m->o;
	char err[600];
	int code = 2;
	bool keep_root = false;
	const struct passwd *pw = target_user(o->user, &keep_root, err, sizeof err);
	struct passwd user;
	if (!pw)
		goto fail;
	user = *pw;   /* getpwnam's buffer is reused by initgroups */
	user.pw_name = strdup(pw->pw_name);
	if (!user.pw_name || !(m->svc = malloc(sizeof *m->svc))) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	services_init(m->svc);
	if (o->services_file && !services_load(m->svc, o->services_file, err, sizeof err))
		goto fail;
	struct engine_config cfg = o->cfg;
	cfg.spool_records = true;   /* an interval's records past --records-memory wait in a temporary file */
	if (!(m->engine_ok = engine_init(&m->e, &cfg, m->svc, err, sizeof err)))
		goto fail;
	enum store_failure why;
	if (!(m->store = store_open_why(o->db, STORE_WRITE, err, sizeof err, &why))) {
		code = why == STORE_FAIL_LOCKED ? EXIT_STATE_IN_USE : why == STORE_FAIL_UNSAFE ? EXIT_UNSAFE_FILE : 2;
		goto fail;
	}
	if (!events_open(&m->ev, o->events_file, o->use_syslog, err, sizeof err)) {
		code = m->ev.unsafe ? EXIT_UNSAFE_FILE : 2;
		goto fail;
	}
	if (!(m->cap = capture_live_open(&m->e, capture_engine_sink(&m->e), &o->co, &m->st))) {
		snprintf(err, sizeof err, "%s", m->st.error);
		goto fail;
	}
	bool root = getuid() == 0 || geteuid() == 0;
	if (root && !keep_root &&
	    (!store_chown(m->store, user.pw_uid, user.pw_gid, err, sizeof err) ||
	     !events_chown(&m->ev, user.pw_uid, user.pw_gid, err, sizeof err)))
		goto fail;
	if (!drop_privileges(&user, keep_root, o->user != NULL, err, sizeof err))
		goto fail;
	m->iv_start_us = wall_us();
	if (!store_run_start(m->store, o->co.iface, m->iv_start_us, err, sizeof err))
		goto fail;
	char shown[300];
	fprintf(stderr, "tlsready: monitoring %s into %s as user %s (uid %u), checkpoint every %d s\n", o->co.iface,
		store_display(o->db, shown, sizeof shown), keep_root ? "root" : user.pw_name, (unsigned)getuid(), o->interval_s);
	free(user.pw_name);
	return 0;
fail:
	if (pw)
		free(user.pw_name);
	fprintf(stderr, "tlsready: %s\n", err);
	return code;
}

int monitor_run(const struct monitor_opts *o)
{
	static struct mon m;
	memset(&m, 0, sizeof m);
	m.o = o;
	capture_stop = 0;
	set_signals();
	int started = start(&m);
	if (started != 0) {
		shut(&m);
		return started;
	}
	if (!store_reads_in_loop(m.store) && !reporter_start(&m))
		fprintf(stderr, "tlsready: warning: cannot start the report thread; --report-file and SIGUSR1 write"
				" in the capture thread\n");
	int code = loop(&m);
	reporter_stop(&m);
	/* what libpcap already holds is analysed (bounded: CAPTURE_DRAIN_MS), the rest is counted
	 * at the last checkpoint; flows in progress are written as open */
	if (m.cap && code == 0)
		capture_live_drain(m.cap, &m.st, CAPTURE_DRAIN_MS);
	engine_finish(&m.e);
	if (!checkpoint(&m, true))
		code = code ? code : 1;
	store_run_stop(m.store, wall_us());
	/* the shared store: the last checkpoints applied (bounded), their findings told, before the last
	 * report reads the database */
	if (!store_reads_in_loop(m.store))
		store_flush(m.store, STOP_FLUSH_MS);   /* on a timeout the close says what stays queued */
	take_findings(&m);
	if (o->report_file)   /* the file left behind is the report of everything stored */
		write_report(&m, "stop", true);
	shut(&m);
	return code;
}

/* ---- the report of the stored state ---- */

/* A stored report's analysis: the store's cumulative counters under the registry's names, the
 * window's time span; no records (they are in the flow table, and in the events file). */
static void stored_analysis(struct analysis *a, const struct store_view *v, const struct inventory *inv,
			    const struct capture_status *st)
{
	memset(a, 0, sizeof *a);
	a->n_counters = counters_names(a->counters);
	for (size_t i = 0; i < a->n_counters; i++) {
		char name[96];
		const struct counter *k = &a->counters[i];
		snprintf(name, sizeof name, "%s%s%s", k->group ? k->group : "", k->group ? "." : "", k->name);
		a->counters[i].value = store_view_counter(v, name);
	}
	a->packets = store_view_counter(v, "packets");
	a->bytes = store_view_counter(v, "bytes");
	a->tcp_packets = store_view_counter(v, "tcp_packets");
	for (size_t i = 0; i < inv->n_clients; i++) {
		const struct inv_client *c = &inv->clients[i];
		if (!a->any_packet || c->first_us < a->first_us)
			a->first_us = c->first_us;
		if (c->last_us > a->last_us)
			a->last_us = c->last_us;
		a->any_packet = true;
	}
	a->iface = v->iface[0] ? v->iface : NULL;
	a->st = st;
}

/* The window's inventory against an earlier window's (--compare): the comparison alone. */
static int report_comparison(struct store *s, const struct monitor_report_opts *o, const struct inventory *after,
			     FILE *out)
{
	char err[600];
	struct inventory before;
	struct store_query qb = { .since_us = o->compare_since_us, .until_us = o->compare_until_us };
	if (!store_load_inventory(s, &qb, &before, err, sizeof err)) {
		fprintf(stderr, "tlsready: %s\n", err);
		return 2;
	}
	struct cmp_period pb = { o->compare_since_us ? o->compare_since_us : CMP_OPEN,
				 o->compare_until_us ? o->compare_until_us : CMP_OPEN };
	struct cmp_period pa = { o->since_us ? o->since_us : CMP_OPEN, o->until_us ? o->until_us : CMP_OPEN };
	struct comparison cmp;
	int code = 0;
	if (!compare_build(&cmp, &before, &pb, after, &pa)) {
		fprintf(stderr, "tlsready: out of memory comparing the periods\n");
		code = 2;
	} else {
		struct report_ctx rc = { .out = out };
		if (strcmp(o->format, "json") == 0)
			report_compare_json(&rc, &cmp);
		else if (strcmp(o->format, "csv") == 0)
			report_compare_csv(&rc, &cmp);
		else
			report_compare_text(&rc, &cmp);
		compare_free(&cmp);   /* before the inventories: its items point into them */
	}
	inventory_free(&before);
	return code;
}

int monitor_report(const struct monitor_report_opts *o, FILE *out)
{
	char err[600];
	struct store *s = store_open(o->db, STORE_READ, err, sizeof err);
	struct store_view v;
	struct inventory inv;
	struct store_query q = { .since_us = o->since_us, .until_us = o->until_us };
	if (!s || !store_load(s, o->new_since_us, &v, err, sizeof err)) {
		fprintf(stderr, "tlsready: %s\n", err);
		store_close(s);
		return 2;
	}
	if (!store_load_inventory(s, &q, &inv, err, sizeof err)) {
		fprintf(stderr, "tlsready: %s\n", err);
		store_view_free(&v);
		store_close(s);
		return 2;
	}
	int code = 0;
	struct attempts folded = { 0 };
	if (o->compare) {
		code = report_comparison(s, o, &inv, out);
		store_close(s);
	} else if (!store_load_attempts(s, &q, &folded, err, sizeof err)) {
		fprintf(stderr, "tlsready: %s\n", err);
		store_close(s);
		code = 2;
	} else {
		store_close(s);
		static const struct capture_status none;
		struct analysis a;
		stored_analysis(&a, &v, &inv, &none);
		a.folded = &folded;   /* the attempt-only connections folded on the window's days */
		char shown[300];
		struct report_state rs = { .v = &v, .db = store_display(o->db, shown, sizeof shown), .now_us = o->now_us, .since_us = o->since_us,
					   .until_us = o->until_us, .new_since_us = o->new_since_us,
					   .new_len_us = o->new_len_us };
		/* names were redacted when the monitor stored them, if it was asked to */
		struct report_ctx rc = { .out = out, .a = &a, .inv = &inv, .state = &rs, .plan_days = o->plan_days,
					 .plan_only = o->plan_only };
		int gate = report_write(&rc, o->format, o->ready_door);
		/* the window is whole days; "used a nonsecure port since" is exact */
		for (size_t i = 0; o->fail_on_nonsecure && i < inv.n_clients; i++)
			if (inv.clients[i].status == CS_NONSECURE && inv.clients[i].last_nonsecure_us >= o->since_us)
				code = 3;
		if (!code && gate)
			code = gate;
	}
	attempts_free(&folded);
	inventory_free(&inv);
	store_view_free(&v);
	if (fflush(out) != 0) {
		fprintf(stderr, "tlsready: write failed\n");
		return 2;
	}
	return code;
}
