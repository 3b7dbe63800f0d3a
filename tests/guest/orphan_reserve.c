/* orphan_reserve: a chain of two kpager tasks whose reserve pages wait
 * unused in the orphan chain while a TCB orphan is let go (orphan_chain.c). */
#define CHAIN 2
#define RESERVE 1
#include "orphan_chain.c"
