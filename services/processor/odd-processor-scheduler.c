#define G_LOG_DOMAIN "odd-processor-scheduler"

#include "odd-processor-private.h"

/* A binary min-heap keyed by (due, seq): O(log n) insert and pop, and the sequence number
 * keeps items due at the same instant in insertion order. */
typedef struct {
  gint64   due;
  guint64  seq;
  gpointer data;
} Entry;

struct _OddScheduler {
  GArray  *heap;
  guint64  next_seq;
};

static inline gboolean
entry_before (const Entry *a,
              const Entry *b)
{
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

OddScheduler *
odd_scheduler_new (void)
{
  OddScheduler *self = g_new0 (OddScheduler, 1);

  self->heap = g_array_new (FALSE, FALSE, sizeof (Entry));
  return self;
}

void
odd_scheduler_free (OddScheduler *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->heap);
  g_free (self);
}

void
odd_scheduler_add (OddScheduler *self,
                   gint64        due,
                   gpointer      data)
{
  Entry entry = { due, self->next_seq++, data };
  Entry *items;
  guint i;

  g_array_append_val (self->heap, entry);
  items = (Entry *) (void *) self->heap->data;

  for (i = self->heap->len - 1; i > 0; )
    {
      guint parent = (i - 1) / 2;
      Entry tmp;

      if (!entry_before (&items[i], &items[parent]))
        break;
      tmp = items[i];
      items[i] = items[parent];
      items[parent] = tmp;
      i = parent;
    }
}

gboolean
odd_scheduler_next_due (OddScheduler *self,
                        gint64       *due)
{
  if (self->heap->len == 0)
    return FALSE;
  *due = g_array_index (self->heap, Entry, 0).due;
  return TRUE;
}

gpointer
odd_scheduler_pop_due (OddScheduler *self,
                       gint64        now)
{
  Entry *items;
  gpointer data;
  guint len, i = 0;

  if (self->heap->len == 0)
    return NULL;

  items = (Entry *) (void *) self->heap->data;
  if (items[0].due > now)
    return NULL;

  data = items[0].data;
  len = self->heap->len - 1;
  items[0] = items[len];
  g_array_set_size (self->heap, len);
  items = (Entry *) (void *) self->heap->data;

  for (;;)
    {
      guint left = 2 * i + 1, right = left + 1, smallest = i;
      Entry tmp;

      if (left < len && entry_before (&items[left], &items[smallest]))
        smallest = left;
      if (right < len && entry_before (&items[right], &items[smallest]))
        smallest = right;
      if (smallest == i)
        break;
      tmp = items[i];
      items[i] = items[smallest];
      items[smallest] = tmp;
      i = smallest;
    }

  return data;
}

guint
odd_scheduler_size (OddScheduler *self)
{
  return self->heap->len;
}

void
odd_scheduler_clear (OddScheduler *self)
{
  g_array_set_size (self->heap, 0);
}
