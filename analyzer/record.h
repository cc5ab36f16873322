/*
 * record.h - the flow record: what tlsready knows of one TCP connection.
 *
 * A record is created with its flow, filled while the flow is inspected
 * (the dissectors' own state structs are its facts), completed when the flow
 * ends (idle timeout, eviction, a new SYN, end of input) and never changed
 * afterwards (the analysis, analysis.h, keeps what is computed from it:
 * findings, port-mapper links).  Reporters read records; they never see
 * packets.
 */
#ifndef TLSREADY_RECORD_H
#define TLSREADY_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dpi.h"
#include "services.h"
#include "upgrade.h"

struct protocol;
struct tls_state;
struct pm_state;
struct hs_state;

/* Who owns the flow's bytes. */
enum app {
	APP_UNDECIDED = 0,         /* no bytes yet, or too few to tell */
	APP_PROTOCOL,              /* a registered protocol claimed them: `proto` (protocols.h) */
	APP_OPAQUE,                /* bytes no dissector claimed */
};

enum transport { TR_NONE = 0, TR_TLS, TR_TLS_FAILED, TR_CLEARTEXT, TR_UNKNOWN };
enum tcp_outcome { TCP_REFUSED = 0, TCP_UNANSWERED, TCP_ESTABLISHED, TCP_CLOSED, TCP_RESET, TCP_OPEN };
enum mismatch { MM_NONE = 0, MM_CLEAR_ON_SECURE, MM_TLS_ON_NONSECURE };
enum end_reason { END_INPUT = 0, END_IDLE, END_EVICTED, END_NEW_SYN, END_CLOSED };

struct flow_record {
	uint64_t seq_no;           /* order of first packet */
	struct addr cli, srv;
	uint16_t cport, sport;
	const char *service;       /* catalogue name or NULL */
	enum port_class cls;
	bool learned_port;         /* the port came from a port-mapper reply */
	enum app app;
	enum transport transport;
	enum tcp_outcome tcp;
	enum mismatch mismatch;
	enum end_reason end_reason;
	bool midstream;
	bool handshake_done;       /* the client acknowledged the server's SYN-ACK, or both sides sent bytes */
	bool starttls;             /* cleartext first, then TLS (SMTP/FTP/... STARTTLS) */
	const char *preamble;      /* with starttls: the proxy exchange TLS followed ("socks5", "socks4", "rdp"), or NULL */
	bool tls_base_set[2];
	uint32_t tls_base[2];      /* where TLS starts in each direction's bytes */
	uint32_t opaque_scanned;   /* cleartext client bytes looked at for STARTTLS */
	struct upgrade up;         /* the protocol's own upgrade to TLS (FTP, SMTP, POP3, IMAP, LDAP) and names in clear */
	bool internal;             /* client is loopback or an IBM i address */
	bool gap[2];               /* the stream had a hole the capture never filled */
	bool truncated[2];         /* the stream reached the inspection depth */
	bool memcap_dropped;       /* inspection ended early: --memcap spent (facts are those found before) */
	bool overlap_conflict;     /* two copies of some stream bytes differed: an evasion attempt or a broken sender */
	bool snaplen_cut;          /* the capture's snap length cut some of its segments */
	bool client_first_seen;    /* the client's first bytes were looked at for a ClientHello */
	bool hello_to_cleartext;   /* the client opened with a ClientHello to a server that spoke another protocol */
	uint8_t tls_heads[2];      /* per direction: segments that start with a TLS record header (saturates) */
	uint8_t tls_head_types[2]; /* per direction, bit (type - 20) of those records */
	bool tls_plain_alert;      /* one of them is a plaintext fatal alert (or its level cut): a refusal */
	int64_t start_us, end_us;
	uint64_t packets, bytes;
	uint64_t payload[2];
	struct dpi_result dpi;
	bool dpi_ran;
	/* the owning protocol and its facts (its dissector's state; NULL only for
	 * mid-stream TLS records, whose handshake was not captured) */
	const struct protocol *proto;
	void *facts;
};

const char *transport_name(enum transport t);
const char *tcp_outcome_name(enum tcp_outcome t);
const char *mismatch_name(enum mismatch m);   /* NULL for MM_NONE */
/* The flow's "content" word: the owning protocol's name, "opaque" or "undecided". */
const char *record_content(const struct flow_record *r);
/* TLS proven by record headers alone, as a small snap length leaves them: each side starts a
 * segment with a handshake record and at least one more segment with a record (its next flight,
 * ChangeCipherSpec, application data, an encrypted alert), and no plaintext alert refused it. */
bool record_tls_by_headers(const struct flow_record *r);
static inline bool record_is(const struct flow_record *r, const struct protocol *p)
{
	return r->proto == p;
}
/* Facts with a meaning beyond their protocol: TLS (the transport), the port
 * mapper's answers (links, learned ports), host-server sign-ons and release. */
extern const struct protocol protocol_tls, protocol_portmapper, protocol_hostserver;
static inline struct tls_state *rec_tls(const struct flow_record *r)
{
	return r->proto == &protocol_tls ? (struct tls_state *)r->facts : NULL;
}
static inline struct pm_state *rec_pm(const struct flow_record *r)
{
	return r->proto == &protocol_portmapper ? (struct pm_state *)r->facts : NULL;
}
static inline struct hs_state *rec_hs(const struct flow_record *r)
{
	return r->proto == &protocol_hostserver ? (struct hs_state *)r->facts : NULL;
}
/* The user profile the flow carried, from whichever dissector saw it, else a name sent in clear
 * on another door (FTP/POP3 USER, LDAP bind DN, HTTP Basic user); NULL if none. */
const char *record_user(const struct flow_record *r);
/* What kind of credential went in clear (enum upgrade_cred): upgrade.c's reading of the text
 * protocols and LDAP, or the dissector's (a DRDA SECCHK password); UC_NONE when none. */
int record_cred(const struct flow_record *r);
/* The port class of the use: a nonsecure port's connection that upgraded to TLS with the
 * protocol's own command before any credential (upgrade.h) is a secure use. */
enum port_class record_use_class(const struct flow_record *r);
/* The device name (telnet DEVNAME); NULL if none. */
const char *record_device(const struct flow_record *r);
/* What the client software says it is: TLS stack by fingerprint, else the dissector's token
 * naming its evidence (protocol.h; software.h names it), written into buf when built; NULL if
 * nothing tells. */
const char *record_software(const struct flow_record *r, char *buf, size_t len);
/* A name the client gave its own machine in the IBM i protocol (DRDA EXCSAT SRVNAM, the 5250
 * device name) and its source word, or NULL. */
const char *record_host_name(const struct flow_record *r, const char **source);
/* Did the connection get past the TCP handshake (a mid-stream flow did, by definition)? */
bool record_handshake_done(const struct flow_record *r);
void record_free(struct flow_record *r);

#endif
