#define _GNU_SOURCE
#include "CSystem.h"

#include <linux/openat2.h>
#include <sys/syscall.h>

const int CKPT_O_PATH = O_PATH;
const int CKPT_O_NOFOLLOW = O_NOFOLLOW;
const int CKPT_O_DIRECTORY = O_DIRECTORY;
const int CKPT_O_CLOEXEC = O_CLOEXEC;
const int CKPT_O_NOATIME = O_NOATIME;
const int CKPT_AT_EMPTY_PATH = AT_EMPTY_PATH;
const int CKPT_AT_SYMLINK_NOFOLLOW = AT_SYMLINK_NOFOLLOW;
const int CKPT_AT_REMOVEDIR = AT_REMOVEDIR;
const int CKPT_AT_FDCWD = AT_FDCWD;
const unsigned long long CKPT_RESOLVE_IN_ROOT = RESOLVE_IN_ROOT;
const unsigned long long CKPT_RESOLVE_BENEATH = RESOLVE_BENEATH;
const unsigned long long CKPT_RESOLVE_NO_SYMLINKS = RESOLVE_NO_SYMLINKS;
const unsigned long long CKPT_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;
const unsigned long long CKPT_RESOLVE_NO_XDEV = RESOLVE_NO_XDEV;

int ckpt_openat2(int dirfd, const char *path, int flags, unsigned long long mode,
                 unsigned long long resolve) {
    struct open_how how = { .flags = (unsigned long long)flags, .mode = mode,
                            .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

ssize_t ckpt_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out,
                             size_t length) {
    return copy_file_range(fd_in, (loff_t *)off_in, fd_out, (loff_t *)off_out, length, 0);
}

int ckpt_birth_time(int fd, int64_t *seconds, uint32_t *nanoseconds) {
    struct statx info;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &info) != 0) return -1;
    if (!(info.stx_mask & STATX_BTIME)) {
        *seconds = 0;
        *nanoseconds = 0;
        return 0;
    }
    *seconds = info.stx_btime.tv_sec;
    *nanoseconds = info.stx_btime.tv_nsec;
    return 0;
}

int ckpt_errno(void) { return errno; }
void ckpt_set_errno(int value) { errno = value; }

unsigned int ckpt_major(dev_t dev) { return major(dev); }
unsigned int ckpt_minor(dev_t dev) { return minor(dev); }
dev_t ckpt_makedev(unsigned int ma, unsigned int mi) { return makedev(ma, mi); }

void ckpt_getopt_reset(void) { optind = 0; opterr = 0; }
int ckpt_optind(void) { return optind; }
int ckpt_optopt(void) { return optopt; }
const char *ckpt_optarg(void) { return optarg; }
