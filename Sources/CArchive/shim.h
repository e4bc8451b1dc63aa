#ifndef CHECKPOINTFS_CARCHIVE_SHIM_H
#define CHECKPOINTFS_CARCHIVE_SHIM_H


#include <archive.h>
#include <archive_entry.h>

/* The AE_IF* macros cast through another macro, which Swift does not import. */
static const unsigned int CKPT_AE_IFMT = AE_IFMT;
static const unsigned int CKPT_AE_IFREG = AE_IFREG;
static const unsigned int CKPT_AE_IFLNK = AE_IFLNK;
static const unsigned int CKPT_AE_IFSOCK = AE_IFSOCK;
static const unsigned int CKPT_AE_IFCHR = AE_IFCHR;
static const unsigned int CKPT_AE_IFBLK = AE_IFBLK;
static const unsigned int CKPT_AE_IFDIR = AE_IFDIR;
static const unsigned int CKPT_AE_IFIFO = AE_IFIFO;

/* archive_set_error(3) with a plain message: Swift cannot call a variadic function. */
static inline void ckpt_archive_set_error(struct archive *archive, int code,
                                          const char *message)
{
    archive_set_error(archive, code, "%s", message);
}

#endif
