/*
 * events.c - NDJSON events and syslog messages (see events.h).
 *
 * A flow line is {"type":"flow","flow":{...}} (the flows[] object of the
 * JSON report, as in --format ndjson); a finding line is
 * {"type":"finding","finding":"new-nonsecure-client","time":...,...}.
 * Lines are buffered and flushed once per checkpoint, so a reader sees
 * whole checkpoints.  Syslog gets the findings only, one message each.
 * The file is opened with outfile_open() (no link followed, created 0640,
 * a regular file with one link) and given to the monitor's user through
 * that descriptor, never by path.
 */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "outfile.h"
#include "report.h"

static bool open_file(struct events *ev, char *err, size_t errlen)
{
	int fd;
	char why[600];
	ev->unsafe = false;
	enum outfile_result r = outfile_open(ev->path, OUTFILE_APPEND, 0640, &fd, NULL, why, sizeof why);
	if (r != OUTFILE_OK) {
		ev->unsafe = r == OUTFILE_UNSAFE;
		snprintf(err, errlen, "events file %s", why);
		return false;
	}
	if (!(ev->f = fdopen(fd, "a"))) {
		snprintf(err, errlen, "events file %s: cannot write: %s", ev->path, strerror(errno));
		close(fd);
		return false;
	}
	return true;
}

bool events_open(struct events *ev, const char *path, bool use_syslog, char *err, size_t errlen)
{
	memset(ev, 0, sizeof *ev);
	ev->path = path;
	ev->use_syslog = use_syslog;
	if (use_syslog)
		openlog("tlsready", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return !path || open_file(ev, err, errlen);
}

bool events_reopen(struct events *ev, char *err, size_t errlen)
{
	if (!ev->path)
		return true;
	if (ev->f) {
		fclose(ev->f);
		ev->f = NULL;
	}
	return open_file(ev, err, errlen);
}

bool events_chown(struct events *ev, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (ev->f && fchown(fileno(ev->f), uid, gid) != 0) {
		snprintf(err, errlen, "%s: cannot give it to uid %u: %s", ev->path, (unsigned)uid, strerror(errno));
		return false;
	}
	return true;
}

void events_flow(struct events *ev, const char *flow_json)
{
	if (!ev->f)
		return;
	if (fprintf(ev->f, "{\"type\":\"flow\",\"flow\":%s}\n", flow_json) < 0)
		ev->errors++;
	else
		ev->lines++;
}

static void str_field(FILE *f, const char *name, const char *v)
{
	fprintf(f, ",\"%s\":", name);
	json_str(f, v && *v ? v : NULL);
}

static void finding_line(FILE *f, const struct event_finding *x)
{
	char t[32];
	fputs("{\"type\":\"finding\",\"finding\":", f);
	json_str(f, x->kind);
	str_field(f, "time", fmt_time(x->time_us, t));
	str_field(f, "client", x->client);
	str_field(f, "host", x->host);
	str_field(f, "server", x->server);
	if (x->port)
		fprintf(f, ",\"port\":%u", x->port);
	else
		fputs(",\"port\":null", f);
	str_field(f, "service", x->service);
	str_field(f, "user", x->user);
	str_field(f, "device", x->device);
	str_field(f, "detail", x->detail);
	if (strcmp(x->kind, "client-back-on-nonsecure") == 0) {
		str_field(f, "previous_nonsecure", fmt_time(x->previous_us, t));
		fprintf(f, ",\"days_absent\":%ld", x->days);
	} else if (strcmp(x->kind, "nonsecure-client-new-address") == 0) {
		str_field(f, "previous_nonsecure", fmt_time(x->previous_us, t));
	} else if (strcmp(x->kind, "certificate-expiring") == 0) {
		str_field(f, "not_after", fmt_time(x->previous_us, t));
		fprintf(f, ",\"days_left\":%ld", x->days);
	}
	fputs("}\n", f);
}

static void finding_syslog(const struct event_finding *x)
{
	if (strcmp(x->kind, "certificate-expiring") == 0) {
		syslog(LOG_WARNING, "%s: server %s:%u (%s) certificate \"%s\" %s %ld days", x->kind, x->server, x->port,
		       x->service[0] ? x->service : "-", x->detail, x->days < 0 ? "expired" : "expires in",
		       x->days < 0 ? -x->days : x->days);
		return;
	}
	syslog(LOG_WARNING, "%s: client %s%s%s%s -> %s:%u (%s)%s%s%s%s%s%s", x->kind, x->client,
	       x->host[0] ? " (host " : "", x->host, x->host[0] ? ")" : "", x->server[0] ? x->server : "-",
	       x->port, x->service[0] ? x->service : "-", x->user[0] ? " user " : "", x->user,
	       x->device[0] ? " device " : "", x->device, x->detail[0] ? ": " : "", x->detail);
}

void events_finding(struct events *ev, const struct event_finding *x)
{
	if (ev->use_syslog)
		finding_syslog(x);
	if (!ev->f)
		return;
	finding_line(ev->f, x);
	if (ferror(ev->f))
		ev->errors++;
	else
		ev->lines++;
}

bool events_flush(struct events *ev)
{
	if (!ev->f)
		return true;
	bool ok = fflush(ev->f) == 0 && !ferror(ev->f);
	clearerr(ev->f);
	return ok;
}

void events_close(struct events *ev)
{
	if (ev->f)
		fclose(ev->f);
	ev->f = NULL;
	if (ev->use_syslog)
		closelog();
}
