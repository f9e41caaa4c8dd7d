#include "blocking.h"

#include <stdlib.h>

void cs_blocking_free(struct cs_blocking_stat *b)
{
    free(b->rows);
    free(b->exec);
    b->rows = NULL;
    b->exec = NULL;
    b->nrows = b->nexec = 0;
}
