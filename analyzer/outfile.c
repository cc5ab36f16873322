/*
 * outfile.c - safe opening of the files tlsready writes (see outfile.h).
 *
 * A new file: open(O_CREAT | O_EXCL | O_NOFOLLOW, mode), so it is ours, with
 * our mode, and no link was followed.  An existing file: open(O_NOFOLLOW)
 * without O_TRUNC, then fstat on the descriptor; only a regular file with
 * one link is truncated or written.  ELOOP from O_NOFOLLOW is told apart
 * with lstat, only to say "is a symbolic link" in the error.
 */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum outfile_result open_failed(const char *path, int e, char *err, size_t errlen)
{
	struct stat sb;
	if (e == ELOOP || e == EMLINK || (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))) {
		snprintf(err, errlen, "%s: is a symbolic link; refusing to write through it", path);
		return OUTFILE_UNSAFE;
	}
	snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
	return OUTFILE_ERROR;
}

/* fstat on what was opened: a regular file with one link (or, when allowed, a device or FIFO). */
static enum outfile_result check_fd(const char *path, int fd, bool special_ok, bool *regular, char *err,
				    size_t errlen)
{
	struct stat sb;
	*regular = false;
	if (fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		return OUTFILE_ERROR;
	}
	if (S_ISREG(sb.st_mode)) {
		if (sb.st_nlink != 1) {
			snprintf(err, errlen, "%s: has %lu hard links; refusing to write to it", path,
				 (unsigned long)sb.st_nlink);
			return OUTFILE_UNSAFE;
		}
		*regular = true;
		return OUTFILE_OK;
	}
	if (special_ok && (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode)))
		return OUTFILE_OK;
	snprintf(err, errlen, "%s: not a regular file; refusing to write to it", path);
	return OUTFILE_UNSAFE;
}

enum outfile_result outfile_open(const char *path, int how, mode_t mode, int *fd, bool *created, char *err,
				 size_t errlen)
{
	int acc = how & OUTFILE_RDWR ? O_RDWR : O_WRONLY;
	int flags = acc | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (how & OUTFILE_APPEND ? O_APPEND : 0);
	bool made = true, regular;
	*fd = open(path, flags | O_CREAT | O_EXCL, mode);
	if (*fd < 0 && errno == EEXIST) {
		made = false;
		*fd = open(path, flags);
	}
	if (created)
		*created = made && *fd >= 0;
	if (*fd < 0)
		return open_failed(path, errno, err, errlen);
	enum outfile_result r = check_fd(path, *fd, how & OUTFILE_SPECIAL_OK, &regular, err, errlen);
	if (r == OUTFILE_OK && regular && !made && (how & OUTFILE_TRUNCATE) && ftruncate(*fd, 0) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		r = OUTFILE_ERROR;
	}
	if (r != OUTFILE_OK) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

enum outfile_result outfile_open_existing(const char *path, int *fd, char *err, size_t errlen)
{
	bool regular;
	*fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0)
		return errno == ENOENT ? OUTFILE_OK : open_failed(path, errno, err, errlen);
	enum outfile_result r = check_fd(path, *fd, false, &regular, err, errlen);
	if (r != OUTFILE_OK) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

bool outfile_path_unsafe(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return false;
	if (S_ISLNK(sb.st_mode))
		snprintf(err, errlen, "%s: is a symbolic link; refusing to write through it", path);
	else if (!S_ISREG(sb.st_mode))
		snprintf(err, errlen, "%s: not a regular file; refusing to write to it", path);
	else if (sb.st_nlink != 1)
		snprintf(err, errlen, "%s: has %lu hard links; refusing to write to it", path, (unsigned long)sb.st_nlink);
	else
		return false;
	return true;
}
