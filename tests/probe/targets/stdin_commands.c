#include "stdin_commands.h"

#include <string.h>
#include <unistd.h>

#include "stall_actions.h"

static char buf[256];
static size_t have;

int stdin_commands_read(void)
{
    ssize_t got = read(0, buf + have, sizeof buf - 1 - have);
    if (got <= 0)
        return 1; /* stdin closed: the test is over */
    have += (size_t)got;
    buf[have] = 0;
    char *nl;
    while ((nl = strchr(buf, '\n'))) {
        *nl = 0;
        if (stall_run_command(buf))
            return 1;
        size_t used = (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, have - used + 1);
        have -= used;
    }
    if (have == sizeof buf - 1)
        have = 0; /* a line too long for a command: drop it */
    return 0;
}
