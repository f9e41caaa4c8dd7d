/* `coscope stat`: loop and task statistics of a libcorun process (docs/cli.md). */
#ifndef CS_CMD_STAT_H
#define CS_CMD_STAT_H

int cs_cmd_stat(int argc, char **argv);

#endif
