/*
 * pcapng_stats.c - the drop counts of a pcapng's Interface Statistics Blocks
 * (see pcapng_stats.h).  The file is read forward through one 1 MiB buffer
 * (a seek per block would cost a system call per packet); every block but a
 * statistics block (at most PCAPNG_STATS_MAX_BLOCK bytes) is stepped over,
 * and that one is parsed in place through the bounded cursor, in the byte
 * order of its section.
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
#define READ_BUF ((size_t)1 << 20)   /* the read buffer: at least PCAPNG_STATS_MAX_BLOCK */

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

/* The file read forward through one buffer: blocks are visited in place, short skips move within it,
 * long ones seek. */
struct reader {
	FILE *f;
	uint8_t *buf;
	size_t len, pos;
};

/* At least n (<= READ_BUF) bytes at r->buf + r->pos, or false at the end of the file. */
static bool have(struct reader *r, size_t n)
{
	if (r->len - r->pos >= n)
		return true;
	memmove(r->buf, r->buf + r->pos, r->len - r->pos);
	r->len -= r->pos;
	r->pos = 0;
	while (r->len < n) {
		size_t got = fread(r->buf + r->len, 1, READ_BUF - r->len, r->f);
		if (got == 0)
			return false;
		r->len += got;
	}
	return true;
}

static bool skip(struct reader *r, uint64_t n)
{
	if (r->len - r->pos >= n) {
		r->pos += (size_t)n;
		return true;
	}
	n -= r->len - r->pos;
	r->pos = r->len = 0;
	return n <= (uint64_t)INT64_MAX && fseeko(r->f, (off_t)n, SEEK_CUR) == 0;
}

void pcapng_drops_read(FILE *f, struct pcapng_drops *out)
{
	memset(out, 0, sizeof *out);
	struct section sec;
	memset(&sec, 0, sizeof sec);
	struct reader r = { f, malloc(READ_BUF), 0, 0 };
	if (!r.buf)
		return;
	bool swap = false, in_section = false;
	while (have(&r, 12)) {
		const uint8_t *h = r.buf + r.pos;
		uint32_t type = u32(h, false);   /* the SHB type reads the same either way round */
		if (type == BT_SHB) {
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
		if (len < 12 || len % 4)
			break;
		if (type == BT_ISB && len <= PCAPNG_STATS_MAX_BLOCK) {
			if (!have(&r, len))
				break;
			/* the body: after type and length, before the trailing length */
			struct cursor c = cur_make(r.buf + r.pos + 8, len - 12);
			parse_isb(&c, swap, &sec, out);
		} else if (type == BT_ISB) {
			out->blocks_skipped++;
		}
		if (!skip(&r, len))
			break;
	}
	if (in_section)
		section_end(&sec, out);
	free(r.buf);
}
