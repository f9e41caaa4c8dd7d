#ifndef CS_CMD_REPORT_H
#define CS_CMD_REPORT_H

/* `coscope report FILE`: a recording as text, JSON, Chrome trace, folded stacks or SVG. */
int cs_cmd_report(int argc, char **argv);

#endif
