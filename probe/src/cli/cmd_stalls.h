/* `coscope stalls`: stream event-loop stalls of a running process (docs/cli.md). */
#ifndef CS_CMD_STALLS_H
#define CS_CMD_STALLS_H

/* argv[0] is "stalls". Returns the process exit code (exit_codes.h). */
int cs_cmd_stalls(int argc, char **argv);

#endif
