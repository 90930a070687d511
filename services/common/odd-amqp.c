#define G_LOG_DOMAIN "odd-amqp"

#include "odd-amqp.h"

#include <poll.h>
#include <string.h>
#include <sys/time.h>

#include "odd-amqp-private.h"

G_DEFINE_QUARK (odd-amqp-error-quark, odd_amqp_error)

#define CONNECT_TIMEOUT_SEC 5
#define RPC_TIMEOUT_SEC     10
#define HEARTBEAT_SEC       30

static char *
bytes_to_string (amqp_bytes_t bytes)
{
  return g_strndup (bytes.bytes, bytes.len);
}

/* An error code for a librabbitmq status: the caller decides whether to reconnect. */
static int
status_code (int status)
{
  switch (status)
    {
    case AMQP_STATUS_TIMEOUT:
      return ODD_AMQP_ERROR_TIMEOUT;
    case AMQP_STATUS_CONNECTION_CLOSED:
    case AMQP_STATUS_SOCKET_ERROR:
    case AMQP_STATUS_SOCKET_CLOSED:
    case AMQP_STATUS_HEARTBEAT_TIMEOUT:
    case AMQP_STATUS_TCP_ERROR:
    case AMQP_STATUS_SSL_ERROR:
      return ODD_AMQP_ERROR_CLOSED;
    default:
      return ODD_AMQP_ERROR_PROTOCOL;
    }
}

void
odd_amqp_set_status_error (GError     **error,
                           int          status,
                           const char  *context)
{
  g_set_error (error, ODD_AMQP_ERROR, status_code (status), "%s: %s",
               context, amqp_error_string2 (status));
}

gboolean
odd_amqp_check_reply (amqp_rpc_reply_t   reply,
                      const char        *context,
                      GError           **error)
{
  switch (reply.reply_type)
    {
    case AMQP_RESPONSE_NORMAL:
      return TRUE;

    case AMQP_RESPONSE_NONE:
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_PROTOCOL, "%s: missing RPC reply", context);
      return FALSE;

    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      odd_amqp_set_status_error (error, reply.library_error, context);
      return FALSE;

    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
        {
          amqp_connection_close_t *close = reply.reply.decoded;
          g_autofree char *text = bytes_to_string (close->reply_text);

          g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                       "%s: the broker closed the connection: %u %s", context, close->reply_code, text);
        }
      else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
        {
          amqp_channel_close_t *close = reply.reply.decoded;
          g_autofree char *text = bytes_to_string (close->reply_text);

          g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                       "%s: the broker closed the channel: %u %s", context, close->reply_code, text);
        }
      else
        g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_PROTOCOL,
                     "%s: unexpected server method 0x%08x", context, reply.reply.id);
      return FALSE;

    default:
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_PROTOCOL, "%s: unknown reply type", context);
      return FALSE;
    }
}

/* After the broker closed channel @channel (404 on a passive declare, 406 on a declare with
 * other arguments) answer close-ok and reopen it, so the connection stays usable. */
static void
recover_channel (amqp_connection_state_t conn,
                 amqp_channel_t          channel,
                 amqp_rpc_reply_t        reply)
{
  amqp_channel_close_ok_t close_ok = { 0 };

  if (reply.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || reply.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
    return;
  if (amqp_send_method (conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok) != AMQP_STATUS_OK)
    return;
  amqp_channel_open (conn, channel);
  amqp_get_rpc_reply (conn);
}

static gboolean
check_and_recover (amqp_connection_state_t   conn,
                   amqp_channel_t            channel,
                   const char               *context,
                   GError                  **error)
{
  amqp_rpc_reply_t reply = amqp_get_rpc_reply (conn);

  if (odd_amqp_check_reply (reply, context, error))
    return TRUE;
  recover_channel (conn, channel, reply);
  return FALSE;
}

amqp_connection_state_t
odd_amqp_connect (const char  *url,
                  const char  *connection_name,
                  GError     **error)
{
  struct amqp_connection_info info;
  g_autofree char *buf = NULL;
  amqp_connection_state_t conn;
  amqp_socket_t *socket;
  struct timeval connect_timeout = { CONNECT_TIMEOUT_SEC, 0 };
  struct timeval rpc_timeout = { RPC_TIMEOUT_SEC, 0 };
  amqp_table_entry_t entries[1];
  amqp_table_t properties;
  const char *vhost;
  int status;

  g_return_val_if_fail (url != NULL, NULL);

  /* amqp_parse_url points into (and percent-decodes in place) its argument. */
  buf = g_strdup (url);
  amqp_default_connection_info (&info);
  status = amqp_parse_url (buf, &info);
  if (status != AMQP_STATUS_OK)
    {
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT,
                   "Invalid RabbitMQ URL: %s", amqp_error_string2 (status));
      return NULL;
    }
  if (info.ssl)
    {
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT,
                   "Invalid RabbitMQ URL: amqps is not supported");
      return NULL;
    }
  /* "amqp://host/" names the empty vhost by the letter of the spec, but every client in
   * practice (and the default URL here) means the default vhost "/". */
  vhost = info.vhost != NULL && *info.vhost != '\0' ? info.vhost : "/";

  conn = amqp_new_connection ();
  socket = amqp_tcp_socket_new (conn);
  if (socket == NULL)
    {
      amqp_destroy_connection (conn);
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT, "Cannot create a socket");
      return NULL;
    }

  status = amqp_socket_open_noblock (socket, info.host, info.port, &connect_timeout);
  if (status != AMQP_STATUS_OK)
    {
      amqp_destroy_connection (conn);
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT,
                   "Cannot connect to RabbitMQ at %s:%d: %s", info.host, info.port,
                   amqp_error_string2 (status));
      return NULL;
    }

  /* Bound the handshake and every RPC: a broker that accepts TCP but never answers gives
   * an error, not a hang. */
  amqp_set_handshake_timeout (conn, &rpc_timeout);
  amqp_set_rpc_timeout (conn, &rpc_timeout);

  entries[0].key = amqp_cstring_bytes ("connection_name");
  entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[0].value.value.bytes = amqp_cstring_bytes (connection_name != NULL ? connection_name : "odd");
  properties.num_entries = 1;
  properties.entries = entries;

  {
    amqp_rpc_reply_t reply = amqp_login_with_properties (conn, vhost, 0, AMQP_DEFAULT_FRAME_SIZE,
                                                         HEARTBEAT_SEC, &properties,
                                                         AMQP_SASL_METHOD_PLAIN, info.user, info.password);
    g_autoptr(GError) local_error = NULL;

    if (!odd_amqp_check_reply (reply, "Login", &local_error))
      {
        amqp_destroy_connection (conn);
        g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT,
                     "Cannot log in to RabbitMQ at %s:%d vhost \"%s\" as \"%s\": %s",
                     info.host, info.port, vhost, info.user, local_error->message);
        return NULL;
      }
  }

  amqp_channel_open (conn, 1);
  {
    g_autoptr(GError) local_error = NULL;

    if (!odd_amqp_check_reply (amqp_get_rpc_reply (conn), "Opening channel 1", &local_error))
      {
        amqp_connection_close (conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection (conn);
        g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CONNECT, "%s", local_error->message);
        return NULL;
      }
  }

  return conn;
}

void
odd_amqp_close (amqp_connection_state_t conn)
{
  if (conn == NULL)
    return;
  /* Polite close when the socket still works (bounded by the RPC timeout), then free. */
  if (amqp_get_socket (conn) != NULL && amqp_get_sockfd (conn) >= 0)
    amqp_connection_close (conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection (conn);
}

gboolean
odd_amqp_declare_topology (amqp_connection_state_t   conn,
                           amqp_channel_t            channel,
                           GError                  **error)
{
  static const char *const queues[] = {
    ODD_QUEUE_JOBS_CREATED, ODD_QUEUE_LIFECYCLE, ODD_QUEUE_FAILED_VALIDATION, ODD_QUEUE_DEAD,
  };

  g_return_val_if_fail (conn != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (queues); i++)
    {
      g_autofree char *context = g_strdup_printf ("Declaring queue %s", queues[i]);

      amqp_queue_declare (conn, channel, amqp_cstring_bytes (queues[i]),
                          0 /* passive */, 1 /* durable */, 0 /* exclusive */, 0 /* auto delete */,
                          amqp_empty_table);
      if (!check_and_recover (conn, channel, context, error))
        return FALSE;
    }

  amqp_exchange_declare (conn, channel, amqp_cstring_bytes (ODD_EXCHANGE_EVENTS),
                         amqp_cstring_bytes ("topic"), 0 /* passive */, 1 /* durable */,
                         0 /* auto delete */, 0 /* internal */, amqp_empty_table);
  if (!check_and_recover (conn, channel, "Declaring exchange " ODD_EXCHANGE_EVENTS, error))
    return FALSE;

  amqp_queue_bind (conn, channel, amqp_cstring_bytes (ODD_QUEUE_LIFECYCLE),
                   amqp_cstring_bytes (ODD_EXCHANGE_EVENTS), amqp_cstring_bytes ("job.#"),
                   amqp_empty_table);
  if (!check_and_recover (conn, channel, "Binding " ODD_QUEUE_LIFECYCLE, error))
    return FALSE;

  return TRUE;
}

gboolean
odd_amqp_queue_stats (amqp_connection_state_t   conn,
                      amqp_channel_t            channel,
                      const char               *queue,
                      guint                    *messages,
                      guint                    *consumers,
                      GError                  **error)
{
  amqp_queue_declare_ok_t *ok;
  g_autofree char *context = NULL;

  g_return_val_if_fail (conn != NULL, FALSE);
  g_return_val_if_fail (queue != NULL, FALSE);

  context = g_strdup_printf ("Inspecting queue %s", queue);
  ok = amqp_queue_declare (conn, channel, amqp_cstring_bytes (queue),
                           1 /* passive: never creates it */, 0, 0, 0, amqp_empty_table);
  if (ok == NULL)
    {
      check_and_recover (conn, channel, context, error);
      return FALSE;
    }
  if (messages != NULL)
    *messages = ok->message_count;
  if (consumers != NULL)
    *consumers = ok->consumer_count;
  return TRUE;
}

gboolean
odd_amqp_consume (amqp_connection_state_t   conn,
                  amqp_channel_t            channel,
                  const char               *queue,
                  guint16                   prefetch,
                  GError                  **error)
{
  g_autofree char *context = NULL;

  g_return_val_if_fail (conn != NULL, FALSE);
  g_return_val_if_fail (queue != NULL, FALSE);

  amqp_basic_qos (conn, channel, 0, prefetch, 0);
  if (!check_and_recover (conn, channel, "Setting prefetch", error))
    return FALSE;

  context = g_strdup_printf ("Consuming %s", queue);
  amqp_basic_consume (conn, channel, amqp_cstring_bytes (queue), amqp_empty_bytes,
                      0 /* no local */, 0 /* manual acks */, 0 /* exclusive */, amqp_empty_table);
  return check_and_recover (conn, channel, context, error);
}

/* Properties every publish carries (docs/architecture.md). */
void
odd_amqp_fill_properties (amqp_basic_properties_t *out,
                          const OddAmqpProps      *props)
{
  memset (out, 0, sizeof *out);
  out->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
  out->content_type = amqp_cstring_bytes ("application/json");
  out->delivery_mode = 2;  /* persistent */
  out->timestamp = (uint64_t) (g_get_real_time () / G_USEC_PER_SEC);
  if (props != NULL && props->message_id != NULL)
    {
      out->_flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
      out->message_id = amqp_cstring_bytes (props->message_id);
    }
  if (props != NULL && props->correlation_id != NULL)
    {
      out->_flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
      out->correlation_id = amqp_cstring_bytes (props->correlation_id);
    }
  if (props != NULL && props->type != NULL)
    {
      out->_flags |= AMQP_BASIC_TYPE_FLAG;
      out->type = amqp_cstring_bytes (props->type);
    }
}

/* Confirms */

struct _OddAmqpConfirms {
  amqp_connection_state_t  conn;
  amqp_channel_t           channel;
  guint64                  next_tag;     /* tag of the next publish */
  guint64                  lowest;       /* no tag below this is outstanding */
  GHashTable              *outstanding;  /* tags (as pointers) awaiting their confirm */
  GError                  *failure;      /* first nack/return since the last wait */
  gboolean                 closed;
};

OddAmqpConfirms *
odd_amqp_confirms_new (amqp_connection_state_t   conn,
                       amqp_channel_t            channel,
                       GError                  **error)
{
  OddAmqpConfirms *self;

  g_return_val_if_fail (conn != NULL, NULL);

  amqp_confirm_select (conn, channel);
  if (!odd_amqp_check_reply (amqp_get_rpc_reply (conn), "Enabling publisher confirms", error))
    return NULL;

  self = g_new0 (OddAmqpConfirms, 1);
  self->conn = conn;
  self->channel = channel;
  self->next_tag = 1;
  self->lowest = 1;
  self->outstanding = g_hash_table_new (g_direct_hash, g_direct_equal);
  return self;
}

void
odd_amqp_confirms_free (OddAmqpConfirms *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->outstanding);
  g_clear_error (&self->failure);
  g_free (self);
}

guint
odd_amqp_confirms_pending (OddAmqpConfirms *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->outstanding);
}

gboolean
odd_amqp_confirms_publish (OddAmqpConfirms     *self,
                           const char          *exchange,
                           const char          *routing_key,
                           const OddAmqpProps  *props,
                           const void          *body,
                           gsize                len,
                           GError             **error)
{
  amqp_basic_properties_t properties;
  amqp_bytes_t body_bytes = { len, (void *) body };
  int status;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (routing_key != NULL, FALSE);

  if (self->closed)
    {
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED, "The channel is closed");
      return FALSE;
    }

  /* librabbitmq would wait without limit on a socket the broker stopped reading (resource
   * alarm); give up after the RPC timeout instead, so the caller can react. */
  {
    struct pollfd writable = { amqp_get_sockfd (self->conn), POLLOUT, 0 };

    if (poll (&writable, 1, RPC_TIMEOUT_SEC * 1000) == 0)
      {
        self->closed = TRUE;
        g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_TIMEOUT,
                     "RabbitMQ stopped reading for %d s (resource alarm?)", RPC_TIMEOUT_SEC);
        return FALSE;
      }
  }

  odd_amqp_fill_properties (&properties, props);
  /* mandatory: an unroutable message comes back (basic.return) instead of vanishing. */
  status = amqp_basic_publish (self->conn, self->channel,
                               amqp_cstring_bytes (exchange != NULL ? exchange : ""),
                               amqp_cstring_bytes (routing_key), 1, 0, &properties, body_bytes);
  if (status != AMQP_STATUS_OK)
    {
      self->closed = TRUE;
      odd_amqp_set_status_error (error, status, "Publishing");
      return FALSE;
    }

  g_hash_table_add (self->outstanding, GSIZE_TO_POINTER ((gsize) self->next_tag));
  self->next_tag++;
  return TRUE;
}

static void
settle (OddAmqpConfirms *self,
        guint64          tag,
        gboolean         multiple,
        gboolean         nacked)
{
  guint64 n = 0;

  if (multiple)
    {
      for (guint64 t = self->lowest; t <= tag; t++)
        if (g_hash_table_remove (self->outstanding, GSIZE_TO_POINTER ((gsize) t)))
          n++;
      if (tag + 1 > self->lowest)
        self->lowest = tag + 1;
    }
  else if (g_hash_table_remove (self->outstanding, GSIZE_TO_POINTER ((gsize) tag)))
    n = 1;

  if (nacked && n > 0 && self->failure == NULL)
    g_set_error (&self->failure, ODD_AMQP_ERROR, ODD_AMQP_ERROR_NACKED,
                 "The broker refused %" G_GUINT64_FORMAT " message(s)", n);
}

gboolean
odd_amqp_handle_close_frame (amqp_connection_state_t   conn,
                             amqp_frame_t             *frame,
                             GError                  **error)
{
  if (frame->frame_type != AMQP_FRAME_METHOD)
    return FALSE;

  if (frame->payload.method.id == AMQP_CHANNEL_CLOSE_METHOD)
    {
      amqp_channel_close_t *close = frame->payload.method.decoded;
      amqp_channel_close_ok_t close_ok = { 0 };
      g_autofree char *text = bytes_to_string (close->reply_text);

      amqp_send_method (conn, frame->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                   "The broker closed channel %u: %u %s", frame->channel, close->reply_code, text);
      return TRUE;
    }
  if (frame->payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)
    {
      amqp_connection_close_t *close = frame->payload.method.decoded;
      amqp_connection_close_ok_t close_ok = { 0 };
      g_autofree char *text = bytes_to_string (close->reply_text);

      amqp_send_method (conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
      g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                   "The broker closed the connection: %u %s", close->reply_code, text);
      return TRUE;
    }
  return FALSE;
}

char *
odd_amqp_read_return (amqp_connection_state_t  conn,
                      amqp_frame_t            *frame,
                      char                   **message_id)
{
  amqp_basic_return_t *ret = frame->payload.method.decoded;
  g_autofree char *exchange = bytes_to_string (ret->exchange);
  g_autofree char *routing_key = bytes_to_string (ret->routing_key);
  g_autofree char *text = bytes_to_string (ret->reply_text);
  char *description;
  amqp_message_t message;
  amqp_rpc_reply_t reply;

  description = g_strdup_printf ("Message to exchange \"%s\" with routing key \"%s\" was returned: %u %s",
                                 exchange, routing_key, ret->reply_code, text);

  /* The returned content (header and body frames) follows; read it so it is not mistaken
   * for the next method. */
  reply = amqp_read_message (conn, frame->channel, &message, 0);
  if (message_id != NULL)
    *message_id = NULL;
  if (reply.reply_type == AMQP_RESPONSE_NORMAL)
    {
      if (message_id != NULL && (message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG))
        *message_id = bytes_to_string (message.properties.message_id);
      amqp_destroy_message (&message);
    }
  return description;
}

gboolean
odd_amqp_confirms_wait (OddAmqpConfirms  *self,
                        guint             timeout_ms,
                        GError          **error)
{
  gint64 deadline;

  g_return_val_if_fail (self != NULL, FALSE);

  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_hash_table_size (self->outstanding) > 0)
    {
      amqp_frame_t frame;
      gint64 remaining = deadline - g_get_monotonic_time ();
      struct timeval tv;
      int status;

      if (self->closed)
        {
          g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                       "The channel closed with %u publish(es) unconfirmed",
                       g_hash_table_size (self->outstanding));
          return FALSE;
        }
      if (remaining <= 0)
        {
          g_set_error (error, ODD_AMQP_ERROR, ODD_AMQP_ERROR_TIMEOUT,
                       "%u publish(es) not confirmed within %u ms",
                       g_hash_table_size (self->outstanding), timeout_ms);
          return FALSE;
        }
      tv.tv_sec = remaining / G_USEC_PER_SEC;
      tv.tv_usec = remaining % G_USEC_PER_SEC;

      status = amqp_simple_wait_frame_noblock (self->conn, &frame, &tv);
      if (status == AMQP_STATUS_TIMEOUT)
        continue;
      if (status != AMQP_STATUS_OK)
        {
          self->closed = TRUE;
          odd_amqp_set_status_error (error, status, "Waiting for publisher confirms");
          return FALSE;
        }

      if (odd_amqp_handle_close_frame (self->conn, &frame, error))
        {
          self->closed = TRUE;
          return FALSE;
        }
      /* Frames of other channels cannot be handed back: such a connection must not carry
       * consumers (see the header). */
      if (frame.frame_type != AMQP_FRAME_METHOD || frame.channel != self->channel)
        {
          g_debug ("Ignoring a frame of type %u on channel %u while awaiting confirms",
                   frame.frame_type, frame.channel);
          continue;
        }

      switch (frame.payload.method.id)
        {
        case AMQP_BASIC_ACK_METHOD:
          {
            amqp_basic_ack_t *ack = frame.payload.method.decoded;

            settle (self, ack->delivery_tag, ack->multiple, FALSE);
          }
          break;

        case AMQP_BASIC_NACK_METHOD:
          {
            amqp_basic_nack_t *nack = frame.payload.method.decoded;

            settle (self, nack->delivery_tag, nack->multiple, TRUE);
          }
          break;

        case AMQP_BASIC_RETURN_METHOD:
          {
            g_autofree char *description = odd_amqp_read_return (self->conn, &frame, NULL);

            /* Its ack follows; the batch as a whole reports the failure. */
            if (self->failure == NULL)
              g_set_error_literal (&self->failure, ODD_AMQP_ERROR, ODD_AMQP_ERROR_NACKED, description);
          }
          break;

        default:
          g_debug ("Ignoring method 0x%08x while awaiting confirms", frame.payload.method.id);
          break;
        }

      /* Decoded frames live in pools that only this call recycles. */
      amqp_maybe_release_buffers (self->conn);
    }

  if (self->failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->failure));
      return FALSE;
    }
  return TRUE;
}
