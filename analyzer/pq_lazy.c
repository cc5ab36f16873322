/*
 * pq_lazy.c - libpq, loaded only when a run uses the shared PostgreSQL store.
 *
 * libpq and the 21 libraries it pulls in (Kerberos, LDAP, SASL, GnuTLS, ...)
 * cost every run about 5.6 MiB of resident memory at start-up, although only
 * a `--db postgresql://...` run calls it.  So tlsready is not linked with
 * libpq: the store_pg*.c files call the libpq functions they use by their
 * usual names, and each name here forwards to the same function of the
 * system's libpq.so.5, opened with dlopen() on the first call.
 *
 * In: the first call of any of these functions (pq_available() first, so
 * that a missing library is one clear message).  Out: libpq's own results.
 * A new libpq function used by the store is added to PQ_FUNCS below; until
 * then, the link fails (nothing links libpq itself).
 */
#define _GNU_SOURCE
#include "pq_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define PQ_LIBRARY "libpq.so.5"

/* (return type, name, parameter list, argument list) of every libpq function the store calls */
/* the entry points, written out below: every other call uses what they returned */
#define PQ_ENTRY_FUNCS(X) \
	X(PGconn *, PQconnectdb, (const char *conninfo), (conninfo)) \
	X(PQconninfoOption *, PQconninfoParse, (const char *conninfo, char **errmsg), (conninfo, errmsg))
#define PQ_ENTRY_VOID_FUNCS(X) X(PQfreemem, (void *ptr), (ptr))

/* forwarded as they are */
#define PQ_FUNCS(X) \
	X(ConnStatusType, PQstatus, (const PGconn *conn), (conn)) \
	X(char *, PQerrorMessage, (const PGconn *conn), (conn)) \
	X(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *conn, PQnoticeProcessor proc, void *arg), \
	  (conn, proc, arg)) \
	X(PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query)) \
	X(PGresult *, PQexecParams, \
	  (PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, \
	   const int *paramLengths, const int *paramFormats, int resultFormat), \
	  (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat)) \
	X(PGresult *, PQprepare, \
	  (PGconn *conn, const char *stmtName, const char *query, int nParams, const Oid *paramTypes), \
	  (conn, stmtName, query, nParams, paramTypes)) \
	X(int, PQsendQueryPrepared, \
	  (PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues, \
	   const int *paramLengths, const int *paramFormats, int resultFormat), \
	  (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat)) \
	X(PGresult *, PQgetResult, (PGconn *conn), (conn)) \
	X(int, PQenterPipelineMode, (PGconn *conn), (conn)) \
	X(int, PQexitPipelineMode, (PGconn *conn), (conn)) \
	X(int, PQpipelineSync, (PGconn *conn), (conn)) \
	X(int, PQsendFlushRequest, (PGconn *conn), (conn)) \
	X(int, PQflush, (PGconn *conn), (conn)) \
	X(ExecStatusType, PQresultStatus, (const PGresult *res), (res)) \
	X(char *, PQresultErrorField, (const PGresult *res, int fieldcode), (res, fieldcode)) \
	X(int, PQntuples, (const PGresult *res), (res)) \
	X(char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num)) \
	X(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num))

#define PQ_VOID_FUNCS(X) \
	X(PQclear, (PGresult *res), (res)) \
	X(PQfinish, (PGconn *conn), (conn)) \
	X(PQconninfoFree, (PQconninfoOption *connOptions), (connOptions))

static struct {
#define FIELD(ret, name, params, args) ret(*name) params;
#define VOID_FIELD(name, params, args) void(*name) params;
	PQ_ENTRY_FUNCS(FIELD)
	PQ_ENTRY_VOID_FUNCS(VOID_FIELD)
	PQ_FUNCS(FIELD)
	PQ_VOID_FUNCS(VOID_FIELD)
#undef FIELD
#undef VOID_FIELD
} pq;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static bool pq_loaded;
static char pq_error[256];

static void pq_load(void)
{
	void *h = dlopen(PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(pq_error, sizeof pq_error, "cannot load %s (Debian package libpq5): %s", PQ_LIBRARY, dlerror());
		return;
	}
	const char *missing = NULL;
#define LOAD(name) \
	if (!missing && !(*(void **)&pq.name = dlsym(h, #name))) \
		missing = #name;
#define LOAD_FUNC(ret, name, params, args) LOAD(name)
#define LOAD_VOID(name, params, args) LOAD(name)
	PQ_ENTRY_FUNCS(LOAD_FUNC)
	PQ_ENTRY_VOID_FUNCS(LOAD_VOID)
	PQ_FUNCS(LOAD_FUNC)
	PQ_VOID_FUNCS(LOAD_VOID)
#undef LOAD_FUNC
#undef LOAD_VOID
#undef LOAD
	if (missing) {
		snprintf(pq_error, sizeof pq_error, "%s has no %s (libpq 14 or later is needed)", PQ_LIBRARY, missing);
		dlclose(h);
		return;
	}
	pq_loaded = true;   /* the handle stays open for the life of the process */
}

bool pq_available(char *err, size_t errlen)
{
	pthread_once(&pq_once, pq_load);
	if (!pq_loaded && err && errlen)
		snprintf(err, errlen, "--db: %s", pq_error);
	return pq_loaded;
}

/* Every caller got its connection or result from PQconnectdb or PQconninfoParse, which return NULL
 * (as libpq does when out of memory) while the library is missing. */
PGconn *PQconnectdb(const char *conninfo)
{
	return pq_available(NULL, 0) ? pq.PQconnectdb(conninfo) : NULL;
}

PQconninfoOption *PQconninfoParse(const char *conninfo, char **errmsg)
{
	if (!pq_available(NULL, 0)) {
		if (errmsg)
			*errmsg = NULL;
		return NULL;
	}
	return pq.PQconninfoParse(conninfo, errmsg);
}

void PQfreemem(void *ptr)
{
	if (ptr && pq_available(NULL, 0))
		pq.PQfreemem(ptr);
}

#define FORWARD(ret, name, params, args) \
	ret name params \
	{ \
		return pq.name args; \
	}
#define FORWARD_VOID(name, params, args) \
	void name params \
	{ \
		pq.name args; \
	}
PQ_FUNCS(FORWARD)
PQ_VOID_FUNCS(FORWARD_VOID)
