#define G_LOG_DOMAIN "test-aggregates"

#include "odd-aggregates.h"
#include "odd-contracts.h"

/* 2026-01-02T03:04:05Z */
#define T0 (G_GINT64_CONSTANT (1767323045) * G_USEC_PER_SEC)
#define SEC(s) ((gint64) (s) * G_USEC_PER_SEC)
#define MS(ms) ((gint64) (ms) * 1000)

static const OddProducer producer = { "processor", "test", "0.0.0" };

static JsonNode *
make_event (const char *event_type,
            const char *job_id,
            const char *job_type,
            int         generation,
            gint64      created_usec,
            gint64      occurred_usec)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) payload = NULL;
  g_autofree char *created = odd_time_format_rfc3339 (created_usec);
  g_autofree char *occurred = odd_time_format_rfc3339 (occurred_usec);
  g_autofree char *name = g_strdup_printf ("%s/%d/%s/%" G_GINT64_FORMAT, job_id, generation,
                                           event_type, occurred_usec);
  g_autofree char *event_id = odd_uuid_v5 (ODD_EVENT_NAMESPACE, name);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, job_id);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, job_type);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "VALIDATED");
  json_builder_set_member_name (builder, "createdAt");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "generation");
  json_builder_add_int_value (builder, generation);
  json_builder_end_object (builder);
  payload = json_builder_get_root (builder);

  return odd_envelope_new (event_type, event_id, occurred, &producer, NULL, NULL, payload);
}

static void
add_ok (OddAggregates *agg,
        JsonNode      *event)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) owned = event;

  g_assert_true (odd_aggregates_add (agg, json_node_get_object (owned), &error));
  g_assert_no_error (error);
}

static char *
sec_key (gint64 usec)
{
  return g_strdup_printf (ODD_KEY_SEC_PREFIX "%" G_GINT64_FORMAT, usec / G_USEC_PER_SEC);
}

static void
test_submitted (void)
{
  g_autoptr(OddAggregates) agg = odd_aggregates_new (T0 + SEC (1));
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *sec = sec_key (T0);
  g_autofree char *last = NULL;

  add_ok (agg, make_event ("job.validated", id, "render", 0, T0 - MS (5), T0));

  g_assert_cmpuint (odd_aggregates_get_n_events (agg), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_TOTAL, NULL), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_INFLIGHT, NULL), ==, 1);
  g_assert_false (odd_aggregates_has (agg, ODD_KEY_JOBS_COMPLETED, NULL));
  g_assert_false (odd_aggregates_has (agg, ODD_KEY_JOBS_FAILED, NULL));
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:render", "submitted"), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, sec, "submitted"), ==, 1);
  g_assert_cmpint (odd_aggregates_get_expire_at (agg, sec), ==, T0 / G_USEC_PER_SEC + ODD_AGGREGATES_SEC_TTL);
  last = odd_aggregates_dup_last_event_time (agg);
  g_assert_cmpstr (last, ==, "2026-01-02T03:04:05.000Z");
  g_assert_cmpuint (odd_aggregates_get_stats (agg)->submitted, ==, 1);
  g_assert_cmpuint (odd_aggregates_get_stats (agg)->events_by_type[ODD_EVENT_KIND_VALIDATED], ==, 1);
}

static void
test_completed_lifecycle (void)
{
  g_autoptr(OddAggregates) agg = odd_aggregates_new (T0);
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *sec = sec_key (T0 + MS (250));
  const OddAggregatesStats *stats;

  add_ok (agg, make_event ("job.validated", id, "render", 0, T0, T0 + MS (10)));
  add_ok (agg, make_event ("job.executed", id, "render", 0, T0, T0 + MS (100)));
  add_ok (agg, make_event ("job.executed", id, "render", 0, T0, T0 + MS (200)));
  add_ok (agg, make_event ("job.completed", id, "render", 0, T0, T0 + MS (250)));

  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_TOTAL, NULL), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_COMPLETED, NULL), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_INFLIGHT, NULL), ==, 0);
  /* Net zero, but the key was touched: it is written, so batching never changes the key set. */
  g_assert_true (odd_aggregates_has (agg, ODD_KEY_JOBS_INFLIGHT, NULL));
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:render", "attempts"), ==, 2);
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:render", "completed"), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:render", "submitted"), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, sec, "completed"), ==, 1);
  /* 250 ms from createdAt to completion: the bucket [250, 260) ms, nothing elsewhere. */
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_LATENCY, "250000"), ==, 1);
  g_assert_false (odd_aggregates_has (agg, ODD_KEY_LATENCY, "240000"));
  /* And in the second it completed in, for the latency history. */
  g_assert_cmpint (odd_aggregates_get (agg, sec, ODD_LATENCY_HISTOGRAM_SECOND_PREFIX "250000"), ==, 1);
  g_assert_false (odd_aggregates_has (agg, sec, ODD_LATENCY_HISTOGRAM_SECOND_PREFIX "240000"));

  stats = odd_aggregates_get_stats (agg);
  g_assert_cmpuint (stats->completed, ==, 1);
  g_assert_cmpuint (stats->events_by_type[ODD_EVENT_KIND_EXECUTED], ==, 2);
  g_assert_cmpuint (stats->latency_seconds->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (g_array_index (stats->latency_seconds, double, 0), 0.25, 1e-9);
}

static void
test_retry_generation (void)
{
  g_autoptr(OddAggregates) agg = odd_aggregates_new (T0);
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *sec = sec_key (T0);

  add_ok (agg, make_event ("job.validated", id, "mail", 0, T0, T0));
  add_ok (agg, make_event ("job.failed", id, "mail", 0, T0, T0 + MS (100)));

  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_FAILED, NULL), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_INFLIGHT, NULL), ==, 0);
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:mail", "failed"), ==, 1);

  /* The retry generation takes the job out of "failed" and back into flight... */
  add_ok (agg, make_event ("job.validated", id, "mail", 1, T0, T0 + MS (500)));
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_FAILED, NULL), ==, 0);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_INFLIGHT, NULL), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:mail", "failed"), ==, 0);
  /* ...without being submitted again. */
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_TOTAL, NULL), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:mail", "submitted"), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, sec, "submitted"), ==, 1);
  g_assert_cmpuint (odd_aggregates_get_stats (agg)->retried, ==, 1);
  g_assert_cmpuint (odd_aggregates_get_stats (agg)->submitted, ==, 1);

  add_ok (agg, make_event ("job.completed", id, "mail", 1, T0, T0 + SEC (2)));
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_COMPLETED, NULL), ==, 1);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_INFLIGHT, NULL), ==, 0);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_LATENCY, "2000000"), ==, 1);
}

static void
test_latency_buckets (void)
{
  /* occurredAt carries milliseconds; the fields are bucket lower bounds in microseconds. */
  static const struct { gint64 ms; const char *field; } cases[] = {
    { 0, "0" }, { 1, "1000" }, { 7, "7000" }, { 509, "500000" }, { 999, "990000" },
    { 1000, "1000000" }, { 1099, "1000000" }, { 29999, "29000000" }, { 60000, "60000000" },
    { 1000000000, "1000000000000" },
  };
  g_autoptr(OddAggregates) agg = odd_aggregates_new (T0);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *id = odd_uuid_new ();

      add_ok (agg, make_event ("job.completed", id, "t", 0, T0, T0 + MS (cases[i].ms)));
    }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_LATENCY, cases[i].field), >=, 1);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_LATENCY, "1000000"), ==, 2);
  /* Nothing else: 11 latencies in 10 buckets. */
  {
    GArray *ops = odd_aggregates_get_ops (agg);
    guint n_fields = 0;

    for (guint i = 0; i < ops->len; i++)
      n_fields += g_str_equal (g_array_index (ops, OddAggOp, i).key, ODD_KEY_LATENCY);
    g_assert_cmpuint (n_fields, ==, G_N_ELEMENTS (cases) - 1);
  }

  /* A clock behind createdAt never gives a negative latency. */
  {
    g_autofree char *id = odd_uuid_new ();
    add_ok (agg, make_event ("job.completed", id, "t", 0, T0 + SEC (1), T0));
    g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_LATENCY, "0"), ==, 2);
  }
}

static void
test_per_type (void)
{
  g_autoptr(OddAggregates) agg = odd_aggregates_new (T0);

  for (int i = 0; i < 3; i++)
    {
      g_autofree char *a = odd_uuid_new ();
      g_autofree char *b = odd_uuid_new ();

      add_ok (agg, make_event ("job.validated", a, "alpha", 0, T0, T0));
      add_ok (agg, make_event ("job.validated", b, "beta", 0, T0, T0));
      add_ok (agg, make_event ("job.completed", a, "alpha", 0, T0, T0 + MS (3)));
      if (i == 0)
        add_ok (agg, make_event ("job.failed", b, "beta", 0, T0, T0 + MS (3)));
    }

  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:alpha", "submitted"), ==, 3);
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:alpha", "completed"), ==, 3);
  g_assert_false (odd_aggregates_has (agg, "metrics:type:alpha", "failed"));
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:beta", "submitted"), ==, 3);
  g_assert_cmpint (odd_aggregates_get (agg, "metrics:type:beta", "failed"), ==, 1);
  g_assert_false (odd_aggregates_has (agg, "metrics:type:beta", "completed"));
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_TOTAL, NULL), ==, 6);
  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_INFLIGHT, NULL), ==, 2);
}

static void
test_old_seconds_skipped (void)
{
  /* Replayed an hour and more later: the per-second bucket would be dead on arrival. */
  g_autoptr(OddAggregates) agg = odd_aggregates_new (T0 + SEC (ODD_AGGREGATES_SEC_TTL) + 1);
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *old_sec = sec_key (T0);
  g_autofree char *young_sec = sec_key (T0 + SEC (10));
  GArray *ops;

  add_ok (agg, make_event ("job.validated", id, "t", 0, T0, T0));
  add_ok (agg, make_event ("job.completed", id, "t", 0, T0, T0 + SEC (10)));

  g_assert_cmpint (odd_aggregates_get (agg, ODD_KEY_JOBS_TOTAL, NULL), ==, 1);
  g_assert_false (odd_aggregates_has (agg, old_sec, "submitted"));
  g_assert_cmpint (odd_aggregates_get_expire_at (agg, old_sec), ==, 0);
  g_assert_cmpint (odd_aggregates_get (agg, young_sec, "completed"), ==, 1);

  /* Nor a bucket for a clock two hours ahead; the counters still count. */
  {
    g_autoptr(OddAggregates) ahead = odd_aggregates_new (T0);
    g_autofree char *future_sec = sec_key (T0 + SEC (7200));

    add_ok (ahead, make_event ("job.validated", id, "t", 0, T0, T0 + SEC (7200)));
    g_assert_false (odd_aggregates_has (ahead, future_sec, "submitted"));
    g_assert_cmpint (odd_aggregates_get (ahead, ODD_KEY_JOBS_TOTAL, NULL), ==, 1);
  }

  /* Every touched second gets its EXPIREAT, after its increments. */
  ops = odd_aggregates_get_ops (agg);
  {
    gboolean seen_expire = FALSE;

    for (guint i = 0; i < ops->len; i++)
      {
        OddAggOp *op = &g_array_index (ops, OddAggOp, i);

        if (op->kind == ODD_AGG_OP_EXPIREAT)
          {
            g_assert_cmpstr (op->key, ==, young_sec);
            g_assert_cmpint (op->value, ==, (T0 + SEC (10)) / G_USEC_PER_SEC + ODD_AGGREGATES_SEC_TTL);
            seen_expire = TRUE;
          }
        else
          g_assert_false (seen_expire);
      }
    g_assert_true (seen_expire);
  }
}

static void
test_invalid_not_folded (void)
{
  g_autoptr(OddAggregates) agg = odd_aggregates_new (T0);
  g_autofree char *id = odd_uuid_new ();
  g_autoptr(JsonNode) event = make_event ("job.validated", id, "t", 0, T0, T0);
  JsonObject *object = json_node_get_object (event);
  JsonObject *payload = json_object_get_object_member (object, "payload");
  g_autoptr(GError) error = NULL;

  json_object_set_string_member (payload, "generation", "one");
  g_assert_false (odd_aggregates_add (agg, object, &error));
  g_assert_error (error, ODD_AGGREGATES_ERROR, ODD_AGGREGATES_ERROR_INVALID);
  g_clear_error (&error);

  json_object_set_int_member (payload, "generation", 0);
  json_object_set_string_member (object, "occurredAt", "yesterday");
  g_assert_false (odd_aggregates_add (agg, object, &error));
  g_assert_error (error, ODD_AGGREGATES_ERROR, ODD_AGGREGATES_ERROR_INVALID);
  g_clear_error (&error);

  json_object_set_string_member (object, "occurredAt", "2026-01-02T03:04:05Z");
  json_object_set_string_member (object, "eventType", "job.exploded");
  g_assert_false (odd_aggregates_add (agg, object, &error));
  g_assert_error (error, ODD_AGGREGATES_ERROR, ODD_AGGREGATES_ERROR_INVALID);

  g_assert_cmpuint (odd_aggregates_get_n_events (agg), ==, 0);
  g_assert_cmpuint (odd_aggregates_get_ops (agg)->len, ==, 0);
  g_assert_null (odd_aggregates_dup_last_event_time (agg));
}

static void
test_last_event_time_and_created (void)
{
  g_autoptr(OddAggregates) agg = odd_aggregates_new (T0);
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *last = NULL;

  /* Out of order: the newest occurredAt wins, not the last one folded. */
  add_ok (agg, make_event ("job.executed", id, "t", 0, T0, T0 + MS (1500)));
  add_ok (agg, make_event ("job.created", id, "t", 0, T0, T0 + MS (20)));
  last = odd_aggregates_dup_last_event_time (agg);
  g_assert_cmpstr (last, ==, "2026-01-02T03:04:06.500Z");
  /* job.created moves no counter. */
  g_assert_false (odd_aggregates_has (agg, ODD_KEY_JOBS_TOTAL, NULL));
  g_assert_cmpuint (odd_aggregates_get_stats (agg)->events_by_type[ODD_EVENT_KIND_CREATED], ==, 1);
}

static void
test_batching_invariant (void)
{
  /* The same events folded in one batch or one by one give the same sums. */
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(OddAggregates) whole = odd_aggregates_new (T0);
  g_autoptr(GHashTable) sums = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GArray *ops;

  for (int i = 0; i < 20; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      const char *type = i % 3 ? "x" : "y";

      g_ptr_array_add (events, make_event ("job.validated", id, type, 0, T0, T0 + SEC (i)));
      g_ptr_array_add (events, make_event ("job.executed", id, type, 0, T0, T0 + SEC (i) + 1));
      if (i % 4 == 0)
        {
          g_ptr_array_add (events, make_event ("job.failed", id, type, 0, T0, T0 + SEC (i) + 2));
          g_ptr_array_add (events, make_event ("job.validated", id, type, 1, T0, T0 + SEC (i) + 3));
        }
      g_ptr_array_add (events, make_event ("job.completed", id, type, i % 4 == 0, T0, T0 + SEC (i) + MS (40)));
    }

  for (guint i = 0; i < events->len; i++)
    {
      g_autoptr(OddAggregates) one = odd_aggregates_new (T0);
      g_autoptr(GError) error = NULL;

      g_assert_true (odd_aggregates_add (whole, json_node_get_object (events->pdata[i]), &error));
      g_assert_true (odd_aggregates_add (one, json_node_get_object (events->pdata[i]), &error));
      ops = odd_aggregates_get_ops (one);
      for (guint j = 0; j < ops->len; j++)
        {
          OddAggOp *op = &g_array_index (ops, OddAggOp, j);
          char *k = g_strdup_printf ("%d|%s|%s", op->kind, op->key, op->field ? op->field : "");
          gint64 *sum = g_hash_table_lookup (sums, k);

          if (sum == NULL)
            {
              sum = g_new0 (gint64, 1);
              g_hash_table_insert (sums, g_strdup (k), sum);
            }
          if (op->kind == ODD_AGG_OP_EXPIREAT)
            *sum = op->value;
          else
            *sum += op->value;
          g_free (k);
        }
    }

  ops = odd_aggregates_get_ops (whole);
  g_assert_cmpuint (ops->len, ==, g_hash_table_size (sums));
  for (guint j = 0; j < ops->len; j++)
    {
      OddAggOp *op = &g_array_index (ops, OddAggOp, j);
      g_autofree char *k = g_strdup_printf ("%d|%s|%s", op->kind, op->key, op->field ? op->field : "");
      gint64 *sum = g_hash_table_lookup (sums, k);

      g_assert_nonnull (sum);
      g_assert_cmpint (*sum, ==, op->value);
    }
  g_assert_cmpint (odd_aggregates_get (whole, ODD_KEY_JOBS_TOTAL, NULL), ==, 20);
  g_assert_cmpint (odd_aggregates_get (whole, ODD_KEY_JOBS_COMPLETED, NULL), ==, 20);
  g_assert_cmpint (odd_aggregates_get (whole, ODD_KEY_JOBS_FAILED, NULL), ==, 0);
  g_assert_cmpint (odd_aggregates_get (whole, ODD_KEY_JOBS_INFLIGHT, NULL), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/aggregates/submitted", test_submitted);
  g_test_add_func ("/aggregates/completed-lifecycle", test_completed_lifecycle);
  g_test_add_func ("/aggregates/retry-generation", test_retry_generation);
  g_test_add_func ("/aggregates/latency-buckets", test_latency_buckets);
  g_test_add_func ("/aggregates/per-type", test_per_type);
  g_test_add_func ("/aggregates/old-seconds-skipped", test_old_seconds_skipped);
  g_test_add_func ("/aggregates/invalid-not-folded", test_invalid_not_folded);
  g_test_add_func ("/aggregates/last-event-time", test_last_event_time_and_created);
  g_test_add_func ("/aggregates/batching-invariant", test_batching_invariant);

  return g_test_run ();
}
