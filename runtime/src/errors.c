/* co_strerror: names for status codes. */
#include <string.h>

#include "corun.h"

const char *co_strerror(int err)
{
    switch (err) {
    case CO_OK:
        return "success";
    case CO_EINVAL:
        return "invalid argument";
    case CO_ENOMEM:
        return "out of memory";
    case CO_ECANCELED:
        return "cancelled";
    case CO_ETIMEDOUT:
        return "timed out";
    case CO_ECLOSED:
        return "closed";
    case CO_EBUSY:
        return "busy (already in use)";
    case CO_EPERM:
        return "not allowed here (outside a task, or on another loop's thread)";
    default:
        break;
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown status code";
}
