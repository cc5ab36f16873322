/*
 * cursor.h - the one bounded reader for packet and stream bytes.
 *
 * Every decoder and dissector reads hostile bytes through a struct cursor,
 * never through raw pointer arithmetic (tcpdump's GET_* discipline).  A
 * cursor is a window [p, p+len) and a read offset.  A read past the end does
 * not touch memory: it returns 0, leaves the offset where it was and sets the
 * sticky `err` flag, so a parser can read a whole header and test `err` once.
 *
 * Data enters as (pointer, length); it leaves as host-order integers, copies
 * into caller buffers, or sub-cursors over a sub-range.  Nothing allocates.
 */
#ifndef TLSREADY_CURSOR_H
#define TLSREADY_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;   /* first byte of the window */
	size_t len;         /* bytes in the window */
	size_t off;         /* next byte to read */
	bool err;           /* set by any read that did not fit; sticky */
};

static inline struct cursor cur_make(const void *p, size_t len)
{
	struct cursor c = { (const uint8_t *)p, p ? len : 0, 0, false };
	return c;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->len - c->off;
}

static inline bool cur_has(const struct cursor *c, size_t n)
{
	return !c->err && cur_left(c) >= n;
}

/* Mark the cursor failed if fewer than n bytes remain; true when they do. */
static inline bool cur_need(struct cursor *c, size_t n)
{
	if (!cur_has(c, n)) {
		c->err = true;
		return false;
	}
	return true;
}

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (!cur_need(c, n))
		return false;
	c->off += n;
	return true;
}

/* Peeks: read at (off + at) without moving; 0 and err when out of range. */
static inline uint8_t cur_peek_u8(struct cursor *c, size_t at)
{
	if (c->err || at >= cur_left(c)) {
		c->err = true;
		return 0;
	}
	return c->p[c->off + at];
}

static inline uint16_t cur_peek_be16(struct cursor *c, size_t at)
{
	if (c->err || at > cur_left(c) || cur_left(c) - at < 2) {
		c->err = true;
		return 0;
	}
	const uint8_t *b = c->p + c->off + at;
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t cur_peek_be32(struct cursor *c, size_t at)
{
	if (c->err || at > cur_left(c) || cur_left(c) - at < 4) {
		c->err = true;
		return 0;
	}
	const uint8_t *b = c->p + c->off + at;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline uint8_t cur_u8(struct cursor *c)
{
	if (!cur_need(c, 1))
		return 0;
	return c->p[c->off++];
}

static inline uint16_t cur_be16(struct cursor *c)
{
	if (!cur_need(c, 2))
		return 0;
	const uint8_t *b = c->p + c->off;
	c->off += 2;
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint16_t cur_le16(struct cursor *c)
{
	if (!cur_need(c, 2))
		return 0;
	const uint8_t *b = c->p + c->off;
	c->off += 2;
	return (uint16_t)(b[1] << 8 | b[0]);
}

static inline uint32_t cur_be24(struct cursor *c)
{
	if (!cur_need(c, 3))
		return 0;
	const uint8_t *b = c->p + c->off;
	c->off += 3;
	return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static inline uint32_t cur_be32(struct cursor *c)
{
	if (!cur_need(c, 4))
		return 0;
	const uint8_t *b = c->p + c->off;
	c->off += 4;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline uint32_t cur_le32(struct cursor *c)
{
	if (!cur_need(c, 4))
		return 0;
	const uint8_t *b = c->p + c->off;
	c->off += 4;
	return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

/* Copy n bytes out; on failure dst is zero-filled. */
static inline bool cur_copy(struct cursor *c, void *dst, size_t n)
{
	if (!cur_need(c, n)) {
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, c->p + c->off, n);
	c->off += n;
	return true;
}

/*
 * Take the next n bytes as a cursor of their own and advance past them.  On
 * failure the parent is marked failed and the child is empty and failed.
 */
static inline struct cursor cur_sub(struct cursor *c, size_t n)
{
	struct cursor s = { NULL, 0, 0, true };
	if (!cur_need(c, n))
		return s;
	s = cur_make(c->p + c->off, n);
	c->off += n;
	return s;
}

/* The remaining bytes as a cursor (the parent is not advanced). */
static inline struct cursor cur_rest(const struct cursor *c)
{
	if (c->err)
		return (struct cursor){ NULL, 0, 0, true };
	return cur_make(c->p + c->off, cur_left(c));
}

/* Shorten the window so that at most n bytes remain (a length field that
 * says less than was captured, or Ethernet padding). */
static inline void cur_limit(struct cursor *c, size_t n)
{
	if (!c->err && cur_left(c) > n)
		c->len = c->off + n;
}

/*
 * A read-only view of the next n bytes, for handing a contiguous range to a
 * library (OpenSSL's d2i, a digest).  NULL and err when they are not there.
 */
static inline const uint8_t *cur_view(struct cursor *c, size_t n)
{
	if (!cur_need(c, n))
		return NULL;
	const uint8_t *v = c->p + c->off;
	c->off += n;
	return v;
}

#endif
