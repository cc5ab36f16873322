/*
 * drda.h - DDM/DRDA (port 446; 448 inside TLS).
 *
 * DSS header: length(2), magic 0xD0, format, correlation(2); then objects
 * LL(2) CP(2).  Kept: EXCSAT's external name / product, server class and the
 * requester's server name (its host),
 * ACCSEC's security mechanism, SECCHK's user ID when it is in clear (not with
 * SECMEC 9; EBCDIC, or UTF-8 once UNICODEMGR 1208 is agreed), whether SECCHK
 * sent a password in clear (SECMEC 3/5), SECCHKRM's check code.  Passwords
 * and security tokens are never copied.
 */
#ifndef TLSREADY_DRDA_H
#define TLSREADY_DRDA_H

#include "dissector.h"

struct drda_state {
	size_t off[2];             /* private parser position */
	uint8_t pending[2];        /* private */
	bool valid;                /* a well-formed DSS was seen */
	bool malformed[2];
	uint32_t dss[2];           /* DSS parsed per direction */
	bool excsat;
	char extnam[41];           /* EXCSAT EXTNAM (0x115E), ASCII */
	char srvclsnm[41];         /* EXCSAT SRVCLSNM (0x1147) */
	char prdid[11];            /* product ID if seen (0x112E) */
	char srvnam[41];           /* EXCSAT SRVNAM (0x116D) of the requester: its own server (host) name */
	uint16_t secmec;           /* ACCSEC SECMEC (0x11A2); 0 if not seen */
	char user[11];             /* SECCHK USRID (0x11A0) in clear */
	bool secchk;
	bool secchk_reply;         /* SECCHKRM seen */
	uint8_t secchk_svrcod;     /* reply severity if seen */
	/* added with the dissector */
	bool user_encrypted;       /* SECCHK USRID sent under an encrypting SECMEC (9 ...): not kept */
	bool secchkcd_seen;
	uint8_t secchkcd;          /* SECCHKRM SECCHKCD (0x11A4): 0 ok, else the reason */
	/* character data after EXCSAT: UTF-8 when the UNICODEMGR (0x1C08) level is 1208 (Derby) */
	uint16_t unicodemgr_asked; /* the client's EXCSAT MGRLVLLS */
	uint16_t unicodemgr;       /* the server's EXCSATRD MGRLVLLS (what was agreed) */
	bool excsatrd;
	bool password_clear;       /* SECCHK carried PASSWORD (0x11A1) under SECMEC 3 or 5: noted, never copied */
};

enum probe drda_probe(const uint8_t *buf, size_t len, int dir);
void drda_consume(struct drda_state *s, int dir, const uint8_t *buf, size_t len);
bool drda_done(const struct drda_state *s);
extern const struct protocol protocol_drda;

#endif
