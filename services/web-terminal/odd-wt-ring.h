/* odd-wt-ring.h: the last bytes a terminal printed, for a reconnecting browser
 *
 * A fixed-size byte ring: appending past the size drops the oldest bytes. A copy starts at a
 * UTF-8 character boundary, so the replayed text never begins in the middle of a character.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OddWtRing OddWtRing;

OddWtRing *odd_wt_ring_new     (gsize            size);
void       odd_wt_ring_free    (OddWtRing       *ring);
void       odd_wt_ring_append  (OddWtRing       *ring,
                                const guint8    *data,
                                gsize            len);
gsize      odd_wt_ring_length  (const OddWtRing *ring);
/* Everything kept, oldest first, from the first character boundary. */
GBytes    *odd_wt_ring_copy    (const OddWtRing *ring);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddWtRing, odd_wt_ring_free)

G_END_DECLS
