#define G_LOG_DOMAIN "odd-projection"

#include "odd-projection.h"

#include <string.h>

#include "odd-log.h"
#include "odd-redis.h"

/* KEYS: applied_seq, last_event_time. ARGV: expect_prev, new_seq, last_event_time ("" for
 * none), then (op, key, field, value) quads. RFC 3339 UTC strings of one fixed width compare
 * like the instants they name, so last_event_time only moves forward. Numbers stay below 2^53. */
static const char apply_script[] =
  "local cur = redis.call('GET', KEYS[1])\n"
  "if not cur then return -1 end\n"
  "cur = tonumber(cur)\n"
  "if cur >= tonumber(ARGV[2]) then return 0 end\n"
  "if cur ~= tonumber(ARGV[1]) then return -2 end\n"
  "for i = 4, #ARGV, 4 do\n"
  "  local op = ARGV[i]\n"
  "  if op == 'i' then redis.call('INCRBY', ARGV[i + 1], ARGV[i + 3])\n"
  "  elseif op == 'h' then redis.call('HINCRBY', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])\n"
  "  elseif op == 'x' then redis.call('EXPIREAT', ARGV[i + 1], ARGV[i + 3])\n"
  "  end\n"
  "end\n"
  "if ARGV[3] ~= '' then\n"
  "  local last = redis.call('GET', KEYS[2])\n"
  "  if (not last) or last < ARGV[3] then redis.call('SET', KEYS[2], ARGV[3]) end\n"
  "end\n"
  "redis.call('SET', KEYS[1], ARGV[2])\n"
  "return 1\n";

const char *
odd_projection_result_to_string (OddProjectionResult result)
{
  switch (result)
    {
    case ODD_PROJECTION_APPLIED: return "applied";
    case ODD_PROJECTION_ALREADY: return "already applied";
    case ODD_PROJECTION_MISSING: return "watermark missing";
    case ODD_PROJECTION_GAP:     return "watermark gap";
    default:                     return "unknown";
    }
}

gboolean
odd_projection_apply (redisContext         *ctx,
                      OddAggregates        *aggregates,
                      gint64                expect_prev,
                      gint64                new_seq,
                      OddProjectionResult  *result,
                      GError              **error)
{
  GArray *ops = odd_aggregates_get_ops (aggregates);
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) argv = g_ptr_array_sized_new (10 + ops->len * 4);
  g_autoptr(redisReply) reply = NULL;
  g_autofree char *last = odd_aggregates_dup_last_event_time (aggregates);

#define OWN(s) (g_ptr_array_add (owned, (s)), (const char *) owned->pdata[owned->len - 1])

  g_ptr_array_add (argv, (gpointer) "EVAL");
  g_ptr_array_add (argv, (gpointer) apply_script);
  g_ptr_array_add (argv, (gpointer) "2");
  g_ptr_array_add (argv, (gpointer) ODD_KEY_APPLIED_SEQ);
  g_ptr_array_add (argv, (gpointer) ODD_KEY_LAST_EVENT_TIME);
  g_ptr_array_add (argv, (gpointer) OWN (g_strdup_printf ("%" G_GINT64_FORMAT, expect_prev)));
  g_ptr_array_add (argv, (gpointer) OWN (g_strdup_printf ("%" G_GINT64_FORMAT, new_seq)));
  g_ptr_array_add (argv, (gpointer) (last ? last : ""));

  for (guint i = 0; i < ops->len; i++)
    {
      const OddAggOp *op = &g_array_index (ops, OddAggOp, i);

      switch (op->kind)
        {
        case ODD_AGG_OP_INCRBY:   g_ptr_array_add (argv, (gpointer) "i"); break;
        case ODD_AGG_OP_HINCRBY:  g_ptr_array_add (argv, (gpointer) "h"); break;
        case ODD_AGG_OP_EXPIREAT: g_ptr_array_add (argv, (gpointer) "x"); break;
        default: g_assert_not_reached ();
        }
      g_ptr_array_add (argv, (gpointer) op->key);
      g_ptr_array_add (argv, (gpointer) (op->field ? op->field : ""));
      g_ptr_array_add (argv, (gpointer) OWN (g_strdup_printf ("%" G_GINT64_FORMAT, op->value)));
    }
#undef OWN

  reply = odd_redis_command_argv (ctx, argv->len, (const char **) argv->pdata, NULL, error);
  if (reply == NULL)
    return FALSE;
  if (reply->type != REDIS_REPLY_INTEGER)
    {
      g_set_error (error, ODD_REDIS_ERROR, 0, "apply script: unexpected reply type %d", reply->type);
      return FALSE;
    }

  switch (reply->integer)
    {
    case 1:  *result = ODD_PROJECTION_APPLIED; break;
    case 0:  *result = ODD_PROJECTION_ALREADY; break;
    case -1: *result = ODD_PROJECTION_MISSING; break;
    default: *result = ODD_PROJECTION_GAP; break;
    }
  return TRUE;
}

gboolean
odd_projection_get_applied_seq (redisContext  *ctx,
                                gint64        *seq,
                                gboolean      *present,
                                GError       **error)
{
  /* MGET answers nil for a key of another type: as good as lost, the rebuild rewrites it. */
  g_autoptr(redisReply) reply = odd_redis_command (ctx, error, "MGET %s %s", ODD_KEY_APPLIED_SEQ,
                                                   ODD_KEY_FORMAT);
  redisReply *applied;
  redisReply *format;
  char *end = NULL;

  *seq = 0;
  *present = FALSE;
  if (reply == NULL)
    return FALSE;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
    {
      g_set_error (error, ODD_REDIS_ERROR, 0, "MGET %s %s: unexpected reply type %d",
                   ODD_KEY_APPLIED_SEQ, ODD_KEY_FORMAT, reply->type);
      return FALSE;
    }
  applied = reply->element[0];
  format = reply->element[1];
  if (applied->type != REDIS_REPLY_STRING)
    return TRUE;

  /* Keys an older engine wrote (metrics:latency's coarse buckets): rebuilt, not mixed. */
  if (format->type != REDIS_REPLY_STRING || g_strcmp0 (format->str, ODD_PROJECTION_FORMAT) != 0)
    {
      odd_info (NULL, "%s is %s, this engine writes %s: the aggregates are rebuilt", ODD_KEY_FORMAT,
                format->type == REDIS_REPLY_STRING ? format->str : "missing", ODD_PROJECTION_FORMAT);
      return TRUE;
    }

  *seq = g_ascii_strtoll (applied->str, &end, 10);
  if (end == applied->str || *end != '\0' || *seq < 0)
    {
      /* Garbage in the watermark: treat it as lost, the rebuild rewrites it. */
      *seq = 0;
      return TRUE;
    }
  *present = TRUE;
  return TRUE;
}

gboolean
odd_projection_reset (redisContext  *ctx,
                      GError       **error)
{
  g_autofree char *cursor = g_strdup ("0");
  g_autoptr(redisReply) format = NULL;
  g_autoptr(redisReply) set = NULL;

  /* The watermark goes first, so a crash during the deletes is seen as "missing". */
  g_autoptr(redisReply) del = odd_redis_command (ctx, error, "DEL %s", ODD_KEY_APPLIED_SEQ);
  if (del == NULL)
    return FALSE;

  do
    {
      g_autoptr(redisReply) reply = odd_redis_command (ctx, error, "SCAN %s MATCH metrics:* COUNT 1000",
                                                        cursor);
      redisReply *keys;

      if (reply == NULL)
        return FALSE;
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
          || reply->element[0]->type != REDIS_REPLY_STRING
          || reply->element[1]->type != REDIS_REPLY_ARRAY)
        {
          g_set_error_literal (error, ODD_REDIS_ERROR, 0, "SCAN: unexpected reply");
          return FALSE;
        }
      g_free (cursor);
      cursor = g_strdup (reply->element[0]->str);
      keys = reply->element[1];
      if (keys->elements > 0)
        {
          g_autofree const char **argv = g_new (const char *, keys->elements + 1);
          g_autofree size_t *argvlen = g_new (size_t, keys->elements + 1);
          g_autoptr(redisReply) unlinked = NULL;

          argv[0] = "DEL";
          argvlen[0] = 3;
          for (size_t i = 0; i < keys->elements; i++)
            {
              argv[i + 1] = keys->element[i]->str;
              argvlen[i + 1] = keys->element[i]->len;
            }
          unlinked = odd_redis_command_argv (ctx, keys->elements + 1, argv, argvlen, error);
          if (unlinked == NULL)
            return FALSE;
        }
    }
  while (strcmp (cursor, "0") != 0);

  format = odd_redis_command (ctx, error, "SET %s %s", ODD_KEY_FORMAT, ODD_PROJECTION_FORMAT);
  if (format == NULL)
    return FALSE;
  set = odd_redis_command (ctx, error, "SET %s 0", ODD_KEY_APPLIED_SEQ);
  return set != NULL;
}
