#ifndef CHECKPOINTFS_CSYSTEM_H
#define CHECKPOINTFS_CSYSTEM_H

/*
 * System calls and constants that Swift's Glibc module does not expose. The header is
 * compiled without _GNU_SOURCE so that its view of glibc matches every other module's;
 * what needs _GNU_SOURCE lives in CSystem.c.
 */

#include <fcntl.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <getopt.h>

extern const int CKPT_O_PATH;
extern const int CKPT_O_NOFOLLOW;
extern const int CKPT_O_DIRECTORY;
extern const int CKPT_O_CLOEXEC;
extern const int CKPT_O_NOATIME;
extern const int CKPT_AT_EMPTY_PATH;
extern const int CKPT_AT_SYMLINK_NOFOLLOW;
extern const int CKPT_AT_REMOVEDIR;
extern const int CKPT_AT_FDCWD;
extern const unsigned long long CKPT_RESOLVE_IN_ROOT;
extern const unsigned long long CKPT_RESOLVE_BENEATH;
extern const unsigned long long CKPT_RESOLVE_NO_SYMLINKS;
extern const unsigned long long CKPT_RESOLVE_NO_MAGICLINKS;
extern const unsigned long long CKPT_RESOLVE_NO_XDEV;

/* openat2(2); bookworm's glibc has no wrapper. Returns -1 and sets errno on failure. */
int ckpt_openat2(int dirfd, const char *path, int flags, unsigned long long mode,
                 unsigned long long resolve);

/* copy_file_range(2), declared by glibc only under _GNU_SOURCE. */
ssize_t ckpt_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out,
                             size_t length);

/* statx(2) birth time of an open file; 0 and 0 where the file system records none.
   Returns -1 and sets errno on failure. */
int ckpt_birth_time(int fd, int64_t *seconds, uint32_t *nanoseconds);

int ckpt_errno(void);
void ckpt_set_errno(int value);

unsigned int ckpt_major(dev_t dev);
unsigned int ckpt_minor(dev_t dev);
dev_t ckpt_makedev(unsigned int major, unsigned int minor);

/* getopt_long(3)'s globals, which Swift 6 will not touch directly. */
void ckpt_getopt_reset(void);
int ckpt_optind(void);
int ckpt_optopt(void);
const char *ckpt_optarg(void);

#endif
