/* The library needs_lib.c links to. */
void cs_needed_function(void);

void cs_needed_function(void) {}
