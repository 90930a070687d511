/* odd-physical-amqp.c: the bare librabbitmq-c limit of this machine's broker
 *
 * What the pipeline's AMQP legs could do at best, with nothing of ours in the way: a
 * publisher with publisher confirms (persistent messages of the size of our job.created
 * envelopes, with the gateway's properties, up to WINDOW unconfirmed) and a consumer with a
 * prefetch and one manual ack per message, each on its own connection. One JSON object per
 * phase on stdout; a publisher's object has its confirm latencies (publish to confirm, µs).
 *
 *   odd-physical-amqp AMQP_URL [MESSAGES] [WINDOW] [PREFETCH]   (100000, 500, 200)
 *       publish alone, consume alone (the queue the first phase filled), then both at once
 *   odd-physical-amqp --publish-only --duration S [--window N] [--size BYTES] [--keep-queue] AMQP_URL
 *       publish alone for S seconds (tests/bench/run.sh: the bare limit beside the gateway)
 *   odd-physical-amqp --delete QUEUE AMQP_URL
 *       delete the queue a --keep-queue run left (its cost then falls outside the run)
 *   odd-physical-amqp --peek QUEUE AMQP_URL
 *       the size of one message waiting on QUEUE (taken and requeued, not consumed)
 *
 * The bench queue (--queue, default odd.physical.bench) is declared and purged first and
 * deleted at the end, so the pipeline's queues are never touched (except by --peek).
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-physical-amqp"

#include <glib.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

/* A job.created envelope as the gateway sends it (contracts/fixtures/golden), 454 bytes. */
static const char golden_body[] =
  "{\"contractVersion\":\"1.0.0\",\"eventType\":\"job.created\",\"eventId\":\"0b8e2a4c-6d1f-4a3b-9e5c-7f8a9b0c1d2e\","
  "\"occurredAt\":\"2026-01-02T03:04:05.700Z\",\"producer\":{\"service\":\"gateway\",\"instanceId\":\"gw-1\","
  "\"version\":\"0.1.0\"},\"correlationId\":\"c0ffee00-1234-4abc-8def-0123456789ab\",\"idempotencyKey\":"
  "\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\",\"payload\":{\"id\":\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\","
  "\"type\":\"report\",\"status\":\"PENDING\",\"createdAt\":\"2026-01-02T03:04:05.678Z\"}}";

static struct amqp_connection_info url_info;
static const char *queue_name = "odd.physical.bench";
static amqp_bytes_t body;

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
  guint    messages;   /* 0 with a duration: as many as fit in it */
  double   duration_s;
  guint    window;
  guint    prefetch;
  double   seconds;    /* results */
  guint64  max_outstanding;
  GArray  *confirm_us; /* double: publish to confirm of every message */
} Run;

/* The unconfirmed messages: send time and whether confirmed, slot = tag % window. */
typedef struct {
  gint64   *sent_us;
  gboolean *done;
  guint     window;
  guint64   low;       /* lowest tag not yet confirmed */
} Outstanding;

static void
confirm_tag (Outstanding *out,
             Run         *run,
             guint64      tag,
             gint64       now)
{
  guint slot = (guint) (tag % out->window);
  double us;

  if (tag < out->low || out->done[slot])
    return;
  out->done[slot] = TRUE;
  us = (double) (now - out->sent_us[slot]);
  g_array_append_val (run->confirm_us, us);
}

/* Publishes persistent messages with the gateway's properties, never more than @window
 * unconfirmed: @messages of them, or for @duration_s when that is set. */
static gpointer
publish (gpointer data)
{
  Run *run = data;
  amqp_connection_state_t conn = open_connection ();
  amqp_basic_properties_t props = { 0 };
  Outstanding out = {
    .sent_us = g_new0 (gint64, run->window),
    .done = g_new0 (gboolean, run->window),
    .window = run->window,
    .low = 1,
  };
  guint64 next_tag = 1;
  gboolean sending = TRUE;
  char message_id[37], correlation_id[37];
  gint64 start, stop_at;

  amqp_confirm_select (conn, 1);
  die_on_reply (amqp_get_rpc_reply (conn), "confirm.select");

  /* What odd_amqp_fill_properties() gives a job.created: the same frame sizes. */
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                 AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                 AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_TYPE_FLAG;
  props.content_type = amqp_cstring_bytes ("application/json");
  props.delivery_mode = 2;
  props.type = amqp_cstring_bytes ("job.created");
  g_strlcpy (correlation_id, "c0ffee00-1234-4abc-8def-0123456789ab", sizeof correlation_id);
  props.correlation_id = amqp_cstring_bytes (correlation_id);

  run->confirm_us = g_array_sized_new (FALSE, FALSE, sizeof (double), run->messages ? run->messages : 1 << 16);
  start = g_get_monotonic_time ();
  stop_at = start + (gint64) (run->duration_s * G_USEC_PER_SEC);
  while (sending || out.low < next_tag)
    {
      amqp_frame_t frame;
      gint64 now;

      while (sending && next_tag - out.low < run->window)
        {
          guint slot = (guint) (next_tag % run->window);

          g_snprintf (message_id, sizeof message_id, "00000000-0000-4000-8000-%012" G_GINT64_MODIFIER "x",
                      (gint64) next_tag);
          props.message_id = amqp_cstring_bytes (message_id);
          props.timestamp = (uint64_t) (g_get_real_time () / G_USEC_PER_SEC);
          out.sent_us[slot] = g_get_monotonic_time ();
          out.done[slot] = FALSE;
          if (amqp_basic_publish (conn, 1, amqp_empty_bytes, amqp_cstring_bytes (queue_name),
                                  1 /* mandatory, as the gateway */, 0, &props, body) != AMQP_STATUS_OK)
            g_error ("basic.publish failed");
          next_tag++;
          if (run->messages > 0 && next_tag > run->messages)
            sending = FALSE;
        }
      run->max_outstanding = MAX (run->max_outstanding, next_tag - out.low);

      /* The window is full (or everything is sent): wait for confirms. */
      if (amqp_simple_wait_frame (conn, &frame) != AMQP_STATUS_OK)
        g_error ("waiting for confirms failed");
      now = g_get_monotonic_time ();
      if (run->duration_s > 0 && now >= stop_at)
        sending = FALSE;
      if (frame.frame_type != AMQP_FRAME_METHOD)
        continue;
      if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD)
        {
          amqp_basic_ack_t *ack = frame.payload.method.decoded;

          if (ack->multiple)
            for (guint64 tag = out.low; tag <= ack->delivery_tag; tag++)
              confirm_tag (&out, run, tag, now);
          else
            confirm_tag (&out, run, ack->delivery_tag, now);
          while (out.low < next_tag && out.done[out.low % run->window])
            out.low++;
        }
      else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD)
        g_error ("the broker refused a message (basic.nack)");
      else if (frame.payload.method.id == AMQP_BASIC_RETURN_METHOD)
        g_error ("the broker returned a message: no queue %s", queue_name);
      else
        g_error ("unexpected method 0x%08x while publishing", frame.payload.method.id);
    }
  run->seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  run->messages = (guint) (next_tag - 1);

  g_free (out.sent_us);
  g_free (out.done);
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
  amqp_basic_consume (conn, 1, amqp_cstring_bytes (queue_name), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
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
      if (envelope.message.body.len != body.len)
        g_error ("a message of %zu bytes, expected %zu", envelope.message.body.len, body.len);
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

  amqp_queue_declare (conn, 1, amqp_cstring_bytes (queue_name), 0, 1, 0, 0, amqp_empty_table);
  die_on_reply (amqp_get_rpc_reply (conn), "queue.declare");
  amqp_queue_purge (conn, 1, amqp_cstring_bytes (queue_name));
  die_on_reply (amqp_get_rpc_reply (conn), "queue.purge");
  close_connection (conn);
}

static void
delete_queue (const char *queue)
{
  amqp_connection_state_t conn = open_connection ();

  amqp_queue_delete (conn, 1, amqp_cstring_bytes (queue), 0, 0);
  die_on_reply (amqp_get_rpc_reply (conn), "queue.delete");
  close_connection (conn);
}

/* The body size of one message ready on @queue: basic.get, then basic.reject with requeue,
 * so the message goes back to the head of the queue for its consumer. */
static int
peek (const char *queue)
{
  amqp_connection_state_t conn = open_connection ();
  amqp_rpc_reply_t reply = amqp_basic_get (conn, 1, amqp_cstring_bytes (queue), 0 /* no_ack */);
  amqp_basic_get_ok_t *ok;
  amqp_message_t message;

  die_on_reply (reply, "basic.get");
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
    {
      g_printerr ("odd-physical-amqp: no message ready on %s\n", queue);
      close_connection (conn);
      return 1;
    }
  ok = reply.reply.decoded;
  die_on_reply (amqp_read_message (conn, 1, &message, 0), "reading the message");
  if (amqp_basic_reject (conn, 1, ok->delivery_tag, 1 /* requeue */) != AMQP_STATUS_OK)
    g_error ("basic.reject failed");
  g_print ("{\"queue\":\"%s\",\"bytes\":%zu}\n", queue, message.body.len);
  amqp_destroy_message (&message);
  close_connection (conn);
  return 0;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* Nearest rank, as odd-bench */
static double
percentile (GArray *sorted,
            double  p)
{
  guint idx;

  if (sorted->len == 0)
    return NAN;
  idx = (guint) ceil (p / 100.0 * sorted->len);
  idx = CLAMP (idx, 1, sorted->len) - 1;
  return g_array_index (sorted, double, idx);
}

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static void
report (const char *phase,
        const char *role,
        Run        *run,
        double      cpu_s)
{
  g_autoptr(GString) line = g_string_new (NULL);

  g_string_append_printf (line, "{\"phase\":\"%s\",\"role\":\"%s\",\"messages\":%u,\"bytes\":%zu,"
                          "\"window\":%u,\"prefetch\":%u,\"seconds\":%.3f,\"perSecond\":%.0f",
                          phase, role, run->messages, body.len, run->window, run->prefetch,
                          run->seconds, run->messages / run->seconds);
  if (run->confirm_us != NULL && run->confirm_us->len > 0)
    {
      GArray *c = run->confirm_us;

      g_array_sort (c, compare_double);
      g_string_append_printf (line, ",\"maxOutstanding\":%" G_GUINT64_FORMAT ",\"confirmMs\":{\"count\":%u,"
                              "\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
                              run->max_outstanding, c->len, percentile (c, 50) / 1000,
                              percentile (c, 95) / 1000, percentile (c, 99) / 1000,
                              g_array_index (c, double, c->len - 1) / 1000);
    }
  if (cpu_s >= 0)
    g_string_append_printf (line, ",\"clientCpuS\":%.3f", cpu_s);
  g_string_append (line, "}\n");
  g_print ("%s", line->str);
  g_clear_pointer (&run->confirm_us, g_array_unref);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *padded = NULL;
  g_autofree char *peek_queue = NULL;
  g_autofree char *queue_opt = NULL;
  g_autofree char *delete_opt = NULL;
  gboolean publish_only = FALSE, keep_queue = FALSE;
  double duration = 0;
  int messages = 100000, window = 500, prefetch = 200, size = 0;
  GOptionEntry entries[] = {
    { "publish-only", 0, 0, G_OPTION_ARG_NONE, &publish_only, "only the publish-alone phase", NULL },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "publish for S seconds instead of MESSAGES", "S" },
    { "window", 'w', 0, G_OPTION_ARG_INT, &window, "unconfirmed messages at most (500)", "N" },
    { "size", 's', 0, G_OPTION_ARG_INT, &size, "message body size (454, a golden job.created)", "BYTES" },
    { "queue", 'q', 0, G_OPTION_ARG_STRING, &queue_opt, "the bench queue (odd.physical.bench)", "NAME" },
    { "keep-queue", 0, 0, G_OPTION_ARG_NONE, &keep_queue, "do not delete the bench queue at the end", NULL },
    { "delete", 0, 0, G_OPTION_ARG_STRING, &delete_opt, "delete QUEUE and exit", "QUEUE" },
    { "peek", 0, 0, G_OPTION_ARG_STRING, &peek_queue, "print the size of one message ready on QUEUE (requeued)", "QUEUE" },
    { NULL }
  };

  ctx = g_option_context_new ("AMQP_URL [MESSAGES] [WINDOW] [PREFETCH] - the broker's bare limits");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("odd-physical-amqp: %s\n", error->message);
      return 2;
    }
  if (argc < 2 || argc > 5)
    {
      g_printerr ("usage: odd-physical-amqp [OPTION…] AMQP_URL [MESSAGES] [WINDOW] [PREFETCH] (see --help)\n");
      return 2;
    }
  url = g_strdup (argv[1]);
  if (argc > 2)
    messages = (int) g_ascii_strtoll (argv[2], NULL, 10);
  if (argc > 3)
    window = (int) g_ascii_strtoll (argv[3], NULL, 10);
  if (argc > 4)
    prefetch = (int) g_ascii_strtoll (argv[4], NULL, 10);
  if (messages <= 0 || window <= 0 || prefetch <= 0 || prefetch > 65535 || duration < 0 ||
      size < 0 || size > 1 << 20)
    {
      g_printerr ("odd-physical-amqp: MESSAGES, WINDOW and PREFETCH must be positive (PREFETCH <= 65535), "
                  "--duration and --size not negative (--size <= 1 MiB)\n");
      return 2;
    }
  if (queue_opt != NULL)
    queue_name = queue_opt;

  amqp_default_connection_info (&url_info);
  if (amqp_parse_url (url, &url_info) != AMQP_STATUS_OK)
    {
      g_printerr ("odd-physical-amqp: not an AMQP URL: %s\n", argv[1]);
      return 2;
    }
  /* "amqp://host/" names the empty vhost to librabbitmq; everywhere else it means "/". */
  if (url_info.vhost == NULL || url_info.vhost[0] == '\0')
    url_info.vhost = (char *) "/";

  if (peek_queue != NULL)
    return peek (peek_queue);
  if (delete_opt != NULL)
    {
      delete_queue (delete_opt);
      return 0;
    }

  /* Another size: the golden envelope cut, or followed by blanks (still valid JSON). Nobody
   * parses these messages; only their size matters to the broker. */
  if (size > 0)
    {
      padded = g_malloc (size);
      memset (padded, ' ', size);
      memcpy (padded, golden_body, MIN ((gsize) size, sizeof golden_body - 1));
      body = (amqp_bytes_t) { (gsize) size, padded };
    }
  else
    body = (amqp_bytes_t) { sizeof golden_body - 1, (void *) golden_body };

  prepare_queue ();

  /* 1. publish alone: the queue fills up */
  {
    Run run = { .messages = duration > 0 ? 0 : (guint) messages, .duration_s = duration,
                .window = (guint) window, .prefetch = (guint) prefetch };
    double cpu = cpu_seconds ();

    publish (&run);
    report ("publish-alone", "publisher", &run, cpu_seconds () - cpu);
    messages = (int) run.messages;
  }

  if (!publish_only)
    {
      /* 2. consume alone: the queue drains */
      {
        Run run = { .messages = (guint) messages, .window = (guint) window, .prefetch = (guint) prefetch };

        consume (&run);
        report ("consume-alone", "consumer", &run, -1);
      }

      /* 3. both at once, as in the pipeline: the queue stays short */
      {
        Run pub = { .messages = (guint) messages, .window = (guint) window, .prefetch = (guint) prefetch };
        Run con = pub;
        GThread *consumer = g_thread_new ("consumer", consume, &con);
        GThread *publisher = g_thread_new ("publisher", publish, &pub);

        g_thread_join (publisher);
        g_thread_join (consumer);
        report ("together", "publisher", &pub, -1);
        report ("together", "consumer", &con, -1);
      }
    }

  if (!keep_queue)
    delete_queue (queue_name);
  return 0;
}
