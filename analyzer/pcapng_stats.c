/*
 * pcapng_stats.c - the drop counts of a pcapng's Interface Statistics Blocks
 * (see pcapng_stats.h).  The bytes come in as libpcap reads them, in pieces
 * of any size; a block header is gathered (12 bytes), every block but a
 * statistics block (at most PCAPNG_STATS_MAX_BLOCK bytes) is counted past
 * without copying, and that one is gathered whole and parsed through the
 * bounded cursor, in the byte order of its section.
 */
#include "pcapng_stats.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cursor.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_ISB 0x00000005u
#define BOM 0x1A2B3C4Du
#define OPT_END 0
#define OPT_IFDROP 5
#define OPT_OSDROP 7
#define HDR 12   /* type, length, and a section header's byte-order magic */

static uint32_t u32(const uint8_t *b, bool swap)
{
	uint32_t le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	uint32_t be = (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
	return swap ? be : le;
}

static uint32_t cur_u32o(struct cursor *c, bool swap)
{
	return swap ? cur_be32(c) : cur_le32(c);
}

static uint64_t cur_u64o(struct cursor *c, bool swap)
{
	uint64_t a = cur_u32o(c, swap), b = cur_u32o(c, swap);
	return swap ? a << 32 | b : b << 32 | a;
}

static void section_end(struct pcapng_section *s, struct pcapng_drops *out)
{
	for (int i = 0; i < PCAPNG_STATS_MAX_IFACES; i++)
		if (s->seen[i]) {
			out->dropped += s->drop[i];
			out->stats_seen = true;
		}
	memset(s, 0, sizeof *s);
}

/* One statistics block's body (after type and length, before the trailing length). */
static void parse_isb(struct cursor *c, bool swap, struct pcapng_section *s, struct pcapng_drops *out)
{
	uint32_t iface = cur_u32o(c, swap);
	cur_skip(c, 8);   /* timestamp */
	uint64_t drop = 0;
	bool any = false;
	while (!c->err && cur_left(c) >= 4) {
		uint16_t code = swap ? cur_be16(c) : cur_le16(c);
		uint16_t len = swap ? cur_be16(c) : cur_le16(c);
		if (code == OPT_END)
			break;
		struct cursor v = cur_sub(c, len);
		cur_skip(c, (4 - len % 4) % 4);
		if ((code == OPT_IFDROP || code == OPT_OSDROP) && len == 8) {
			drop += cur_u64o(&v, swap);
			any = true;
		}
	}
	if (c->err || iface >= PCAPNG_STATS_MAX_IFACES) {
		out->blocks_skipped++;
		return;
	}
	if (any) {   /* the counters are cumulative: the last block of the interface holds them all */
		s->drop[iface] = drop;
		s->seen[iface] = true;
	}
}

/* One block header (type, length, and for a section header its byte-order
 * magic): what to do with the block's remaining bytes. */
static void block_start(struct pcapng_scan *s, const uint8_t *h)
{
	uint32_t type = u32(h, false);   /* the SHB type reads the same either way round */
	if (type == BT_SHB) {
		uint32_t bom = u32(h + 8, false);
		if (bom != BOM && u32(h + 8, true) != BOM) {
			s->dead = true;
			return;
		}
		s->swap = bom != BOM;
		if (s->in_section)
			section_end(&s->sec, &s->out);
		s->in_section = true;
	} else if (!s->in_section) {
		s->dead = true;   /* not pcapng */
		return;
	}
	type = u32(h, s->swap);
	uint32_t len = u32(h + 4, s->swap);
	if (len < HDR || len % 4) {
		s->dead = true;   /* libpcap reports such a file itself */
		return;
	}
	if (type == BT_ISB && len <= PCAPNG_STATS_MAX_BLOCK) {
		if (!s->blk)
			s->blk = malloc(PCAPNG_STATS_MAX_BLOCK);
		if (!s->blk) {
			s->out.blocks_skipped++;
			s->skip = len - HDR;
			return;
		}
		memcpy(s->blk, h, HDR);
		s->blk_len = len;
		s->blk_n = HDR;
		return;
	}
	if (type == BT_ISB)
		s->out.blocks_skipped++;
	s->skip = len - HDR;
}

void pcapng_scan_init(struct pcapng_scan *s)
{
	memset(s, 0, sizeof *s);
}

void pcapng_scan_feed(struct pcapng_scan *s, const uint8_t *b, size_t n)
{
	while (n > 0 && !s->dead) {
		if (s->skip > 0) {   /* the rest of a block that is not read */
			size_t k = s->skip < n ? (size_t)s->skip : n;
			s->skip -= k;
			b += k;
			n -= k;
		} else if (s->blk_len > 0) {   /* a statistics block being gathered */
			size_t k = s->blk_len - s->blk_n < n ? s->blk_len - s->blk_n : n;
			memcpy(s->blk + s->blk_n, b, k);
			s->blk_n += k;
			b += k;
			n -= k;
			if (s->blk_n == s->blk_len) {
				/* the body: after type and length, before the trailing length */
				struct cursor c = cur_make(s->blk + 8, s->blk_len - HDR);
				parse_isb(&c, s->swap, &s->sec, &s->out);
				s->blk_len = s->blk_n = 0;
			}
		} else if (s->hdr_n == 0 && n >= HDR) {   /* a whole block header in this piece: read in place */
			block_start(s, b);
			b += HDR;
			n -= HDR;
		} else {   /* a block header cut by the end of a piece: gathered */
			size_t k = HDR - s->hdr_n < n ? HDR - s->hdr_n : n;
			memcpy(s->hdr + s->hdr_n, b, k);
			s->hdr_n += k;
			b += k;
			n -= k;
			if (s->hdr_n == HDR) {
				s->hdr_n = 0;
				block_start(s, s->hdr);
			}
		}
	}
}

void pcapng_scan_finish(struct pcapng_scan *s, struct pcapng_drops *out)
{
	if (s->in_section)   /* a statistics block cut by the end of the input is not read */
		section_end(&s->sec, &s->out);
	free(s->blk);
	s->blk = NULL;
	s->in_section = false;
	*out = s->out;
}
