#ifndef CHECKPOINTFS_CSELINUX_SHIM_H
#define CHECKPOINTFS_CSELINUX_SHIM_H


#include <selinux/selinux.h>

#endif
