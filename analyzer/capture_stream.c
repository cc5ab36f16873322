/*
 * capture_stream.c - a capture file read once for libpcap and for the
 * pcapng statistics scan (see capture_stream.h).  A stdio stream made with
 * fopencookie() reads the file descriptor in 256 KiB pieces and hands each
 * piece to the scan before libpcap sees it.
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
	cookie_io_functions_t io = { .read = stream_read, .close = stream_close };
	FILE *f = fopencookie(cs, "rb", io);
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

void capture_stream_finish(struct capture_stream *cs, struct pcapng_drops *out)
{
	pcapng_scan_finish(&cs->scan, out);
	free(cs->buf);
	cs->buf = NULL;
}
