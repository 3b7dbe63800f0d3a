/* orphan_sender: orphan_partner with the partner the blocked sender. */
#define ORPHAN_SENDER 1
#include "orphan_partner.c"
