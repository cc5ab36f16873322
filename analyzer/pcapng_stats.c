/*
 * pcapng_stats.c - the drop counts of a pcapng's Interface Statistics Blocks
 * (see pcapng_stats.h).  Block headers are read with fread, every other
 * block is skipped with fseeko, and a statistics block (at most
 * PCAPNG_STATS_MAX_BLOCK bytes) is read into one buffer of that size and
 * parsed through the bounded cursor, in the byte order of its section.
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

struct section {
	uint64_t drop[PCAPNG_STATS_MAX_IFACES];
	bool seen[PCAPNG_STATS_MAX_IFACES];
};

static void section_end(struct section *s, struct pcapng_drops *out)
{
	for (int i = 0; i < PCAPNG_STATS_MAX_IFACES; i++)
		if (s->seen[i]) {
			out->dropped += s->drop[i];
			out->stats_seen = true;
		}
	memset(s, 0, sizeof *s);
}

/* One statistics block's body (after type and length, before the trailing length). */
static void parse_isb(struct cursor *c, bool swap, struct section *s, struct pcapng_drops *out)
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

void pcapng_drops_read(FILE *f, struct pcapng_drops *out)
{
	memset(out, 0, sizeof *out);
	struct section sec;
	memset(&sec, 0, sizeof sec);
	uint8_t *body = malloc(PCAPNG_STATS_MAX_BLOCK);
	if (!body)
		return;
	bool swap = false, in_section = false;
	uint8_t h[12];
	for (;;) {
		if (fread(h, 1, 8, f) != 8)
			break;
		uint32_t type = u32(h, false);   /* the SHB type reads the same either way round */
		if (type == BT_SHB) {
			if (fread(h + 8, 1, 4, f) != 4)
				break;
			uint32_t bom = u32(h + 8, false);
			if (bom != BOM && u32(h + 8, true) != BOM)
				break;
			swap = bom != BOM;
			if (in_section)
				section_end(&sec, out);
			in_section = true;
		} else if (!in_section) {
			break;   /* not pcapng */
		}
		type = u32(h, swap);
		uint32_t len = u32(h + 4, swap);
		size_t done = type == BT_SHB ? 12 : 8;
		if (len < 12 || len % 4 || len < done)
			break;
		if (type == BT_ISB && len <= PCAPNG_STATS_MAX_BLOCK) {
			size_t n = len - done;
			if (fread(body, 1, n, f) != n)
				break;
			struct cursor c = cur_make(body, n - 4);   /* minus the trailing length */
			parse_isb(&c, swap, &sec, out);
			continue;
		}
		if (type == BT_ISB)
			out->blocks_skipped++;
		if (fseeko(f, (off_t)(len - done), SEEK_CUR) != 0)
			break;
	}
	if (in_section)
		section_end(&sec, out);
	free(body);
}
