/*
 * telnet5250.h - telnet and TN5250 (ports 23 and, inside TLS, 992).
 *
 * Follows option negotiation (IAC WILL/WONT/DO/DONT), TERMINAL-TYPE IS,
 * NEW-ENVIRON IS/INFO with RFC 1572 escaping (USER, DEVNAME, KBDTYPE,
 * CODEPAGE, CHARSET, IBMCURLIB, IBMIMENU, IBMPROGRAM, IBMRSEED, IBMSUBSPW),
 * and the startup response record.  IBMSUBSPW's value is never kept: only
 * that it was sent and its length.
 */
#ifndef TLSREADY_TELNET5250_H
#define TLSREADY_TELNET5250_H

#include "dissector.h"

#define TN_REC_HDR 32          /* record bytes kept to read the header and startup code */

enum tn_kind {
	TN_KIND_UNKNOWN = 0,
	TN_KIND_TELNET,            /* telnet, not (yet) known to be 5250 */
	TN_KIND_5250_DISPLAY,
	TN_KIND_5250_PRINTER,
};

struct tn_state {
	size_t off[2];             /* private parser position */
	uint8_t sub_state[2];      /* private */
	bool telnet;               /* IAC negotiation seen */
	enum tn_kind kind;
	uint32_t will[2], do_[2];  /* options (< 32) offered per direction, bit per option */
	bool new_environ;          /* NEW-ENVIRON subnegotiation seen */
	bool ibmrseed_offer;       /* server sent SEND USERVAR IBMRSEED */
	char terminal_type[41];
	char user[11];             /* VAR USER, ASCII (upper-cased as IBM i does) */
	char devname[11];
	char kbdtype[8], codepage[8], charset[8];
	char curlib[11], imenu[11], program[11];
	bool autosignon;           /* IBMRSEED + IBMSUBSPW sent by the client */
	uint16_t subspw_len;       /* length of IBMSUBSPW (never its value) */
	char startup_code[5];      /* "I901", "8902" ... from the startup response record */
	bool malformed;
	/* added with the dissector */
	bool rseed_sent;           /* client sent USERVAR IBMRSEED (value never kept) */
	bool subspw_sent;          /* client sent USERVAR IBMSUBSPW (value never kept) */
	uint32_t records[2];       /* 5250 records (ended by IAC EOR) per direction */
	uint16_t rec_n[2];         /* private: bytes of the record in progress */
	uint8_t rec_hdr[2][TN_REC_HDR]; /* private: its first bytes, IAC undoubled */
};

enum probe tn_probe(const uint8_t *buf, size_t len, int dir);
void tn_consume(struct tn_state *s, int dir, const uint8_t *buf, size_t len);
bool tn_done(const struct tn_state *s);
const char *tn_kind_name(enum tn_kind k);
extern const struct protocol protocol_telnet5250;   /* "5250-display", "5250-printer", "telnet" */

#endif
