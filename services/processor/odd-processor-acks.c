#define G_LOG_DOMAIN "odd-processor-acks"

#include "odd-processor-private.h"

/* Which basic.acks acknowledge a set of deliveries. */

static gint
compare_tags (gconstpointer a,
              gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

void
odd_processor_plan_acks (GArray  *outstanding,
                         GArray  *tags,
                         guint64 *multiple_tag,
                         GArray  *singles)
{
  guint prefix = 0, kept = 0, t = 0;

  g_return_if_fail (outstanding != NULL && tags != NULL && multiple_tag != NULL);
  g_return_if_fail (singles != NULL);

  *multiple_tag = 0;
  g_array_sort (tags, compare_tags);

  /* The oldest outstanding deliveries, as long as each is to be acked. */
  while (prefix < outstanding->len && prefix < tags->len
         && g_array_index (outstanding, guint64, prefix) == g_array_index (tags, guint64, prefix))
    prefix++;
  if (prefix > 1)
    *multiple_tag = g_array_index (tags, guint64, prefix - 1);

  for (guint i = prefix > 1 ? prefix : 0; i < tags->len; i++)
    {
      guint64 tag = g_array_index (tags, guint64, i);

      /* the same delivery twice (it ended two ways) is acked once */
      if (i > 0 && tag == g_array_index (tags, guint64, i - 1))
        continue;
      g_array_append_val (singles, tag);
    }

  /* What stays outstanding: the deliveries not acked now (both arrays ascending). */
  for (guint o = prefix; o < outstanding->len; o++)
    {
      guint64 tag = g_array_index (outstanding, guint64, o);

      while (t < tags->len && g_array_index (tags, guint64, t) < tag)
        t++;
      if (t < tags->len && g_array_index (tags, guint64, t) == tag)
        continue;
      g_array_index (outstanding, guint64, kept++) = tag;
    }
  g_array_set_size (outstanding, kept);
}
