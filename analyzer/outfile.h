/*
 * outfile.h - opening the files tlsready writes (reports, events, the
 * state and its lock) without being turned against the machine.
 *
 * The monitor starts as root and writes into directories that belong to
 * the user it drops to, who can plant a symbolic link or a hard link there.
 * So the last component of every path written is opened with O_NOFOLLOW
 * (a link is refused, never followed), a file is created with O_EXCL and
 * the mode asked for, and what was opened is checked on its descriptor
 * (fstat: a regular file with one link) before anything is written,
 * truncated or given away (fchown on the descriptor, never chown by path).
 */
#ifndef TLSREADY_OUTFILE_H
#define TLSREADY_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit status when a file to write is refused as unsafe (a symbolic link, a
 * hard link, not a regular file). */
#define EXIT_UNSAFE_FILE 4

enum outfile_how {
	OUTFILE_TRUNCATE = 1,      /* write from the start (a report) */
	OUTFILE_APPEND = 2,        /* append (the events file) */
	OUTFILE_RDWR = 4,          /* read and write, no truncation (the state, its lock) */
	OUTFILE_SPECIAL_OK = 8,    /* a character device or a FIFO is fine too (-o /dev/null) */
	OUTFILE_NEW = 16,          /* create it: an existing file of that name is refused (a temporary file) */
};

enum outfile_result { OUTFILE_OK, OUTFILE_ERROR, OUTFILE_UNSAFE };

/*
 * Open PATH as `how` says, creating it with `mode` if missing (*created
 * says so, may be NULL).  On failure *fd is -1 and err holds one line naming
 * the file; OUTFILE_UNSAFE when the path is a symbolic link, a regular file
 * with more than one link, or not a regular file.
 */
enum outfile_result outfile_open(const char *path, int how, mode_t mode, int *fd, bool *created, char *err,
				 size_t errlen);

/* The same checks on an existing file opened read-write without creating it
 * (SQLite's -wal and -shm, to give them away): OUTFILE_OK with *fd = -1 when
 * it does not exist. */
enum outfile_result outfile_open_existing(const char *path, int *fd, char *err, size_t errlen);

/*
 * Replace PATH as a whole (the monitor's --report-file, rewritten while people read it): a new file
 * beside it, ".NAME.XXXXXX" in the same directory, created with O_EXCL and `mode`, is written through
 * *fd; outfile_replace_commit() renames it over PATH, so a reader opens the old report or the new one,
 * never half of one.  rename() replaces a link planted at PATH without following it; one seen before
 * (PATH a symbolic link, a hard-linked or special file) is refused, OUTFILE_UNSAFE.  A character device
 * or a FIFO at PATH is written directly (tmp is then ""; commit does nothing).  The directory must be
 * writable by the user writing.
 */
enum outfile_result outfile_replace_open(const char *path, mode_t mode, int *fd, char *tmp, size_t tmplen,
					 char *err, size_t errlen);
/* After *fd was closed: rename tmp over path (tmp "" : nothing to do); on failure tmp is removed. */
bool outfile_replace_commit(const char *tmp, const char *path, char *err, size_t errlen);
/* Give up: remove tmp (when not ""). */
void outfile_replace_abort(const char *tmp);

/* Is PATH a symbolic link or anything but a regular file with one link?
 * (A missing file is fine.)  err names it. */
bool outfile_path_unsafe(const char *path, char *err, size_t errlen);

#endif
