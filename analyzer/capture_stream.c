/*
 * capture_stream.c - a capture file read once for libpcap and for the
 * pcapng statistics scan (see capture_stream.h).  A stdio stream made with
 * fopencookie() reads the file descriptor in 256 KiB pieces and hands each
 * piece to the scan before libpcap sees it.  A regular file that does not
 * start as a pcapng (a classic pcap: no statistics blocks) is read through a
 * plain stdio stream with the same buffer instead: glibc copies a cookie
 * stream's short reads (libpcap's 16-byte record headers) byte by byte.
 */
#define _GNU_SOURCE
#include "capture_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM_BUF ((size_t)256 * 1024)

static ssize_t stream_read(void *cookie, char *buf, size_t size)
{
	struct capture_stream *cs = cookie;
	ssize_t got;
	int tries = 0;
	do
		got = read(cs->fd, buf, size);
	while (got < 0 && errno == EINTR && ++tries < 100);
	if (got > 0) {
		cs->pos += (uint64_t)got;
		pcapng_scan_feed(&cs->scan, (const uint8_t *)buf, (size_t)got);
	}
	return got;
}

static int stream_close(void *cookie)
{
	struct capture_stream *cs = cookie;
	int rc = cs->fd != STDIN_FILENO ? close(cs->fd) : 0;
	cs->fd = -1;
	return rc;
}

FILE *capture_stream_open(struct capture_stream *cs, const char *path)
{
	memset(cs, 0, sizeof *cs);
	pcapng_scan_init(&cs->scan);
	cs->fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (cs->fd < 0)
		return NULL;
	uint8_t magic[4];
	FILE *f;
	if (cs->fd != STDIN_FILENO && pread(cs->fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
	    memcmp(magic, "\x0a\x0d\x0d\x0a", sizeof magic) != 0) {
		f = fdopen(cs->fd, "rb");   /* closes fd when libpcap closes it */
		cs->plain = f;
	} else {
		cookie_io_functions_t io = { .read = stream_read, .close = stream_close };
		f = fopencookie(cs, "rb", io);
	}
	if (!f) {
		int e = errno;
		stream_close(cs);
		errno = e;
		return NULL;
	}
	cs->buf = malloc(STREAM_BUF);   /* glibc ignores the size of a buffer it allocates itself */
	if (cs->buf)
		setvbuf(f, cs->buf, _IOFBF, STREAM_BUF);
	return f;
}

uint64_t capture_stream_pos(const struct capture_stream *cs)
{
	if (cs->plain) {
		off_t at = ftello(cs->plain);
		return at > 0 ? (uint64_t)at : 0;
	}
	return cs->pos;
}

void capture_stream_finish(struct capture_stream *cs, struct pcapng_drops *out)
{
	pcapng_scan_finish(&cs->scan, out);
	cs->plain = NULL;
	free(cs->buf);
	cs->buf = NULL;
}
