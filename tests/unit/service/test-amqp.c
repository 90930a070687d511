#include <string.h>
#include "odd-amqp.h"
#include "odd-amqp-private.h"
#include "odd-ids.h"

static const char *
amqp_url (void)
{
  const char *url = g_getenv ("ODD_TEST_RABBITMQ_URL");

  if (url == NULL || *url == '\0')
    {
      g_test_skip ("ODD_TEST_RABBITMQ_URL is not set");
      return NULL;
    }
  return url;
}

static amqp_connection_state_t
connect_or_die (const char *name)
{
  g_autoptr(GError) error = NULL;
  amqp_connection_state_t conn = odd_amqp_connect (amqp_url (), name, &error);

  g_assert_no_error (error);
  g_assert_nonnull (conn);
  return conn;
}

static void
purge (amqp_connection_state_t conn,
       const char             *queue)
{
  amqp_queue_purge (conn, 1, amqp_cstring_bytes (queue));
  g_assert_true (odd_amqp_check_reply (amqp_get_rpc_reply (conn), "purge", NULL));
}

static void
test_connect_errors (void)
{
  const char *bad[] = {
    "http://127.0.0.1/",
    "amqp://guest:guest@127.0.0.1:1/",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      amqp_connection_state_t conn = odd_amqp_connect (bad[i], "test", &error);

      g_assert_null (conn);
      g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT);
    }
}

static void
test_login_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *wrong_password = NULL;
  g_autofree char *wrong_vhost = NULL;
  amqp_connection_state_t conn;

  if (amqp_url () == NULL)
    return;
  uri = g_uri_parse (amqp_url (), G_URI_FLAGS_NONE, NULL);
  wrong_password = g_strdup_printf ("amqp://guest:wrong@%s:%d/", g_uri_get_host (uri), g_uri_get_port (uri));
  wrong_vhost = g_strdup_printf ("amqp://guest:guest@%s:%d/no-such-vhost-%%2Fx", g_uri_get_host (uri),
                                 g_uri_get_port (uri));

  conn = odd_amqp_connect (wrong_password, "test", &error);
  g_assert_null (conn);
  g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT);
  g_clear_error (&error);

  conn = odd_amqp_connect (wrong_vhost, "test", &error);
  g_assert_null (conn);
  g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT);
  /* the vhost was percent-decoded */
  g_assert_nonnull (strstr (error->message, "vhost \"no-such-vhost-/x\""));
}

static void
test_topology_and_stats (void)
{
  g_autoptr(GError) error = NULL;
  amqp_connection_state_t conn;
  guint messages = 99, consumers = 99;

  if (amqp_url () == NULL)
    return;
  conn = connect_or_die ("odd-test-topology");

  g_assert_true (odd_amqp_declare_topology (conn, 1, &error));
  g_assert_no_error (error);
  g_assert_true (odd_amqp_declare_topology (conn, 1, &error));  /* idempotent */
  g_assert_no_error (error);

  purge (conn, ODD_QUEUE_LIFECYCLE);
  g_assert_true (odd_amqp_queue_stats (conn, 1, ODD_QUEUE_LIFECYCLE, &messages, &consumers, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (messages, ==, 0);
  g_assert_cmpuint (consumers, ==, 0);

  /* a missing queue is an error, and the channel is usable afterwards */
  g_assert_false (odd_amqp_queue_stats (conn, 1, "odd.no.such.queue", &messages, &consumers, &error));
  g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED);
  g_assert_nonnull (strstr (error->message, "404"));
  g_clear_error (&error);
  g_assert_true (odd_amqp_queue_stats (conn, 1, ODD_QUEUE_DEAD, &messages, &consumers, &error));
  g_assert_no_error (error);

  odd_amqp_close (conn);
}

static void
test_confirms (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddAmqpConfirms) confirms = NULL;
  amqp_connection_state_t conn;
  guint messages = 0;
  gint64 start;

  if (amqp_url () == NULL)
    return;
  conn = connect_or_die ("odd-test-confirms");
  g_assert_true (odd_amqp_declare_topology (conn, 1, &error));
  purge (conn, ODD_QUEUE_LIFECYCLE);

  confirms = odd_amqp_confirms_new (conn, 1, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *body = g_strdup_printf ("{\"n\":%d}", i);
      OddAmqpProps props = { id, id, "job.validated" };

      g_assert_true (odd_amqp_confirms_publish (confirms, ODD_EXCHANGE_EVENTS, "job.validated", &props,
                                                body, strlen (body), &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (odd_amqp_confirms_pending (confirms), ==, 1000);
  g_assert_true (odd_amqp_confirms_wait (confirms, 10000, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (odd_amqp_confirms_pending (confirms), ==, 0);
  g_test_message ("1000 confirmed publishes in %.1f ms", (g_get_monotonic_time () - start) / 1000.0);

  g_assert_true (odd_amqp_queue_stats (conn, 1, ODD_QUEUE_LIFECYCLE, &messages, NULL, &error));
  g_assert_cmpuint (messages, ==, 1000);
  purge (conn, ODD_QUEUE_LIFECYCLE);

  /* nothing outstanding: waiting returns at once */
  g_assert_true (odd_amqp_confirms_wait (confirms, 0, &error));

  /* unroutable (no such queue on the default exchange): returned, reported as a failure */
  g_assert_true (odd_amqp_confirms_publish (confirms, "", "odd.no.such.queue", NULL, "{}", 2, &error));
  g_assert_false (odd_amqp_confirms_wait (confirms, 5000, &error));
  g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_NACKED);
  g_assert_nonnull (strstr (error->message, "NO_ROUTE"));
  g_clear_error (&error);

  /* the same channel still works */
  g_assert_true (odd_amqp_confirms_publish (confirms, "", ODD_QUEUE_LIFECYCLE, NULL, "{}", 2, &error));
  g_assert_true (odd_amqp_confirms_wait (confirms, 5000, &error));
  g_assert_no_error (error);
  purge (conn, ODD_QUEUE_LIFECYCLE);

  /* a missing exchange closes the channel: an error, not a hang */
  g_assert_true (odd_amqp_confirms_publish (confirms, "odd.no.such.exchange", "x", NULL, "{}", 2, &error));
  g_assert_false (odd_amqp_confirms_wait (confirms, 5000, &error));
  g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED);
  g_assert_nonnull (strstr (error->message, "404"));
  g_clear_error (&error);
  g_assert_false (odd_amqp_confirms_publish (confirms, "", ODD_QUEUE_LIFECYCLE, NULL, "{}", 2, &error));
  g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED);

  odd_amqp_close (conn);
}

static void
test_consume (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddAmqpConfirms) confirms = NULL;
  amqp_connection_state_t publisher;
  amqp_connection_state_t consumer;
  amqp_envelope_t envelope;
  amqp_rpc_reply_t reply;
  struct timeval timeout = { 5, 0 };
  guint consumers = 0;
  OddAmqpProps props = { "0b8b1f0e-8a7c-4a54-9b6b-4a1f2a3c4d5e", "1b8b1f0e-8a7c-4a54-9b6b-4a1f2a3c4d5e", "dead-letter" };

  if (amqp_url () == NULL)
    return;
  publisher = connect_or_die ("odd-test-publisher");
  consumer = connect_or_die ("odd-test-consumer");
  g_assert_true (odd_amqp_declare_topology (publisher, 1, &error));
  purge (publisher, ODD_QUEUE_DEAD);

  confirms = odd_amqp_confirms_new (publisher, 1, &error);
  g_assert_true (odd_amqp_confirms_publish (confirms, "", ODD_QUEUE_DEAD, &props, "{\"x\":1}", 7, &error));
  g_assert_true (odd_amqp_confirms_wait (confirms, 5000, &error));
  g_assert_no_error (error);

  g_assert_true (odd_amqp_consume (consumer, 1, ODD_QUEUE_DEAD, 10, &error));
  g_assert_no_error (error);
  g_assert_true (odd_amqp_queue_stats (publisher, 1, ODD_QUEUE_DEAD, NULL, &consumers, &error));
  g_assert_cmpuint (consumers, ==, 1);

  reply = amqp_consume_message (consumer, &envelope, &timeout, 0);
  g_assert_true (odd_amqp_check_reply (reply, "consume", &error));
  g_assert_cmpmem (envelope.message.body.bytes, envelope.message.body.len, "{\"x\":1}", 7);
  g_assert_cmpuint (envelope.message.properties.delivery_mode, ==, 2);
  g_assert_cmpmem (envelope.message.properties.content_type.bytes, envelope.message.properties.content_type.len,
                   "application/json", 16);
  g_assert_cmpmem (envelope.message.properties.message_id.bytes, envelope.message.properties.message_id.len,
                   props.message_id, 36);
  g_assert_cmpmem (envelope.message.properties.correlation_id.bytes,
                   envelope.message.properties.correlation_id.len, props.correlation_id, 36);
  g_assert_cmpmem (envelope.message.properties.type.bytes, envelope.message.properties.type.len,
                   "dead-letter", 11);
  g_assert_true (envelope.message.properties._flags & AMQP_BASIC_TIMESTAMP_FLAG);
  g_assert_cmpint (amqp_basic_ack (consumer, 1, envelope.delivery_tag, 0), ==, 0);
  amqp_destroy_envelope (&envelope);

  /* a consume on a missing queue fails cleanly */
  g_assert_false (odd_amqp_consume (consumer, 1, "odd.no.such.queue", 10, &error));
  g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED);

  odd_amqp_close (consumer);
  odd_amqp_close (publisher);
}

/* Publisher */

typedef struct {
  guint ok;
  guint failed;
  guint closed;
  guint full;
  guint nacked;
  guint timeout;
  guint rejected;
  guint done;
} Tally;

static void
on_published (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Tally *tally = user_data;
  g_autoptr(GError) error = NULL;

  if (odd_amqp_publisher_publish_finish (ODD_AMQP_PUBLISHER (source), result, &error))
    tally->ok++;
  else
    {
      tally->failed++;
      if (g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED))
        tally->closed++;
      else if (g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_FULL))
        tally->full++;
      else if (g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_NACKED))
        tally->nacked++;
      else if (g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_TIMEOUT))
        tally->timeout++;
      else if (g_error_matches (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_REJECTED))
        tally->rejected++;
    }
  tally->done++;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
iterate_until (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  /* wakes the blocking iteration now and then to look at the clock */
  guint tick = g_timeout_add (10, tick_cb, NULL);
  gboolean ok = TRUE;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        {
          ok = FALSE;
          break;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
  return ok;
}

static gboolean
is_connected (gpointer data)
{
  return odd_amqp_publisher_is_connected (data);
}

static gboolean
is_disconnected (gpointer data)
{
  return !odd_amqp_publisher_is_connected (data);
}

typedef struct {
  Tally *tally;
  guint  expected;
} Until;

static gboolean
all_done (gpointer data)
{
  Until *u = data;

  return u->tally->done >= u->expected;
}

static gboolean
at_least_one (gpointer data)
{
  return *(guint *) data >= 1;
}

static gboolean
at_least_three (gpointer data)
{
  return *(guint *) data >= 3;
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_publisher_unreachable (void)
{
  /* A back-off of an hour between attempts: stopping must not wait for it (should it, meson's
   * timeout ends the test). */
  g_autoptr(OddAmqpPublisher) publisher = odd_amqp_publisher_new_with_backoff ("amqp://guest:guest@127.0.0.1:1/",
                                                                               "odd-test", 100,
                                                                               3600 * 1000, 3600 * 1000);
  g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
  g_autofree char *reason = NULL;
  Tally tally = { 0 };
  Until until = { &tally, 3 };

  /* Not connected: they fail, rather than wait for a broker. */
  for (int i = 0; i < 3; i++)
    odd_amqp_publisher_publish_async (publisher, "", ODD_QUEUE_JOBS_CREATED, NULL, body, NULL, on_published, &tally);
  g_assert_true (iterate_until (all_done, &until, 60000));
  g_assert_cmpuint (tally.closed, ==, 3);
  g_assert_false (odd_amqp_publisher_is_connected (publisher));
  reason = odd_amqp_publisher_dup_error (publisher);
  g_assert_nonnull (reason);

  /* stopping during the reconnect back-off */
  g_clear_object (&publisher);
}

static void
test_publisher_many (void)
{
  g_autoptr(OddAmqpPublisher) publisher = NULL;
  g_autoptr(GError) error = NULL;
  amqp_connection_state_t conn;
  Tally tally = { 0 };
  Until until = { &tally, 5000 };
  guint notifies = 0;
  guint messages = 0;
  gint64 start;

  if (amqp_url () == NULL)
    return;
  conn = connect_or_die ("odd-test-check");
  g_assert_true (odd_amqp_declare_topology (conn, 1, &error));
  purge (conn, ODD_QUEUE_FAILED_VALIDATION);

  publisher = odd_amqp_publisher_new (amqp_url (), "odd-test-publisher", 10000);
  g_signal_connect (publisher, "notify::connected", G_CALLBACK (count_notify), &notifies);
  g_assert_true (iterate_until (is_connected, publisher, 10000));
  g_assert_null (odd_amqp_publisher_dup_error (publisher));

  start = g_get_monotonic_time ();
  for (int i = 0; i < 5000; i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"n\":%d}", i);
      g_autoptr(GBytes) body = g_bytes_new_take (g_steal_pointer (&text), strlen (text));
      OddAmqpProps props = { NULL, "0b8b1f0e-8a7c-4a54-9b6b-4a1f2a3c4d5e", "test" };

      odd_amqp_publisher_publish_async (publisher, "", ODD_QUEUE_FAILED_VALIDATION, &props, body, NULL,
                                        on_published, &tally);
    }
  g_assert_true (iterate_until (all_done, &until, 30000));
  g_test_message ("5000 confirmed async publishes in %.1f ms", (g_get_monotonic_time () - start) / 1000.0);
  g_assert_cmpuint (tally.ok, ==, 5000);
  g_assert_cmpuint (tally.failed, ==, 0);
  g_assert_cmpuint (notifies, >=, 1);

  g_assert_true (odd_amqp_queue_stats (conn, 1, ODD_QUEUE_FAILED_VALIDATION, &messages, NULL, &error));
  g_assert_cmpuint (messages, ==, 5000);
  purge (conn, ODD_QUEUE_FAILED_VALIDATION);
  odd_amqp_close (conn);
}

static void
test_publisher_full_and_returned (void)
{
  g_autoptr(OddAmqpPublisher) publisher = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
  g_autoptr(GError) error = NULL;
  amqp_connection_state_t conn;
  Tally tally = { 0 };
  Until until = { &tally, 200 };
  Tally returned = { 0 };
  Until until_returned = { &returned, 1 };

  if (amqp_url () == NULL)
    return;
  publisher = odd_amqp_publisher_new (amqp_url (), "odd-test-small", 10);
  g_assert_true (iterate_until (is_connected, publisher, 10000));

  /* 200 at once with a window of 10: the excess fails at once instead of piling up */
  for (int i = 0; i < 200; i++)
    odd_amqp_publisher_publish_async (publisher, "", ODD_QUEUE_DEAD, NULL, body, NULL, on_published, &tally);
  g_assert_true (iterate_until (all_done, &until, 10000));
  g_assert_cmpuint (tally.ok, >=, 10);
  g_assert_cmpuint (tally.full, >, 0);
  g_assert_cmpuint (tally.ok + tally.full, ==, 200);

  /* unroutable: the broker returns it */
  odd_amqp_publisher_publish_async (publisher, "", "odd.no.such.queue", NULL, body, NULL, on_published, &returned);
  g_assert_true (iterate_until (all_done, &until_returned, 10000));
  g_assert_cmpuint (returned.nacked, ==, 1);
  g_assert_true (odd_amqp_publisher_is_connected (publisher));

  conn = connect_or_die ("odd-test-check");
  purge (conn, ODD_QUEUE_DEAD);
  odd_amqp_close (conn);
}

/* A queue at its length limit under `overflow: reject-publish` (what the policy on
 * jobs.created does): the broker nacks, the publish fails with REJECTED, and the publisher
 * says it is being refused until a publish is confirmed again. */
static void
test_publisher_rejected_by_full_queue (void)
{
  g_autoptr(OddAmqpPublisher) publisher = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
  amqp_connection_state_t conn;
  amqp_table_entry_t entries[2];
  amqp_table_t arguments = { 2, entries };
  Tally tally = { 0 };
  Until until = { &tally, 5 };
  Tally after = { 0 };
  Until until_after = { &after, 1 };

  if (amqp_url () == NULL)
    return;
  conn = connect_or_die ("odd-test-bounded");
  entries[0].key = amqp_cstring_bytes ("x-max-length");
  entries[0].value.kind = AMQP_FIELD_KIND_I32;
  entries[0].value.value.i32 = 2;
  entries[1].key = amqp_cstring_bytes ("x-overflow");
  entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[1].value.value.bytes = amqp_cstring_bytes ("reject-publish");
  amqp_queue_delete (conn, 1, amqp_cstring_bytes ("odd-test-bounded"), 0, 0);
  g_assert_true (odd_amqp_check_reply (amqp_get_rpc_reply (conn), "queue.delete", NULL));
  amqp_queue_declare (conn, 1, amqp_cstring_bytes ("odd-test-bounded"), 0, 0, 0, 0, arguments);
  g_assert_true (odd_amqp_check_reply (amqp_get_rpc_reply (conn), "queue.declare", NULL));

  publisher = odd_amqp_publisher_new (amqp_url (), "odd-test-bounded", 100);
  g_assert_true (iterate_until (is_connected, publisher, 10000));
  g_assert_false (odd_amqp_publisher_is_rejecting (publisher, 60 * G_USEC_PER_SEC));

  for (int i = 0; i < 5; i++)
    odd_amqp_publisher_publish_async (publisher, "", "odd-test-bounded", NULL, body, NULL,
                                      on_published, &tally);
  g_assert_true (iterate_until (all_done, &until, 10000));
  g_assert_cmpuint (tally.ok, ==, 2);
  g_assert_cmpuint (tally.rejected, ==, 3);
  g_assert_true (odd_amqp_publisher_is_connected (publisher));
  g_assert_true (odd_amqp_publisher_is_rejecting (publisher, 60 * G_USEC_PER_SEC));
  /* the window is over */
  g_assert_false (odd_amqp_publisher_is_rejecting (publisher, 0));

  /* room again: the next publish is confirmed, and the refusal is over */
  purge (conn, "odd-test-bounded");
  odd_amqp_publisher_publish_async (publisher, "", "odd-test-bounded", NULL, body, NULL,
                                    on_published, &after);
  g_assert_true (iterate_until (all_done, &until_after, 10000));
  g_assert_cmpuint (after.ok, ==, 1);
  g_assert_false (odd_amqp_publisher_is_rejecting (publisher, 60 * G_USEC_PER_SEC));

  amqp_queue_delete (conn, 1, amqp_cstring_bytes ("odd-test-bounded"), 0, 0);
  g_assert_true (odd_amqp_check_reply (amqp_get_rpc_reply (conn), "queue.delete", NULL));
  odd_amqp_close (conn);
}

static void
test_publisher_dropped_while_busy (void)
{
  OddAmqpPublisher *publisher;
  g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
  GWeakRef weak;
  Tally tally = { 0 };
  Until until = { &tally, 100 };
  amqp_connection_state_t conn;
  gpointer alive;

  if (amqp_url () == NULL)
    return;
  publisher = odd_amqp_publisher_new (amqp_url (), "odd-test-dropped", 1000);
  g_weak_ref_init (&weak, publisher);
  g_assert_true (iterate_until (is_connected, publisher, 10000));
  for (int i = 0; i < 100; i++)
    odd_amqp_publisher_publish_async (publisher, "", ODD_QUEUE_DEAD, NULL, body, NULL, on_published, &tally);
  /* the caller lets go at once: the pending publishes still complete, then it goes away */
  g_object_unref (publisher);
  g_assert_true (iterate_until (all_done, &until, 10000));
  g_assert_cmpuint (tally.ok, ==, 100);
  alive = g_weak_ref_get (&weak);
  g_assert_null (alive);
  g_weak_ref_clear (&weak);

  conn = connect_or_die ("odd-test-check");
  purge (conn, ODD_QUEUE_DEAD);
  odd_amqp_close (conn);
}

/* A TCP proxy in front of the broker, to cut the publisher's connection. */
typedef struct {
  GSocketService *service;
  char           *host;
  guint16         upstream_port;
  guint16         port;
  GPtrArray      *streams;
} Proxy;

static void
splice_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_io_stream_splice_finish (result, NULL);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  Proxy *proxy = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) upstream = NULL;

  upstream = g_socket_client_connect_to_host (client, proxy->host, proxy->upstream_port, NULL, NULL);
  if (upstream == NULL)
    return FALSE;
  g_ptr_array_add (proxy->streams, g_object_ref (connection));
  g_ptr_array_add (proxy->streams, g_object_ref (upstream));
  g_io_stream_splice_async (G_IO_STREAM (connection), G_IO_STREAM (upstream),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, NULL, splice_done, NULL);
  return TRUE;
}

static void
proxy_cut (Proxy *proxy)
{
  for (guint i = 0; i < proxy->streams->len; i++)
    g_io_stream_close (g_ptr_array_index (proxy->streams, i), NULL, NULL);
  g_ptr_array_set_size (proxy->streams, 0);
}

static void
test_publisher_reconnect (void)
{
  g_autoptr(OddAmqpPublisher) publisher = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *proxied = NULL;
  Proxy proxy = { 0 };
  Tally tally = { 0 };
  Until until = { &tally, 1 };
  Tally during = { 0 };
  Until until_during = { &during, 1 };
  guint notifies = 0;
  amqp_connection_state_t conn;

  if (amqp_url () == NULL)
    return;
  uri = g_uri_parse (amqp_url (), G_URI_FLAGS_HAS_PASSWORD, &error);
  g_assert_no_error (error);
  proxy.host = g_strdup (g_uri_get_host (uri));
  proxy.upstream_port = g_uri_get_port (uri);
  proxy.streams = g_ptr_array_new_with_free_func (g_object_unref);
  proxy.service = g_socket_service_new ();
  proxy.port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (proxy.service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (proxy.service, "incoming", G_CALLBACK (on_incoming), &proxy);
  g_socket_service_start (proxy.service);
  proxied = g_strdup_printf ("amqp://%s:%s@127.0.0.1:%u%s", g_uri_get_user (uri), g_uri_get_password (uri),
                             proxy.port, g_uri_get_path (uri));

  publisher = odd_amqp_publisher_new (proxied, "odd-test-reconnect", 100);
  g_signal_connect (publisher, "notify::connected", G_CALLBACK (count_notify), &notifies);
  g_assert_true (iterate_until (is_connected, publisher, 10000));
  /* the notification follows on this context */
  g_assert_true (iterate_until (at_least_one, &notifies, 5000));

  proxy_cut (&proxy);
  g_assert_true (iterate_until (is_disconnected, publisher, 5000));
  /* disconnected: a publish fails at once */
  odd_amqp_publisher_publish_async (publisher, "", ODD_QUEUE_DEAD, NULL, body, NULL, on_published, &during);
  if (iterate_until (all_done, &until_during, 2000) && during.ok == 0)
    g_assert_cmpuint (during.closed, ==, 1);

  /* and it comes back by itself */
  g_assert_true (iterate_until (is_connected, publisher, 10000));
  g_assert_true (iterate_until (at_least_three, &notifies, 5000));
  odd_amqp_publisher_publish_async (publisher, "", ODD_QUEUE_DEAD, NULL, body, NULL, on_published, &tally);
  g_assert_true (iterate_until (all_done, &until, 10000));
  g_assert_cmpuint (tally.ok, ==, 1);

  g_clear_object (&publisher);
  g_socket_service_stop (proxy.service);
  proxy_cut (&proxy);
  g_object_unref (proxy.service);
  g_ptr_array_unref (proxy.streams);
  g_free (proxy.host);

  conn = connect_or_die ("odd-test-check");
  purge (conn, ODD_QUEUE_DEAD);
  odd_amqp_close (conn);
}

/* A proxy that can stop reading from the client, like a broker under a resource alarm. */
typedef struct {
  GSocketListener *listener;
  guint16          port;
  char            *host;
  guint16          upstream_port;
  gint             frozen;
  gint             stop;
  GThread         *acceptor;
  GPtrArray       *threads;
  GSocketConnection *client;
  GSocketConnection *upstream;
} Freezer;

typedef struct {
  Freezer  *freezer;
  GSocket  *from;
  GSocket  *to;
  gboolean  client_side;
} Pump;

static gpointer
pump_thread (gpointer data)
{
  Pump *pump = data;
  char buf[16384];

  while (!g_atomic_int_get (&pump->freezer->stop))
    {
      gssize n;

      if (pump->client_side && g_atomic_int_get (&pump->freezer->frozen))
        {
          g_usleep (10000);
          continue;
        }
      if (!g_socket_condition_timed_wait (pump->from, G_IO_IN, 50000, NULL, NULL))
        continue;
      n = g_socket_receive (pump->from, buf, sizeof buf, NULL, NULL);
      if (n <= 0 || g_socket_send (pump->to, buf, n, NULL, NULL) != n)
        break;
    }
  g_free (pump);
  return NULL;
}

static gpointer
acceptor_thread (gpointer data)
{
  Freezer *f = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  Pump *up = g_new0 (Pump, 1);
  Pump *down = g_new0 (Pump, 1);

  f->client = g_socket_listener_accept (f->listener, NULL, NULL, NULL);
  f->upstream = g_socket_client_connect_to_host (client, f->host, f->upstream_port, NULL, NULL);
  g_assert_nonnull (f->client);
  g_assert_nonnull (f->upstream);
  *up = (Pump) { f, g_socket_connection_get_socket (f->client), g_socket_connection_get_socket (f->upstream), TRUE };
  *down = (Pump) { f, g_socket_connection_get_socket (f->upstream), g_socket_connection_get_socket (f->client), FALSE };
  g_ptr_array_add (f->threads, g_thread_new ("pump-up", pump_thread, up));
  g_ptr_array_add (f->threads, g_thread_new ("pump-down", pump_thread, down));
  return NULL;
}

static void
test_publisher_broker_stops_reading (void)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *proxied = NULL;
  g_autofree char *big = g_strnfill (64 * 1024, 'x');
  g_autoptr(GBytes) body = g_bytes_new (big, 64 * 1024);
  OddAmqpPublisher *publisher;
  Freezer f = { 0 };
  Tally tally = { 0 };
  Until until = { &tally, 400 };
  amqp_connection_state_t conn;

  if (amqp_url () == NULL)
    return;
  uri = g_uri_parse (amqp_url (), G_URI_FLAGS_HAS_PASSWORD, &error);
  f.host = g_strdup (g_uri_get_host (uri));
  f.upstream_port = g_uri_get_port (uri);
  f.threads = g_ptr_array_new ();
  f.listener = g_socket_listener_new ();
  f.port = g_socket_listener_add_any_inet_port (f.listener, NULL, &error);
  g_assert_no_error (error);
  f.acceptor = g_thread_new ("acceptor", acceptor_thread, &f);
  proxied = g_strdup_printf ("amqp://%s:%s@127.0.0.1:%u%s", g_uri_get_user (uri), g_uri_get_password (uri),
                             f.port, g_uri_get_path (uri));

  publisher = odd_amqp_publisher_new (proxied, "odd-test-frozen", 400);
  odd_amqp_publisher_set_timeout (publisher, 1500);
  g_assert_true (iterate_until (is_connected, publisher, 10000));
  g_thread_join (f.acceptor);

  /* 400 × 64 KiB = 25 MiB: far more than the socket buffers hold once nobody reads */
  g_atomic_int_set (&f.frozen, 1);
  for (int i = 0; i < 400; i++)
    odd_amqp_publisher_publish_async (publisher, "", ODD_QUEUE_DEAD, NULL, body, NULL, on_published, &tally);
  /* every publish gets its timeout as the answer: the thread is not stuck in a write */
  g_assert_true (iterate_until (all_done, &until, 60000));
  g_assert_cmpuint (tally.timeout, ==, 400);
  g_assert_true (odd_amqp_publisher_is_connected (publisher));

  /* and stopping does not block on the full socket (should it, meson's timeout ends the test) */
  g_object_unref (publisher);

  g_atomic_int_set (&f.stop, 1);
  for (guint i = 0; i < f.threads->len; i++)
    g_thread_join (g_ptr_array_index (f.threads, i));
  g_ptr_array_unref (f.threads);
  g_clear_object (&f.client);
  g_clear_object (&f.upstream);
  g_socket_listener_close (f.listener);
  g_object_unref (f.listener);
  g_free (f.host);

  conn = connect_or_die ("odd-test-check");
  purge (conn, ODD_QUEUE_DEAD);
  odd_amqp_close (conn);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/amqp/connect-errors", test_connect_errors);
  g_test_add_func ("/amqp/login-errors", test_login_errors);
  g_test_add_func ("/amqp/topology-and-stats", test_topology_and_stats);
  g_test_add_func ("/amqp/confirms", test_confirms);
  g_test_add_func ("/amqp/consume", test_consume);
  g_test_add_func ("/amqp/publisher/unreachable", test_publisher_unreachable);
  g_test_add_func ("/amqp/publisher/many", test_publisher_many);
  g_test_add_func ("/amqp/publisher/full-and-returned", test_publisher_full_and_returned);
  g_test_add_func ("/amqp/publisher/rejected-by-full-queue", test_publisher_rejected_by_full_queue);
  g_test_add_func ("/amqp/publisher/reconnect", test_publisher_reconnect);
  g_test_add_func ("/amqp/publisher/dropped-while-busy", test_publisher_dropped_while_busy);
  g_test_add_func ("/amqp/publisher/broker-stops-reading", test_publisher_broker_stops_reading);
  return g_test_run ();
}
