/* `coscope top`: the live ncurses dashboard (docs/viewer.md). */
#ifndef CS_CMD_TOP_H
#define CS_CMD_TOP_H

/* Malloc settings for many large short-lived arrays (also used by the benchmark). */
void cs_top_tune_malloc(void);
/* argv[0] is "top". Returns a coscope exit code (exit_codes.h). */
int cs_cmd_top(int argc, char **argv);

#endif
