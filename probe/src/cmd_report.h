#ifndef CS_CMD_REPORT_H
#define CS_CMD_REPORT_H

/* `coscope report FILE`: a recording as text, JSON, Chrome trace, folded stacks or SVG. */
int cs_cmd_report(int argc, char **argv);

struct cs_recording;
/* Says on stderr what is wrong with a loaded recording, if anything, and returns the exit
 * code it calls for; *go_on is false when nothing in it can be used. (Shared with
 * `top --replay`.) */
int cs_report_status_exit(const struct cs_recording *rec, const char *path, _Bool *go_on);

#endif
