/* `coscope ps`: one snapshot of a libcorun process's tasks (docs/cli.md). */
#ifndef CS_CMD_PS_H
#define CS_CMD_PS_H

int cs_cmd_ps(int argc, char **argv);

#endif
