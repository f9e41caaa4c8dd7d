/* `coscope top`: the live ncurses dashboard (docs/viewer.md). */
#ifndef CS_CMD_TOP_H
#define CS_CMD_TOP_H

/* argv[0] is "top". Returns a coscope exit code (exit_codes.h). */
int cs_cmd_top(int argc, char **argv);

#endif
