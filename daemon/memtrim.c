/* Giving freed heap memory back to the kernel after a burst. */
#include "daemon/memtrim.h"

#include <malloc.h>

/* Below this, freed memory is left to be reused. */
#define MEMTRIM_MIN (256 * 1024)

void
memtrim(size_t freed)
{
    /* glibc keeps freed memory in its heaps, and gives it back only from
     * a heap's top: after a burst (the tree of an answer about 10,000
     * meters, some 50 MB; the readings queued while the main loop was held
     * up) the daemon would stay that large for good. malloc_trim releases
     * every free page; it walks the heaps, a few ms. */
#ifdef __GLIBC__
    if (freed >= MEMTRIM_MIN)
        malloc_trim(0);
#else
    (void)freed;
#endif
}
