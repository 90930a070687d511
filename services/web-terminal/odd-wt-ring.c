/* odd-wt-ring.c: the last bytes a terminal printed */
#include "odd-wt-ring.h"

#include <string.h>

struct _OddWtRing {
  guint8 *data;
  gsize   size;
  gsize   start;   /* index of the oldest byte */
  gsize   length;
};

OddWtRing *
odd_wt_ring_new (gsize size)
{
  OddWtRing *ring = g_new0 (OddWtRing, 1);

  g_return_val_if_fail (size > 0, NULL);
  ring->data = g_malloc (size);
  ring->size = size;
  return ring;
}

void
odd_wt_ring_free (OddWtRing *ring)
{
  if (ring == NULL)
    return;
  g_free (ring->data);
  g_free (ring);
}

void
odd_wt_ring_append (OddWtRing    *ring,
                    const guint8 *data,
                    gsize         len)
{
  gsize end;
  gsize first;

  g_return_if_fail (ring != NULL);

  /* Only the last size bytes can survive. */
  if (len >= ring->size)
    {
      memcpy (ring->data, data + len - ring->size, ring->size);
      ring->start = 0;
      ring->length = ring->size;
      return;
    }

  end = (ring->start + ring->length) % ring->size;
  first = MIN (len, ring->size - end);
  memcpy (ring->data + end, data, first);
  memcpy (ring->data, data + first, len - first);

  if (ring->length + len > ring->size)
    {
      gsize dropped = ring->length + len - ring->size;

      ring->start = (ring->start + dropped) % ring->size;
      ring->length = ring->size;
    }
  else
    ring->length += len;
}

gsize
odd_wt_ring_length (const OddWtRing *ring)
{
  g_return_val_if_fail (ring != NULL, 0);
  return ring->length;
}

GBytes *
odd_wt_ring_copy (const OddWtRing *ring)
{
  guint8 *copy;
  gsize first;
  gsize skip = 0;

  g_return_val_if_fail (ring != NULL, NULL);

  copy = g_malloc (MAX (ring->length, 1));
  first = MIN (ring->length, ring->size - ring->start);
  memcpy (copy, ring->data + ring->start, first);
  memcpy (copy + first, ring->data, ring->length - first);

  /* A dropped lead byte leaves continuation bytes (10xxxxxx) in front: at most three. */
  while (skip < ring->length && skip < 3 && (copy[skip] & 0xC0) == 0x80)
    skip++;

  memmove (copy, copy + skip, ring->length - skip);
  return g_bytes_new_take (copy, ring->length - skip);
}
