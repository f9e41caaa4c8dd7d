/* `coscope compare`: holds a metrics file against a baseline (docs/ci.md). */
#ifndef CS_CMD_COMPARE_H
#define CS_CMD_COMPARE_H

int cs_cmd_compare(int argc, char **argv);

#endif
