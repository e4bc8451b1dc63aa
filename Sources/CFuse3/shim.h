#ifndef CHECKPOINTFS_CFUSE3_SHIM_H
#define CHECKPOINTFS_CFUSE3_SHIM_H


/* 3.12 keeps fuse_session_loop_mt a real function taking a fuse_loop_config. */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#endif
