/*
 * Files coscope opens for the user, safe to do as root in a shared directory: outputs
 * never follow a symbolic link (or write into another name of a file, a hard link)
 * unless forced, are created 0600; inputs never block (a FIFO, a device) and must be
 * regular files; private files go in a directory only this user can enter.
 */
#ifndef CS_SAFE_FILE_H
#define CS_SAFE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Creates or truncates the output `path` for writing, mode 0600 when created. Refuses a
 * symbolic link and a regular file with more than one link unless `force`. Returns the
 * descriptor, or -errno with one line in `why` ("refusing to write through the symbolic
 * link X (use --force)").
 */
int cs_create_output(const char *path, bool force, char *why, size_t why_len);

/* The same as a stdio stream ("w"); NULL with `why` set. */
FILE *cs_fopen_output(const char *path, bool force, char *why, size_t why_len);

/*
 * Opens the input `path` for reading without blocking on a FIFO or a device, and only if
 * it is a regular file. Returns the descriptor (blocking again), or -errno with `why`
 * ("cannot read X: not a regular file").
 */
int cs_open_input(const char *path, char *why, size_t why_len);

/*
 * Makes a new directory only this user can enter (mode 0700) under $XDG_RUNTIME_DIR when
 * it is ours, else under /tmp, named "coscope-<what>-XXXXXX"; its path into `dir`.
 * 0 or -errno.
 */
int cs_private_dir(const char *what, char *dir, size_t dir_len);

#endif
