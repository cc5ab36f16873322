/*
 * hostserver.h - IBM i host-server datastreams (8470-8476, 9470-9476, 9480).
 *
 * Every PDU starts with a 20-byte header: total length, header ID, server ID
 * 0xE0xx, CS instance, correlation, template length, request/reply ID; then
 * the template and an LL(4)/CP(2) parameter chain.  The dissector reassembles
 * PDUs by length, validates them, and keeps the opening exchange: which
 * server, the requests and replies, the user profile (CP 0x1104, EBCDIC), the
 * sign-on outcome, the server release and password level.  Seeds,
 * substitutes and tokens are never copied: only their kind and length.
 */
#ifndef TLSREADY_HOSTSERVER_H
#define TLSREADY_HOSTSERVER_H

#include "dissector.h"

enum hs_outcome {
	HS_OUTCOME_NONE = 0,       /* no reply carrying a return code seen */
	HS_OUTCOME_OK,             /* signed on / server started */
	HS_OUTCOME_WRONG_PASSWORD,
	HS_OUTCOME_UNKNOWN_USER,
	HS_OUTCOME_DISABLED,
	HS_OUTCOME_EXPIRED,
	HS_OUTCOME_OTHER_ERROR,    /* any other non-zero RC */
};

#define HS_MAX_IDS 8

struct hs_state {
	size_t off[2];             /* private parser position */
	bool valid;                /* at least one well-formed PDU */
	bool malformed[2];         /* a header failed validation: stopped */
	uint32_t pdus[2];          /* PDUs parsed per direction */
	uint16_t server_id;        /* 0xE0xx of the first PDU */
	bool server_id_changed;    /* a later PDU named another server */
	uint16_t req_ids[HS_MAX_IDS];  /* first request IDs, in order */
	uint8_t n_req_ids;
	uint16_t rep_ids[HS_MAX_IDS];  /* first reply IDs, in order */
	uint8_t n_rep_ids;
	char user[11];             /* profile from CP 0x1104 of 7002/7004/7005/7007, ASCII */
	bool user_invalid;         /* 0x1104 present but not a valid profile name */
	uint8_t auth_type;         /* byte 20 of 7002/7004: 1 DES, 3 SHA-1, 7 SHA-512 ... */
	uint16_t auth_len;         /* length of the substitute or token (never its bytes) */
	bool rc_seen;
	uint32_t rc;               /* return code of the sign-on / start-server reply */
	enum hs_outcome outcome;
	uint32_t server_vrm;       /* from F003 (0x00070500 = V7R5M0); 0 if not seen */
	uint16_t server_level;
	int16_t password_level;    /* from F001 byte 5 or F003 CP 0x1119; -1 unknown */
	int16_t client_level;      /* client datastream level from 7003 CP 0x1102; -1 unknown */
	int32_t client_version;    /* client version from 7003 CP 0x1101; -1 unknown */
	uint32_t client_ccsid;     /* client CCSID from 7002/7004 CP 0x1113; 0 unknown */
	uint8_t client_attrs;      /* byte 4 of 7001 */
	/* added with the dissector */
	bool signon_reply;         /* F002 or F004 seen: rc/outcome are final */
	bool routed;               /* hostcnn 7106: this socket carries another server */
	uint16_t routed_server_id; /* the server it carries (0xE004 ...); 0 if none seen */
	bool chain_irregular;      /* an opening PDU's LL/CP chain did not add up (soft check) */
};

enum probe hs_probe(const uint8_t *buf, size_t len, int dir);
void hs_consume(struct hs_state *s, int dir, const uint8_t *buf, size_t len);
bool hs_done(const struct hs_state *s);
/* Zero the state and set password_level, client_level and client_version to -1 (unknown). */
void hs_init(struct hs_state *s);
/* The datastream names another server than the catalogue's service for the port
 * (a hostcnn socket carrying another server is not a mismatch). */
bool hs_server_id_mismatch(const struct hs_state *s, const char *service);
extern const struct protocol protocol_hostserver;

/* "as-signon" for 0xE009 etc.; NULL for an unknown ID. */
const char *hs_server_service(uint16_t server_id);
/* "signed-on", "wrong-password", "unknown-user", "disabled", "password-expired", "error"; NULL for NONE. */
const char *hs_outcome_name(enum hs_outcome o);
/* "V7R5M0" into buf; false when vrm is 0. */
bool hs_vrm_string(uint32_t vrm, char *buf, size_t len);

#endif
