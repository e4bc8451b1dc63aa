#ifndef CHECKPOINTFS_CSELINUX_SHIM_H
#define CHECKPOINTFS_CSELINUX_SHIM_H

/* Every C module sees the same glibc declarations as CSystem. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <selinux/selinux.h>

#endif
