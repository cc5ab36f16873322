/*
 * outfile.c - safe opening of the files tlsready writes (see outfile.h).
 *
 * A new file: open(O_CREAT | O_EXCL | O_NOFOLLOW, mode), so it is ours, with
 * our mode, and no link was followed.  An existing file: open(O_NOFOLLOW)
 * without O_TRUNC, then fstat on the descriptor; only a regular file with
 * one link is truncated or written.  ELOOP from O_NOFOLLOW is told apart
 * with lstat, only to say "is a symbolic link" in the error.  A file that is
 * replaced as a whole is written under a new random name beside it
 * (O_EXCL) and renamed over it.
 */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
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
	if (*fd < 0 && errno == EEXIST && !(how & OUTFILE_NEW)) {
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

enum outfile_result outfile_replace_open(const char *path, mode_t mode, int *fd, char *tmp, size_t tmplen,
					 char *err, size_t errlen)
{
	struct stat sb;
	*fd = -1;
	if (tmplen)
		tmp[0] = '\0';
	if (lstat(path, &sb) == 0 && (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode)))
		return outfile_open(path, OUTFILE_TRUNCATE | OUTFILE_SPECIAL_OK, mode, fd, NULL, err, errlen);
	if (outfile_path_unsafe(path, err, errlen))
		return OUTFILE_UNSAFE;
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	enum outfile_result r = OUTFILE_ERROR;
	for (int attempt = 0; attempt < 8; attempt++) {   /* a name taken: another random one */
		unsigned char rnd[6];
		char suffix[7];
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
			snprintf(err, errlen, "%s: cannot write: no random name for the new file", path);
			return OUTFILE_ERROR;
		}
		for (int i = 0; i < 6; i++)
			suffix[i] = abc[rnd[i] % (sizeof abc - 1)];
		suffix[6] = '\0';
		int n = snprintf(tmp, tmplen, "%.*s.%s.%s", dirlen, path, path + dirlen, suffix);
		if (n < 0 || (size_t)n >= tmplen) {
			snprintf(err, errlen, "%s: cannot write: the name is too long", path);
			tmp[0] = '\0';
			return OUTFILE_ERROR;
		}
		r = outfile_open(tmp, OUTFILE_NEW, mode, fd, NULL, err, errlen);
		if (r == OUTFILE_OK || lstat(tmp, &sb) != 0)
			break;
	}
	if (r != OUTFILE_OK)
		tmp[0] = '\0';
	return r;
}

bool outfile_replace_commit(const char *tmp, const char *path, char *err, size_t errlen)
{
	if (!tmp[0])
		return true;
	/* seen since the open: refused; planted between this check and rename: replaced, never followed */
	if (outfile_path_unsafe(path, err, errlen)) {
		unlink(tmp);
		return false;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

void outfile_replace_abort(const char *tmp)
{
	if (tmp[0])
		unlink(tmp);
}
