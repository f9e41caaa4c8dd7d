/* coscope's exit codes: one per kind of failure a user can cause (docs/cli.md). */
#ifndef CS_EXIT_CODES_H
#define CS_EXIT_CODES_H

enum cs_exit {
    CS_EXIT_OK = 0,
    CS_EXIT_FAILURE = 1,    /* a regression found (compare), or an internal error */
    CS_EXIT_USAGE = 2,      /* bad flag, bad value, bad file */
    CS_EXIT_NO_PROCESS = 3, /* no such process, or it exited while attached */
    CS_EXIT_PERMISSION = 4, /* not root / missing CAP_BPF, CAP_PERFMON */
    CS_EXIT_KERNEL = 5,     /* the kernel lacks something needed */
    CS_EXIT_NOT_CORUN = 6,  /* ps/stat: the process does not use libcorun (or a table
                               version this coscope cannot read) */

    /* report / top --replay: what is wrong with a recording (docs/file-format.md) */
    CS_EXIT_NOT_RECORDING = 7, /* not a coscope recording */
    CS_EXIT_REC_VERSION = 8,   /* a format version this coscope cannot read */
    CS_EXIT_REC_CORRUPT = 9,   /* a damaged record (the records before it are used) */

    CS_EXIT_NOT_A_LOOP = 10, /* the process is not an event loop (a Go program) */
};

#endif
