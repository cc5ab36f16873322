/*
 * dpi.c - the nDPI 4.2 wrapper (see dpi.h).
 *
 * Stopping rule, as ndpiReader 4.2 does it: detection is complete once a
 * protocol is known and nDPI says no extra dissection is possible; a flow
 * still unknown after DPI_MAX_PACKETS packets is given up with guessing on.
 */
#include "dpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#define DPI_MAX_PACKETS 32

struct dpi {
	struct ndpi_detection_module_struct *m;
};

struct dpi_flow {
	struct ndpi_flow_struct *f;
	uint16_t packets;
};

struct dpi *dpi_open(char *err, size_t errlen)
{
	if (ndpi_get_api_version() != NDPI_API_VERSION ||
	    ndpi_detection_get_sizeof_ndpi_flow_struct() != sizeof(struct ndpi_flow_struct)) {
		snprintf(err, errlen, "nDPI library %s does not match the headers this was built with",
			 ndpi_revision());
		return NULL;
	}
	struct dpi *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->m = ndpi_init_detection_module(ndpi_no_prefs);
	if (!d->m) {
		free(d);
		snprintf(err, errlen, "nDPI: cannot initialise a detection module");
		return NULL;
	}
	NDPI_PROTOCOL_BITMASK all;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(d->m, &all);
	ndpi_finalize_initialization(d->m);
	return d;
}

void dpi_close(struct dpi *d)
{
	if (!d)
		return;
	ndpi_exit_detection_module(d->m);
	free(d);
}

struct dpi_flow *dpi_flow_new(void)
{
	struct dpi_flow *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->f = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
	if (!f->f) {
		free(f);
		return NULL;
	}
	memset(f->f, 0, SIZEOF_FLOW_STRUCT);
	return f;
}

size_t dpi_flow_size(void)
{
	return SIZEOF_FLOW_STRUCT + sizeof(struct dpi_flow);
}

void dpi_flow_free(struct dpi_flow *f)
{
	if (!f)
		return;
	ndpi_flow_free(f->f);
	free(f);
}

static void fill(struct dpi *d, struct dpi_flow *f, ndpi_protocol p, struct dpi_result *out)
{
	char buf[64];
	if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN && p.master_protocol == NDPI_PROTOCOL_UNKNOWN)
		snprintf(out->proto, sizeof out->proto, "Unknown");
	else
		snprintf(out->proto, sizeof out->proto, "%s", ndpi_protocol2name(d->m, p, buf, sizeof buf));
	out->risk = f->f->risk;
	out->done = true;
}

bool dpi_feed(struct dpi *d, struct dpi_flow *f, const uint8_t *l3, uint32_t l3_len, int64_t ts_us,
	      struct dpi_result *out)
{
	if (!l3 || l3_len == 0)
		return false;
	unsigned short len = l3_len > 65535 ? 65535 : (unsigned short)l3_len;
	ndpi_protocol p = ndpi_detection_process_packet(d->m, f->f, l3, len, (u_int64_t)(ts_us / 1000));
	f->packets++;
	bool known = p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN;
	if (known && !ndpi_extra_dissection_possible(d->m, f->f)) {
		fill(d, f, p, out);
		return true;
	}
	if (f->packets >= DPI_MAX_PACKETS) {
		dpi_giveup(d, f, out);
		return true;
	}
	return false;
}

void dpi_giveup(struct dpi *d, struct dpi_flow *f, struct dpi_result *out)
{
	u_int8_t guessed = 0;
	ndpi_protocol p = ndpi_detection_giveup(d->m, f->f, 1, &guessed);
	fill(d, f, p, out);
}

unsigned dpi_packets(const struct dpi_flow *f)
{
	return f->packets;
}

const char *dpi_risk_name(int bit)
{
	return ndpi_risk2str((ndpi_risk_enum)bit);
}

int dpi_max_risk(void)
{
	return NDPI_MAX_RISK;
}

int dpi_risk_clear_credentials(void)
{
	return NDPI_CLEAR_TEXT_CREDENTIALS;
}
