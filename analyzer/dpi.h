/*
 * dpi.h - nDPI 4.2 on the first packets of each inspected flow.
 *
 * One detection module per engine (per thread).  A flow gets an nDPI flow
 * struct when inspection starts; packets (from the IP header) go in until
 * detection is complete or gives up, then the protocol name and the risk
 * bitmap are copied out and the nDPI flow is freed.  No port rules are
 * loaded for the IBM i ports (see ../shared/docs/ndpi-4.2.md §4): tlsready
 * classifies those itself and uses nDPI for its opinion and its risks.
 */
#ifndef TLSREADY_DPI_H
#define TLSREADY_DPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dpi;                      /* the module */
struct dpi_flow;                 /* one flow's detection state */

struct dpi_result {
	char proto[40];          /* "TLS", "Telnet", "Unknown", "DRDA", "TLS.Google" ... */
	uint64_t risk;           /* bit per ndpi_risk_enum */
	bool done;
};

/* NULL with a message in err when the library does not match its headers. */
struct dpi *dpi_open(char *err, size_t errlen);
void dpi_close(struct dpi *d);
struct dpi_flow *dpi_flow_new(void);
/* Bytes one nDPI flow holds (its state struct and our wrapper), for the memory budget. */
size_t dpi_flow_size(void);
/* Feed one packet; returns true when detection is over (result filled). */
bool dpi_feed(struct dpi *d, struct dpi_flow *f, const uint8_t *l3, uint32_t l3_len, int64_t ts_us,
	      struct dpi_result *out);
/* End of the flow before detection finished: give up, fill result. */
void dpi_giveup(struct dpi *d, struct dpi_flow *f, struct dpi_result *out);
void dpi_flow_free(struct dpi_flow *f);
/* Packets fed to this flow so far. */
unsigned dpi_packets(const struct dpi_flow *f);
/* Risk name for bit i, e.g. "TLS Self-signed Certificate"? (nDPI's own words). */
const char *dpi_risk_name(int bit);
int dpi_max_risk(void);
/* The bit of nDPI's clear-text credentials risk (NDPI_CLEAR_TEXT_CREDENTIALS). */
int dpi_risk_clear_credentials(void);

#endif
