/* odd-physical-amqp.c: the bare librabbitmq-c limit of this machine's broker
 *
 * What the pipeline's AMQP legs could do at best, with nothing of ours in the way: a
 * publisher with publisher confirms (persistent messages of the size of our job.created
 * envelopes, up to WINDOW unconfirmed) and a consumer with a prefetch and one manual ack per
 * message, each on its own connection. Phases: publish alone, consume alone (the queue the
 * first phase filled), then both at once. One JSON object per phase on stdout.
 *
 *   odd-physical-amqp AMQP_URL [MESSAGES] [WINDOW] [PREFETCH]   (100000, 500, 200)
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-physical-amqp"

#include <glib.h>
#include <string.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#define QUEUE "odd.physical.bench"

/* A job.created envelope as the gateway sends it (contracts/fixtures/golden), 454 bytes. */
static const char body[] =
  "{\"contractVersion\":\"1.0.0\",\"eventType\":\"job.created\",\"eventId\":\"0b8e2a4c-6d1f-4a3b-9e5c-7f8a9b0c1d2e\","
  "\"occurredAt\":\"2026-01-02T03:04:05.700Z\",\"producer\":{\"service\":\"gateway\",\"instanceId\":\"gw-1\","
  "\"version\":\"0.1.0\"},\"correlationId\":\"c0ffee00-1234-4abc-8def-0123456789ab\",\"idempotencyKey\":"
  "\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\",\"payload\":{\"id\":\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\","
  "\"type\":\"report\",\"status\":\"PENDING\",\"createdAt\":\"2026-01-02T03:04:05.678Z\"}}";

static struct amqp_connection_info url_info;

static void
die_on_reply (amqp_rpc_reply_t reply,
              const char      *what)
{
  if (reply.reply_type == AMQP_RESPONSE_NORMAL)
    return;
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
    g_error ("%s: %s", what, amqp_error_string2 (reply.library_error));
  g_error ("%s: broker error (reply type %d, method 0x%08x)", what, reply.reply_type, reply.reply.id);
}

static amqp_connection_state_t
open_connection (void)
{
  amqp_connection_state_t conn = amqp_new_connection ();
  amqp_socket_t *socket = amqp_tcp_socket_new (conn);

  if (amqp_socket_open (socket, url_info.host, url_info.port) != AMQP_STATUS_OK)
    g_error ("cannot connect to %s:%d", url_info.host, url_info.port);
  die_on_reply (amqp_login (conn, url_info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                            url_info.user, url_info.password), "login");
  amqp_channel_open (conn, 1);
  die_on_reply (amqp_get_rpc_reply (conn), "channel.open");
  return conn;
}

static void
close_connection (amqp_connection_state_t conn)
{
  amqp_channel_close (conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close (conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection (conn);
}

typedef struct {
  guint   messages;
  guint   window;
  guint   prefetch;
  double  seconds;    /* result */
  guint64 max_outstanding;
} Run;

/* Publishes @messages persistent messages, never more than @window unconfirmed. */
static gpointer
publish (gpointer data)
{
  Run *run = data;
  amqp_connection_state_t conn = open_connection ();
  amqp_basic_properties_t props = { 0 };
  amqp_bytes_t bytes = { sizeof body - 1, (void *) body };
  guint64 published = 0, confirmed = 0;
  gint64 start;

  amqp_confirm_select (conn, 1);
  die_on_reply (amqp_get_rpc_reply (conn), "confirm.select");

  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.content_type = amqp_cstring_bytes ("application/json");
  props.delivery_mode = 2;

  start = g_get_monotonic_time ();
  while (confirmed < run->messages)
    {
      while (published < run->messages && published - confirmed < run->window)
        {
          if (amqp_basic_publish (conn, 1, amqp_empty_bytes, amqp_cstring_bytes (QUEUE),
                                  0, 0, &props, bytes) != AMQP_STATUS_OK)
            g_error ("basic.publish failed");
          published++;
        }
      run->max_outstanding = MAX (run->max_outstanding, published - confirmed);

      /* The window is full (or everything is sent): wait for confirms. */
      {
        amqp_frame_t frame;

        if (amqp_simple_wait_frame (conn, &frame) != AMQP_STATUS_OK)
          g_error ("waiting for confirms failed");
        if (frame.frame_type != AMQP_FRAME_METHOD)
          continue;
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD)
          {
            amqp_basic_ack_t *ack = frame.payload.method.decoded;

            confirmed = ack->multiple ? MAX (confirmed, ack->delivery_tag) : confirmed + 1;
          }
        else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD)
          g_error ("the broker refused a message (basic.nack)");
        else
          g_error ("unexpected method 0x%08x while publishing", frame.payload.method.id);
      }
    }
  run->seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  close_connection (conn);
  return NULL;
}

/* Consumes @messages with prefetch @prefetch, one basic.ack per message. */
static gpointer
consume (gpointer data)
{
  Run *run = data;
  amqp_connection_state_t conn = open_connection ();
  guint64 received = 0;
  gint64 start = 0;

  amqp_basic_qos (conn, 1, 0, (uint16_t) run->prefetch, 0);
  die_on_reply (amqp_get_rpc_reply (conn), "basic.qos");
  amqp_basic_consume (conn, 1, amqp_cstring_bytes (QUEUE), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  die_on_reply (amqp_get_rpc_reply (conn), "basic.consume");

  while (received < run->messages)
    {
      amqp_envelope_t envelope;
      amqp_rpc_reply_t reply;

      amqp_maybe_release_buffers (conn);
      reply = amqp_consume_message (conn, &envelope, NULL, 0);
      die_on_reply (reply, "consume");
      if (received == 0)
        start = g_get_monotonic_time ();
      if (envelope.message.body.len != sizeof body - 1)
        g_error ("a message of %zu bytes, expected %zu", envelope.message.body.len, sizeof body - 1);
      if (amqp_basic_ack (conn, 1, envelope.delivery_tag, 0) != AMQP_STATUS_OK)
        g_error ("basic.ack failed");
      amqp_destroy_envelope (&envelope);
      received++;
    }
  run->seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  close_connection (conn);
  return NULL;
}

static void
prepare_queue (void)
{
  amqp_connection_state_t conn = open_connection ();

  amqp_queue_declare (conn, 1, amqp_cstring_bytes (QUEUE), 0, 1, 0, 0, amqp_empty_table);
  die_on_reply (amqp_get_rpc_reply (conn), "queue.declare");
  amqp_queue_purge (conn, 1, amqp_cstring_bytes (QUEUE));
  die_on_reply (amqp_get_rpc_reply (conn), "queue.purge");
  close_connection (conn);
}

static void
delete_queue (void)
{
  amqp_connection_state_t conn = open_connection ();

  amqp_queue_delete (conn, 1, amqp_cstring_bytes (QUEUE), 0, 0);
  die_on_reply (amqp_get_rpc_reply (conn), "queue.delete");
  close_connection (conn);
}

static void
report (const char *phase,
        const char *role,
        const Run  *run)
{
  g_print ("{\"phase\":\"%s\",\"role\":\"%s\",\"messages\":%u,\"bytes\":%zu,\"window\":%u,"
           "\"prefetch\":%u,\"seconds\":%.3f,\"perSecond\":%.0f}\n",
           phase, role, run->messages, sizeof body - 1, run->window, run->prefetch,
           run->seconds, run->messages / run->seconds);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *url = NULL;
  guint messages = 100000, window = 500, prefetch = 200;

  if (argc < 2)
    {
      g_printerr ("usage: %s AMQP_URL [MESSAGES] [WINDOW] [PREFETCH]\n", argv[0]);
      return 2;
    }
  url = g_strdup (argv[1]);
  if (argc > 2)
    messages = (guint) g_ascii_strtoull (argv[2], NULL, 10);
  if (argc > 3)
    window = (guint) g_ascii_strtoull (argv[3], NULL, 10);
  if (argc > 4)
    prefetch = (guint) g_ascii_strtoull (argv[4], NULL, 10);
  if (messages == 0 || window == 0 || prefetch == 0 || prefetch > 65535)
    {
      g_printerr ("%s: MESSAGES, WINDOW and PREFETCH must be positive (PREFETCH <= 65535)\n", argv[0]);
      return 2;
    }

  amqp_default_connection_info (&url_info);
  if (amqp_parse_url (url, &url_info) != AMQP_STATUS_OK)
    {
      g_printerr ("%s: not an AMQP URL: %s\n", argv[0], argv[1]);
      return 2;
    }
  /* "amqp://host/" names the empty vhost to librabbitmq; everywhere else it means "/". */
  if (url_info.vhost == NULL || url_info.vhost[0] == '\0')
    url_info.vhost = (char *) "/";

  prepare_queue ();

  /* 1. publish alone: the queue fills up */
  {
    Run run = { .messages = messages, .window = window, .prefetch = prefetch };

    publish (&run);
    report ("publish-alone", "publisher", &run);
  }

  /* 2. consume alone: the queue drains */
  {
    Run run = { .messages = messages, .window = window, .prefetch = prefetch };

    consume (&run);
    report ("consume-alone", "consumer", &run);
  }

  /* 3. both at once, as in the pipeline: the queue stays short */
  {
    Run pub = { .messages = messages, .window = window, .prefetch = prefetch };
    Run con = pub;
    GThread *consumer = g_thread_new ("consumer", consume, &con);
    GThread *publisher = g_thread_new ("publisher", publish, &pub);

    g_thread_join (publisher);
    g_thread_join (consumer);
    report ("together", "publisher", &pub);
    report ("together", "consumer", &con);
  }

  delete_queue ();
  return 0;
}
