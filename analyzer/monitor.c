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
 * are freed, so memory does not grow with the number of finished flows.
 * SIGTERM/SIGINT end every open flow as "open" and write a last checkpoint;
 * SIGHUP re-reads --services and reopens the events file; SIGUSR1 writes
 * the report of the stored state to --report-file or standard error.
 */
#define _GNU_SOURCE
#include "monitor.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <malloc.h>
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
#include "outfile.h"
#include "report.h"
#include "services.h"
#include "store.h"
#include "tls.h"

#define DAY_US ((int64_t)86400 * 1000000)
#define HOUR_US ((int64_t)3600 * 1000000)

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
	struct engine_counters prev_cnt;
	uint64_t prev_learned_dropped;
	unsigned long long prev_recv, prev_drop, prev_ifdrop;
	int64_t iv_start_us;
	unsigned failed_checkpoints;
	bool engine_ok;            /* engine_init() succeeded: engine_free() at the end */
};

static void on_finding(void *ctx, const struct store_finding *f)
{
	events_finding(&((struct mon *)ctx)->ev, f);
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

static bool checkpoint(struct mon *m, bool final)
{
	char err[600];
	struct inventory done, open_inv;
	struct flow_record **open = NULL;
	size_t n_open = 0;
	int64_t now = wall_us();
	engine_prepare_records(&m->e);
	if (!inventory_build(&done, &m->e)) {
		fprintf(stderr, "tlsready: out of memory building the inventory; retrying at the next checkpoint\n");
		inventory_free(&done);
		return false;
	}
	if (!final)
		n_open = engine_open_snapshot(&m->e, &open);
	struct engine snap = m->e;   /* a view of the snapshot for the inventory: nothing is freed through it */
	snap.records = open;
	snap.n_records = n_open;
	bool inv_ok = inventory_build(&open_inv, &snap);
	bool have_stats = m->cap && capture_live_stats(m->cap, &m->st);
	/* at the stop, after the drain: what libpcap received and the engine never saw */
	uint64_t not_analysed = final && have_stats ? capture_not_analysed(&m->st, m->e.cnt.packets) : 0;
	struct store_checkpoint c = {
		.e = &m->e, .done = &done, .open = open, .n_open = n_open, .open_inv = inv_ok ? &open_inv : NULL,
		.cnt = &m->e.cnt, .prev = &m->prev_cnt,
		.learned_dropped = m->svc->learned_dropped, .prev_learned_dropped = m->prev_learned_dropped,
		.iface = m->o->co.iface, .start_us = m->iv_start_us, .end_us = now, .have_pcap_stats = have_stats,
		.received = have_stats ? delta32(m->st.ps_recv, m->prev_recv) : 0,
		.dropped_kernel = have_stats ? delta32(m->st.ps_drop, m->prev_drop) : 0,
		.dropped_interface = have_stats ? delta32(m->st.ps_ifdrop, m->prev_ifdrop) : 0,
		.not_analysed = not_analysed,
		.now_us = now, .retain_us = m->o->retain_us, .back_after_us = m->o->back_after_us,
		.redact = m->o->redact, .redact_key = m->o->redact_key,
		.on_finding = on_finding, .on_flow = on_flow, .ctx = m,
	};
	bool ok = store_checkpoint(m->store, &c, err, sizeof err);
	if (ok) {
		m->prev_cnt = m->e.cnt;
		m->prev_learned_dropped = m->svc->learned_dropped;
		if (have_stats) {
			m->prev_recv = m->st.ps_recv;
			m->prev_drop = m->st.ps_drop;
			m->prev_ifdrop = m->st.ps_ifdrop;
		}
		m->iv_start_us = now;
		engine_drop_records(&m->e);
		malloc_trim(0);   /* give the freed records back: the resident size follows the open flows */
		if (!events_flush(&m->ev))
			fprintf(stderr, "tlsready: warning: %s: writing events failed\n", m->o->events_file);
		m->failed_checkpoints = 0;
	} else if (m->failed_checkpoints++ < 5 || final) {
		/* the records stay in memory and go with the next checkpoint */
		fprintf(stderr, "tlsready: warning: checkpoint failed: %s\n", err);
	}
	inventory_free(&done);
	if (inv_ok)
		inventory_free(&open_inv);
	engine_free_snapshot(open, n_open);
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

static void usr1_report(struct mon *m)
{
	FILE *f = stderr;
	if (m->o->report_file) {
		/* no link followed, created 0640 (it names users), a plain file or a device */
		char err[600];
		int fd;
		if (outfile_open(m->o->report_file, OUTFILE_TRUNCATE | OUTFILE_SPECIAL_OK, 0640, &fd, NULL, err,
				 sizeof err) != OUTFILE_OK) {
			fprintf(stderr, "tlsready: SIGUSR1: report file %s; not written\n", err);
			return;
		}
		if (!(f = fdopen(fd, "w"))) {
			fprintf(stderr, "tlsready: SIGUSR1: %s: cannot write: %s\n", m->o->report_file, strerror(errno));
			close(fd);
			return;
		}
	}
	monitor_report(m->o->db, wall_us() - MONITOR_DEFAULT_SINCE, MONITOR_DEFAULT_SINCE, "text", f, false);
	if (f != stderr && fclose(f) != 0)
		fprintf(stderr, "tlsready: SIGUSR1: %s: write failed\n", m->o->report_file);
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
			next_tick = t + 1000000;
		}
		if (t >= next_ckpt) {
			checkpoint(m, false);
			next_ckpt = t + interval;
		}
		if (got_hup) {
			got_hup = 0;
			checkpoint(m, false);
			reload(m);
		}
		if (got_usr1) {
			got_usr1 = 0;
			checkpoint(m, false);
			usr1_report(m);
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
	if (!(m->engine_ok = engine_init(&m->e, &o->cfg, m->svc, err, sizeof err)))
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
	fprintf(stderr, "tlsready: monitoring %s into %s as user %s (uid %u), checkpoint every %d s\n", o->co.iface,
		o->db, keep_root ? "root" : user.pw_name, (unsigned)getuid(), o->interval_s);
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
	int code = loop(&m);
	/* what libpcap already holds is analysed (bounded: CAPTURE_DRAIN_MS), the rest is counted
	 * at the last checkpoint; flows in progress are written as open */
	if (m.cap && code == 0)
		capture_live_drain(m.cap, &m.st, CAPTURE_DRAIN_MS);
	engine_finish(&m.e);
	if (!checkpoint(&m, true))
		code = code ? code : 1;
	store_run_stop(m.store, wall_us());
	shut(&m);
	return code;
}

/* ---- the report of the stored state ---- */

struct rep {
	FILE *f;
	const struct store_view *v;
	const char *db;
	int64_t now_us, since_us, since_len_us;
};

static void short_time(int64_t us, char *buf)
{
	char t[32];
	if (!us) {
		snprintf(buf, 20, "-");
		return;
	}
	fmt_time(us, t);
	snprintf(buf, 20, "%.10s %.8s", t, t + 11);
}

static void names_text(const struct name_set *s, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < s->n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "," : "", s->v[i]);
	if (s->overflow && o < len)
		snprintf(out + o, len - o, ",...");
	if (!out[0])
		snprintf(out, len, "-");
}

static void versions_text(uint32_t bits, char *out, size_t len)
{
	uint16_t v[8];
	int n = inv_versions(bits, v, 8);
	size_t o = 0;
	out[0] = '\0';
	for (int k = 0; k < n && o < len; k++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", k ? "," : "", tls_version_name(v[k]) + 3);
	if (!n)
		snprintf(out, len, "-");
}

static double coverage(const struct sv_health *h)
{
	uint64_t missed = h->dropped_kernel + h->dropped_interface + h->not_analysed;
	return h->packets + missed ? (double)h->packets / (double)(h->packets + missed) : 1.0;
}

static bool is_new(const struct rep *r, const struct sv_client *c)
{
	return c->status == CS_NONSECURE && c->first_nonsecure_us >= r->since_us;
}

static void text_health(const struct rep *r, const char *label, const struct sv_health *h)
{
	fprintf(r->f, "  %s: %" PRIu64 " intervals, %" PRIu64 " packets analysed; libpcap received %" PRIu64
		", dropped by the kernel %" PRIu64 ", by the interface %" PRIu64 ", not analysed at stop %" PRIu64
		"; coverage %.3f%%\n", label, h->intervals, h->packets, h->received, h->dropped_kernel,
		h->dropped_interface, h->not_analysed, 100.0 * coverage(h));
}

static void text_usage_rows(const struct rep *r, bool internal, enum port_class cls)
{
	FILE *f = r->f;
	char u[256], d[256], t1[24], t2[24];
	bool header = false;
	for (size_t i = 0; i < r->v->n_clients; i++) {
		const struct sv_client *c = &r->v->clients[i];
		if (c->internal != internal || (cls == PC_SECURE && c->status != CS_SECURE) ||
		    (cls == PC_NONSECURE && c->status != CS_NONSECURE))
			continue;
		for (size_t j = 0; j < c->n_use; j++) {
			const struct sv_usage *us = &c->use[j];
			if (us->cls != cls)
				continue;
			if (!header)
				fprintf(f, "  %-22s %-16s %-12s %5s %5s %7s  %-20s %-12s %-19s %-19s\n", "CLIENT", "SERVER",
					"SERVICE", "PORT", "CONN", "REFUSED", "USERS", cls == PC_SECURE ? "TLS" : "DEVICES",
					"FIRST SEEN", "LAST SEEN");
			header = true;
			names_text(&us->users, u, sizeof u);
			if (cls == PC_SECURE)
				versions_text(us->tls_versions, d, sizeof d);
			else
				names_text(&us->devices, d, sizeof d);
			short_time(us->first_us, t1);
			short_time(us->last_us, t2);
			fprintf(f, "  %-22s %-16s %-12s %5u %5" PRIu64 " %7" PRIu64 "  %-20s %-12s %-19s %-19s%s%s\n", c->ip,
				us->server, us->service[0] ? us->service : "-", us->port, us->connections, us->refused, u, d,
				t1, t2, us->in_progress ? "  (in progress)" : "", us->mismatch ? "  (mismatch)" : "");
		}
	}
	if (!header)
		fprintf(f, "  (none)\n");
}

static void text_last_use(const struct rep *r)
{
	FILE *f = r->f;
	char t1[24], t2[24];
	int n = 0;
	for (size_t i = 0; i < r->v->n_clients; i++) {
		const struct sv_client *c = &r->v->clients[i];
		if (c->status != CS_NONSECURE)
			continue;
		if (!n++)
			fprintf(f, "  %-22s %-19s %-19s %s\n", "CLIENT", "FIRST NONSECURE", "LAST NONSECURE", "CLEAN FOR");
		short_time(c->first_nonsecure_us, t1);
		short_time(c->last_nonsecure_us, t2);
		int64_t clean = r->now_us - c->last_nonsecure_us;
		if (c->in_progress)
			fprintf(f, "  %-22s %-19s %-19s %s\n", c->ip, t1, t2, "in use now");
		else
			fprintf(f, "  %-22s %-19s %-19s %" PRId64 " days %02" PRId64 "h\n", c->ip, t1, t2,
				clean / DAY_US, clean % DAY_US / HOUR_US);
	}
	if (!n)
		fprintf(f, "  (none)\n");
}

static void text_new(const struct rep *r)
{
	char t1[24], u[256];
	int n = 0;
	for (size_t i = 0; i < r->v->n_clients; i++) {
		const struct sv_client *c = &r->v->clients[i];
		if (!is_new(r, c))
			continue;
		short_time(c->first_nonsecure_us, t1);
		fprintf(r->f, "  %-22s first nonsecure use %s UTC; services", c->ip, t1);
		for (size_t j = 0; j < c->n_use; j++)
			if (c->use[j].cls == PC_NONSECURE)
				fprintf(r->f, " %s/%u", c->use[j].service[0] ? c->use[j].service : "-", c->use[j].port);
		for (int k = 0; k < c->mapper_requests.n; k++)
			fprintf(r->f, " (asked the port mapper for %s)", c->mapper_requests.v[k]);
		names_text(&c->users, u, sizeof u);
		fprintf(r->f, "; users %s\n", u);
		n++;
	}
	if (!n)
		fprintf(r->f, "  (none)\n");
}

static void text_certs(const struct rep *r)
{
	char t[32];
	for (size_t i = 0; i < r->v->n_certs; i++) {
		const struct sv_cert *c = &r->v->certs[i];
		long days = (long)((c->not_after_us - r->now_us) / DAY_US);
		fprintf(r->f, "  %s:%u %s\n    issuer %s; expires %.10s (%ld days from now)%s\n", c->server, c->port,
			c->subject, c->issuer, fmt_time(c->not_after_us, t), days,
			days < 0 ? "  EXPIRED" : days < EXPIRY_WARN_DAYS ? "  EXPIRING SOON" : "");
	}
	if (!r->v->n_certs)
		fprintf(r->f, "  (none seen)\n");
}

static void text_counters(const struct rep *r)
{
	const struct store_view *v = r->v;
	FILE *f = r->f;
	uint64_t k = 0;
	fprintf(f, "  packets analysed %" PRIu64 ", TCP decoded %" PRIu64 ", outside the filter %" PRIu64 "\n",
		store_view_counter(v, "packets"), store_view_counter(v, "tcp_packets"), store_view_counter(v, "filtered"));
	fprintf(f, "  not decoded:");
	for (size_t i = 0; i < v->n_counters; i++)
		if (strncmp(v->counters[i].name, "not_decoded.", 12) == 0 && v->counters[i].value)
			fprintf(f, "%s %s %" PRIu64, k++ ? "," : "", v->counters[i].name + 12, v->counters[i].value);
	fprintf(f, "%s\n", k ? "" : " none");
	fprintf(f, "  connections %" PRIu64 " (reported %" PRIu64 ", not IBM i %" PRIu64 ", mid-stream %" PRIu64 ")\n",
		store_view_counter(v, "connections"), store_view_counter(v, "connections_reported"),
		store_view_counter(v, "connections_other"), store_view_counter(v, "connections_midstream"));
	fprintf(f, "  flows evicted by --max-flows %" PRIu64 ", ended by idle timeout %" PRIu64 ", open at a stop %" PRIu64
		", not tracked (memory) %" PRIu64 "\n", store_view_counter(v, "flows_evicted"),
		store_view_counter(v, "flows_idle_timeout"), store_view_counter(v, "flows_open_at_end"),
		store_view_counter(v, "flows_not_tracked"));
	fprintf(f, "  streams: gaps %" PRIu64 ", truncated at depth %" PRIu64 ", out-of-order %" PRIu64 " (dropped %" PRIu64
		"), retransmitted %" PRIu64 ", cut by snaplen %" PRIu64 "\n", store_view_counter(v, "stream_gaps"),
		store_view_counter(v, "streams_truncated"), store_view_counter(v, "stream_out_of_order"),
		store_view_counter(v, "stream_out_of_order_dropped"), store_view_counter(v, "stream_retransmitted"),
		store_view_counter(v, "segments_cut_by_snaplen"));
	fprintf(f, "  learned ports dropped %" PRIu64 ", IBM i address set full %" PRIu64 "\n",
		store_view_counter(v, "learned_ports_dropped"), store_view_counter(v, "server_set_full"));
	static const char *const caps[] = { "flows_evicted", "flows_not_tracked", "stream_out_of_order_dropped",
					    "learned_ports_dropped", "server_set_full" };
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
		if (store_view_counter(v, caps[i]))
			fprintf(f, "  WARNING: a limit was reached: %s %" PRIu64 " (raise the limit; see tlsready(1))\n", caps[i],
				store_view_counter(v, caps[i]));
}

static void report_state_text(const struct rep *r)
{
	const struct store_view *v = r->v;
	FILE *f = r->f;
	char t1[24], t2[24], t3[24];
	uint64_t ns = 0, sec = 0, unk = 0, internal = 0, fresh = 0, tried = 0;
	for (size_t i = 0; i < v->n_clients; i++) {
		const struct sv_client *c = &v->clients[i];
		tried += c->status == CS_ATTEMPT;
		ns += c->status == CS_NONSECURE;
		sec += c->status == CS_SECURE;
		unk += c->status == CS_UNKNOWN;
		internal += c->internal;
		fresh += is_new(r, c);
	}
	fprintf(f, "tlsready %s: IBM i TLS readiness, from the monitor's state\n", TLSREADY_VERSION);
	short_time(v->first_start_us, t1);
	short_time(v->last_checkpoint_us, t2);
	short_time(r->now_us, t3);
	fprintf(f, "State: %s; interface %s; monitoring since %s UTC; last checkpoint %s UTC (%s)\n", r->db,
		v->iface[0] ? v->iface : "-", t1, t2, v->running ? "running" : "stopped");
	fprintf(f, "Runs:  %" PRIu64 ", %" PRIu64 " of them ended without a clean stop (each lost at most one interval)\n",
		v->runs, v->unclean_stops);
	short_time(r->since_us, t1);
	fprintf(f, "Now:   %s UTC; \"new\" means since %s UTC (%" PRId64 " s)\n", t3, t1, r->since_len_us / 1000000);
	short_time(v->oldest_flow_us, t2);
	fprintf(f, "Seen:  %zu clients: %" PRIu64 " nonsecure, %" PRIu64 " secure only, %" PRIu64 " unknown; %" PRIu64
		" new nonsecure; %" PRIu64 " flow records kept (oldest %s)\n", v->n_clients, ns, sec, unk, fresh,
		v->flows_stored, t2);
	if (tried)
		fprintf(f, "       and %" PRIu64 " clients that only tried nonsecure ports (no TCP handshake completed)\n",
			tried);

	text_section(f, "Capture health");
	text_health(r, "since the time asked for", &v->window);
	text_health(r, "everything monitored", &v->total);
	uint64_t missed = v->window.dropped_kernel + v->window.dropped_interface;
	if (missed)
		fprintf(f, "  WARNING: the capture missed %" PRIu64 " packets in %" PRIu64 " intervals since then: clients may be"
			   " missing. Raise -B, narrow the BPF expression, or give the monitor a CPU.\n",
			missed, v->window.intervals_with_drops);
	else if (v->total.dropped_kernel + v->total.dropped_interface)
		fprintf(f, "  WARNING: the capture missed %" PRIu64 " packets before then.\n",
			v->total.dropped_kernel + v->total.dropped_interface);
	if (v->total.not_analysed)
		fprintf(f, "  WARNING: %" PRIu64 " packets libpcap had received were not analysed when a run stopped (%" PRIu64
			" since then): a backlog the stop could not drain in %d s; clients may be missing.\n",
			v->total.not_analysed, v->window.not_analysed, CAPTURE_DRAIN_MS / 1000);

	text_section(f, "New nonsecure clients");
	text_new(r);
	text_section(f, "Clients still using nonsecure ports");
	text_usage_rows(r, false, PC_NONSECURE);
	text_section(f, "Last nonsecure use per client (\"clean for\" is the time since)");
	text_last_use(r);
	if (internal) {
		text_section(f, "The IBM i talking to itself (loopback or its own address)");
		text_usage_rows(r, true, PC_NONSECURE);
	}
	text_section(f, "Clients using secure ports only");
	text_usage_rows(r, false, PC_SECURE);
	text_section(f, "Server certificates");
	text_certs(r);
	text_section(f, "Counters (cumulative)");
	text_counters(r);
}

/* ---- json ---- */

static void json_time(FILE *f, int64_t us)
{
	char t[32];
	json_str(f, us ? fmt_time(us, t) : NULL);
}

static void json_sv_usage(FILE *f, const struct sv_usage *u)
{
	fputs("{\"server\":", f); json_str(f, u->server);
	fputs(",\"service\":", f); json_str(f, u->service[0] ? u->service : NULL);
	fprintf(f, ",\"port\":%u,\"connections\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"unanswered\":%" PRIu64, u->port,
		u->connections, u->refused, u->unanswered);
	fputs(",\"first_seen\":", f); json_time(f, u->first_us);
	fputs(",\"last_seen\":", f); json_time(f, u->last_us);
	fputs(",\"users\":", f); json_string_set(f, &u->users);
	fputs(",\"devices\":", f); json_string_set(f, &u->devices);
	if (u->cls == PC_SECURE) {
		fputs(",\"tls_versions\":", f);
		json_versions(f, u->tls_versions);
		fprintf(f, ",\"tls_failed\":%" PRIu64, u->failed_tls);
	}
	fprintf(f, ",\"mismatch\":%s,\"in_progress\":%s}", u->mismatch ? "true" : "false", u->in_progress ? "true" : "false");
}

static void json_sv_client(const struct rep *r, const struct sv_client *c)
{
	FILE *f = r->f;
	fputs("{\"ip\":", f); json_str(f, c->ip);
	fputs(",\"status\":", f); json_str(f, client_status_name(c->status));
	for (int pass = 0; pass < 2; pass++) {
		enum port_class cls = pass ? PC_SECURE : PC_NONSECURE;
		fprintf(f, ",\"%s\":[", pass ? "secure" : "nonsecure");
		int n = 0;
		for (size_t j = 0; j < c->n_use; j++)
			if (c->use[j].cls == cls) {
				fputs(n++ ? "," : "", f);
				json_sv_usage(f, &c->use[j]);
			}
		fputc(']', f);
	}
	fputs(",\"mapper_requests\":", f); json_string_set(f, &c->mapper_requests);
	fprintf(f, ",\"internal\":%s", c->internal ? "true" : "false");
	fputs(",\"users\":", f); json_string_set(f, &c->users);
	fputs(",\"devices\":", f); json_string_set(f, &c->devices);
	fprintf(f, ",\"signon_failures\":%" PRIu64, c->signon_failures);
	fputs(",\"first_seen\":", f); json_time(f, c->first_us);
	fputs(",\"last_seen\":", f); json_time(f, c->last_us);
	fputs(",\"first_nonsecure\":", f); json_time(f, c->first_nonsecure_us);
	fputs(",\"last_nonsecure\":", f); json_time(f, c->last_nonsecure_us);
	if (c->status == CS_NONSECURE && !c->in_progress)
		fprintf(f, ",\"clean_for_seconds\":%" PRId64, (r->now_us - c->last_nonsecure_us) / 1000000);
	else
		fputs(",\"clean_for_seconds\":null", f);
	fprintf(f, ",\"new\":%s,\"in_progress\":%s", is_new(r, c) ? "true" : "false", c->in_progress ? "true" : "false");
	fputs(",\"findings\":", f);
	json_findings(f, c->findings);
	fputc('}', f);
}

static void json_health(FILE *f, const struct sv_health *h)
{
	fprintf(f, "{\"intervals\":%" PRIu64 ",\"intervals_with_drops\":%" PRIu64 ",\"packets\":%" PRIu64
		",\"received\":%" PRIu64 ",\"dropped_kernel\":%" PRIu64 ",\"dropped_interface\":%" PRIu64
		",\"not_analysed_at_stop\":%" PRIu64 ",\"coverage\":%.6f,\"dropped\":%s}", h->intervals,
		h->intervals_with_drops, h->packets, h->received, h->dropped_kernel, h->dropped_interface, h->not_analysed,
		coverage(h), h->dropped_kernel + h->dropped_interface ? "true" : "false");
}

static void report_state_json(const struct rep *r)
{
	const struct store_view *v = r->v;
	FILE *f = r->f;
	uint64_t ns = 0, sec = 0, unk = 0, internal = 0, fresh = 0, tried = 0;
	for (size_t i = 0; i < v->n_clients; i++) {
		tried += v->clients[i].status == CS_ATTEMPT;
		ns += v->clients[i].status == CS_NONSECURE;
		sec += v->clients[i].status == CS_SECURE;
		unk += v->clients[i].status == CS_UNKNOWN;
		internal += v->clients[i].internal;
		fresh += is_new(r, &v->clients[i]);
	}
	fputs("{\"schema\":\"tlsready-state/1\",\"generator\":{\"name\":\"tlsready\",\"version\":\"" TLSREADY_VERSION "\"}", f);
	fputs(",\n\"state\":{\"file\":", f); json_str(f, r->db);
	fprintf(f, ",\"schema_version\":%d,\"created\":", STORE_SCHEMA_VERSION); json_time(f, v->created_us);
	fputs(",\"interface\":", f); json_str(f, v->iface[0] ? v->iface : NULL);
	fputs(",\"first_start\":", f); json_time(f, v->first_start_us);
	fputs(",\"last_checkpoint\":", f); json_time(f, v->last_checkpoint_us);
	fprintf(f, ",\"running\":%s,\"runs\":%" PRIu64 ",\"unclean_stops\":%" PRIu64 ",\"checkpoints\":%" PRIu64
		",\"flows_stored\":%" PRIu64 ",\"oldest_flow\":", v->running ? "true" : "false", v->runs, v->unclean_stops,
		v->checkpoints, v->flows_stored);
	json_time(f, v->oldest_flow_us);
	fputs("},\n\"now\":", f); json_time(f, r->now_us);
	fputs(",\"since\":", f); json_time(f, r->since_us);
	fputs(",\n\"capture_health\":{\"since\":", f); json_health(f, &v->window);
	fputs(",\"total\":", f); json_health(f, &v->total);
	fputs("},\n\"counters\":{", f);
	for (size_t i = 0; i < v->n_counters; i++) {
		fputs(i ? "," : "", f);
		json_str(f, v->counters[i].name);
		fprintf(f, ":%" PRIu64, v->counters[i].value);
	}
	fprintf(f, "},\n\"summary\":{\"clients\":%zu,\"nonsecure_clients\":%" PRIu64 ",\"secure_clients\":%" PRIu64
		",\"unknown_clients\":%" PRIu64 ",\"internal_clients\":%" PRIu64 ",\"new_nonsecure_clients\":%" PRIu64
		",\"attempt_only_clients\":%" PRIu64 "}", v->n_clients, ns, sec, unk, internal, fresh, tried);
	fputs(",\n\"new_nonsecure_clients\":[", f);
	int n = 0;
	for (size_t i = 0; i < v->n_clients; i++)
		if (is_new(r, &v->clients[i])) {
			fputs(n++ ? "," : "", f);
			json_str(f, v->clients[i].ip);
		}
	fputs("],\n\"clients\":[", f);
	for (size_t i = 0; i < v->n_clients; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_sv_client(r, &v->clients[i]);
	}
	fputs("],\n\"certificates\":[", f);
	for (size_t i = 0; i < v->n_certs; i++) {
		const struct sv_cert *c = &v->certs[i];
		fputs(i ? ",\n" : "\n", f);
		fputs("{\"server\":", f); json_str(f, c->server);
		fprintf(f, ",\"port\":%u,\"subject\":", c->port); json_str(f, c->subject);
		fputs(",\"issuer\":", f); json_str(f, c->issuer);
		fputs(",\"sha256\":", f); json_str(f, c->sha256);
		fputs(",\"not_after\":", f); json_time(f, c->not_after_us);
		fprintf(f, ",\"days_left\":%" PRId64, (c->not_after_us - r->now_us) / DAY_US);
		fputs(",\"first_seen\":", f); json_time(f, c->first_us);
		fputs(",\"last_seen\":", f); json_time(f, c->last_us);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

int monitor_report(const char *db, int64_t since_us, int64_t since_len_us, const char *format, FILE *out,
		   bool fail_on_nonsecure)
{
	char err[600];
	struct store *s = store_open(db, STORE_READ, err, sizeof err);
	struct store_view v;
	if (!s || !store_load(s, since_us, &v, err, sizeof err)) {
		fprintf(stderr, "tlsready: %s\n", err);
		store_close(s);
		return 2;
	}
	store_close(s);
	struct rep r = { out, &v, db, wall_us(), since_us, since_len_us };
	if (strcmp(format, "json") == 0)
		report_state_json(&r);
	else
		report_state_text(&r);
	int code = 0;
	for (size_t i = 0; fail_on_nonsecure && i < v.n_clients; i++)
		if (v.clients[i].status == CS_NONSECURE && v.clients[i].last_nonsecure_us >= since_us)
			code = 3;
	store_view_free(&v);
	if (fflush(out) != 0) {
		fprintf(stderr, "tlsready: write failed\n");
		return 2;
	}
	return code;
}
