#ifndef CS_CMD_RECORD_H
#define CS_CMD_RECORD_H

/* `coscope record`: writes what the collectors see to a recording (docs/file-format.md). */
int cs_cmd_record(int argc, char **argv);

#endif
