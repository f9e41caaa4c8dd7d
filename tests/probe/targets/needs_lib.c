/*
 * A program linked to a library of this build directory, found through its build rpath
 * ($ORIGIN-relative): copied elsewhere it cannot start, and the dynamic loader exits before
 * the program's first instruction (a `-- CMD` that exits before it started).
 */
void cs_needed_function(void);

int main(void)
{
    cs_needed_function();
    return 0;
}
