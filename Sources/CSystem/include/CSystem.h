#ifndef CHECKPOINTFS_CSYSTEM_H
#define CHECKPOINTFS_CSYSTEM_H

/* System calls and constants that Swift's Glibc module does not expose. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/statvfs.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <getopt.h>

static const int CKPT_O_PATH = O_PATH;
static const int CKPT_O_NOFOLLOW = O_NOFOLLOW;
static const int CKPT_O_DIRECTORY = O_DIRECTORY;
static const int CKPT_O_CLOEXEC = O_CLOEXEC;
static const int CKPT_O_NOATIME = O_NOATIME;
static const int CKPT_AT_EMPTY_PATH = AT_EMPTY_PATH;
static const int CKPT_AT_SYMLINK_NOFOLLOW = AT_SYMLINK_NOFOLLOW;
static const int CKPT_AT_REMOVEDIR = AT_REMOVEDIR;
static const int CKPT_AT_FDCWD = AT_FDCWD;
static const unsigned long long CKPT_RESOLVE_IN_ROOT = RESOLVE_IN_ROOT;
static const unsigned long long CKPT_RESOLVE_BENEATH = RESOLVE_BENEATH;
static const unsigned long long CKPT_RESOLVE_NO_SYMLINKS = RESOLVE_NO_SYMLINKS;
static const unsigned long long CKPT_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;
static const unsigned long long CKPT_RESOLVE_NO_XDEV = RESOLVE_NO_XDEV;

/* openat2(2); bookworm's glibc has no wrapper. Returns -1 and sets errno on failure. */
static inline int ckpt_openat2(int dirfd, const char *path, int flags, unsigned long long mode,
                               unsigned long long resolve) {
    struct open_how how = { .flags = (unsigned long long)flags, .mode = mode,
                            .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static inline int ckpt_errno(void) { return errno; }
static inline void ckpt_set_errno(int value) { errno = value; }

static inline unsigned int ckpt_major(dev_t dev) { return major(dev); }
static inline unsigned int ckpt_minor(dev_t dev) { return minor(dev); }
static inline dev_t ckpt_makedev(unsigned int ma, unsigned int mi) { return makedev(ma, mi); }

/* getopt_long(3)'s globals, which Swift 6 will not touch directly. */
static inline void ckpt_getopt_reset(void) { optind = 0; opterr = 0; }
static inline int ckpt_optind(void) { return optind; }
static inline int ckpt_optopt(void) { return optopt; }
static inline const char *ckpt_optarg(void) { return optarg; }

#endif
