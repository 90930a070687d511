#include <string.h>
#include "odd-amqp.h"
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
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      amqp_connection_state_t conn = odd_amqp_connect (bad[i], "test", &error);

      g_assert_null (conn);
      g_assert_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT);
    }
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/amqp/connect-errors", test_connect_errors);
  g_test_add_func ("/amqp/login-errors", test_login_errors);
  g_test_add_func ("/amqp/topology-and-stats", test_topology_and_stats);
  g_test_add_func ("/amqp/confirms", test_confirms);
  g_test_add_func ("/amqp/consume", test_consume);
  return g_test_run ();
}
