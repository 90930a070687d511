#define G_LOG_DOMAIN "odd-amqp-publisher"

#include "odd-amqp.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include "odd-amqp-private.h"
#include "odd-ids.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
/* Longest sleep of the thread: it must wake to send heartbeats (every 15 s at heartbeat 30). */
#define IDLE_POLL_MS   1000
#define CHANNEL        1
#define DEFAULT_TIMEOUT_MS 10000
/* Within a burst the socket's free space is checked again after this many bytes. */
#define WRITABLE_CHECK_BYTES (64 * 1024)

typedef struct {
  GTask   *task;
  char    *exchange;
  char    *routing_key;
  char    *message_id;
  char    *correlation_id;
  char    *type;
  GBytes  *body;
  char    *returned;   /* set when the broker returned it as unroutable */
  GError  *error;      /* the outcome, while waiting for delivery on the main context */
  gint64   deadline;   /* monotonic time after which it fails with ODD_AMQP_ERROR_TIMEOUT */
} Request;

struct _OddAmqpPublisher {
  GObject       parent_instance;

  char         *url;
  char         *connection_name;
  guint         max_outstanding;
  gint          timeout_ms;       /* (atomic) */
  GMainContext *context;          /* where "connected" is notified */

  GMutex        lock;
  GQueue        queue;            /* (lock) Requests for the thread */
  guint         outstanding;      /* (lock) queued + awaiting their confirm */
  gboolean      connected;        /* (lock) */
  char         *last_error;       /* (lock) */
  gboolean      stopping;         /* (lock) */
  GQueue        done;             /* (lock) completed Requests for self->context */
  GQueue        completed;        /* thread only: completed since the last flush */
  gboolean      deliver_pending;  /* (lock) an invoke for self->done is on its way */
  gint64        rejected_at;      /* (lock) monotonic time of the last nack, 0 = none */
  gint64        confirmed_at;     /* (lock) monotonic time of the last ack */

  int           wake[2];          /* pipe: publish_async and dispose wake the thread */
  GThread      *thread;
  guint         backoff_min_ms;   /* between reconnects: doubles from min to max */
  guint         backoff_max_ms;
};

enum {
  PROP_0,
  PROP_CONNECTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (OddAmqpPublisher, odd_amqp_publisher, G_TYPE_OBJECT)

/* What only the thread touches. */
typedef struct {
  amqp_connection_state_t  conn;
  GHashTable              *inflight;   /* delivery tag → Request */
  guint64                  next_tag;
  guint64                  lowest;     /* no tag below this is in flight */
  gboolean                 socket_ok;  /* a polite close is possible */
  gboolean                 blocked;    /* the socket stopped taking data (broker alarm) */
} ThreadState;

static void
request_free (Request *req)
{
  g_clear_object (&req->task);
  g_free (req->exchange);
  g_free (req->routing_key);
  g_free (req->message_id);
  g_free (req->correlation_id);
  g_free (req->type);
  g_free (req->returned);
  g_clear_error (&req->error);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_free (req);
}

static gboolean
is_stopping (OddAmqpPublisher *self)
{
  gboolean stopping;

  g_mutex_lock (&self->lock);
  stopping = self->stopping;
  g_mutex_unlock (&self->lock);
  return stopping;
}

static void
wake_thread (OddAmqpPublisher *self)
{
  char byte = 1;

  /* A full pipe already means "wake up"; nothing else can go wrong worth reporting. */
  while (write (self->wake[1], &byte, 1) < 0 && errno == EINTR)
    ;
}

static void
drain_wakeups (OddAmqpPublisher *self)
{
  char buf[256];

  while (read (self->wake[0], buf, sizeof buf) > 0)
    ;
}

/* Completes @req from the publisher thread. Tasks of the creation context (the gateway's
 * main loop) are handed over in batches by flush_completed(): one wakeup of the main loop
 * per batch instead of one idle source per message. Others return at once (GTask then
 * dispatches to their own context). */
static void
complete (OddAmqpPublisher *self,
          Request          *req,
          GError           *error)
{
  g_mutex_lock (&self->lock);
  self->outstanding--;
  g_mutex_unlock (&self->lock);

  if (g_task_get_context (req->task) == self->context)
    {
      req->error = error;
      g_queue_push_tail (&self->completed, req);
      return;
    }

  if (error != NULL)
    g_task_return_error (req->task, error);
  else
    g_task_return_boolean (req->task, TRUE);
  request_free (req);
}

static gboolean
deliver_cb (gpointer user_data)
{
  OddAmqpPublisher *self = user_data;
  GQueue batch;
  Request *req;

  g_mutex_lock (&self->lock);
  batch = self->done;
  g_queue_init (&self->done);
  self->deliver_pending = FALSE;
  g_mutex_unlock (&self->lock);

  /* We run on the tasks' context, so each callback runs right here. */
  while ((req = g_queue_pop_head (&batch)) != NULL)
    {
      if (req->error != NULL)
        g_task_return_error (req->task, g_steal_pointer (&req->error));
      else
        g_task_return_boolean (req->task, TRUE);
      request_free (req);
    }
  return G_SOURCE_REMOVE;
}

static void
flush_completed (OddAmqpPublisher *self)
{
  gboolean need_invoke;

  if (g_queue_is_empty (&self->completed))
    return;

  g_mutex_lock (&self->lock);
  while (!g_queue_is_empty (&self->completed))
    g_queue_push_tail (&self->done, g_queue_pop_head (&self->completed));
  need_invoke = !self->deliver_pending;
  self->deliver_pending = TRUE;
  g_mutex_unlock (&self->lock);

  /* The pending tasks keep the publisher alive, so this reference is never the last. */
  if (need_invoke)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, deliver_cb,
                                g_object_ref (self), g_object_unref);
}

static gboolean
notify_connected_cb (gpointer user_data)
{
  g_object_notify_by_pspec (G_OBJECT (user_data), properties[PROP_CONNECTED]);
  return G_SOURCE_REMOVE;
}

/* Sets the connection state; when going down also takes every queued request, so that
 * nothing is queued while disconnected. */
static void
set_connected (OddAmqpPublisher *self,
               gboolean          connected,
               const char       *error_message,
               GQueue           *take_queued)
{
  gboolean changed;
  gboolean stopping;

  g_mutex_lock (&self->lock);
  changed = self->connected != connected;
  self->connected = connected;
  g_free (self->last_error);
  self->last_error = g_strdup (error_message);
  if (take_queued != NULL)
    {
      *take_queued = self->queue;
      g_queue_init (&self->queue);
    }
  stopping = self->stopping;
  g_mutex_unlock (&self->lock);

  if (changed && !stopping)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, notify_connected_cb,
                                g_object_ref (self), g_object_unref);
}

static void
fail_all (OddAmqpPublisher *self,
          GQueue           *requests,
          const char       *message)
{
  Request *req;

  while ((req = g_queue_pop_head (requests)) != NULL)
    complete (self, req, g_error_new (ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED, "%s", message));
}

static void
fail_inflight (OddAmqpPublisher *self,
               ThreadState      *st,
               const char       *message)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, st->inflight);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_hash_table_iter_steal (&iter);
      /* Sent: the broker may have stored it before the connection went. */
      complete (self, value, g_error_new (ODD_AMQP_ERROR, ODD_AMQP_ERROR_UNCONFIRMED, "%s", message));
    }
}

static gboolean
connect_and_setup (OddAmqpPublisher  *self,
                   ThreadState       *st,
                   GError           **error)
{
  amqp_connection_state_t conn = odd_amqp_connect (self->url, self->connection_name, error);

  if (conn == NULL)
    return FALSE;

  /* The topology may be gone (a fresh broker): declare it on every connect. */
  if (!odd_amqp_declare_topology (conn, CHANNEL, error))
    {
      odd_amqp_close (conn);
      return FALSE;
    }
  amqp_confirm_select (conn, CHANNEL);
  if (!odd_amqp_check_reply (amqp_get_rpc_reply (conn), "Enabling publisher confirms", error))
    {
      odd_amqp_close (conn);
      return FALSE;
    }

  st->conn = conn;
  st->next_tag = 1;
  st->lowest = 1;
  st->socket_ok = TRUE;
  return TRUE;
}

static void
connection_lost (OddAmqpPublisher *self,
                 ThreadState      *st,
                 const char       *reason)
{
  g_autofree char *message = g_strdup_printf ("Connection to RabbitMQ lost before the broker confirmed: %s",
                                              reason);
  g_autofree char *unsent = g_strdup_printf ("Connection to RabbitMQ lost before the message was sent: %s",
                                             reason);
  GQueue queued = G_QUEUE_INIT;

  if (st->socket_ok)
    odd_amqp_close (st->conn);
  else
    amqp_destroy_connection (st->conn);
  st->conn = NULL;

  /* Not a g_warning: losing the broker is an expected event, reported by /readyz. */
  g_message ("RabbitMQ publisher connection lost: %s", reason);
  set_connected (self, FALSE, reason, &queued);
  fail_inflight (self, st, message);
  fail_all (self, &queued, unsent);
}

static void
settle (OddAmqpPublisher *self,
        ThreadState      *st,
        guint64           tag,
        gboolean          multiple,
        gboolean          nacked)
{
  guint64 first = multiple ? st->lowest : tag;

  g_mutex_lock (&self->lock);
  if (nacked)
    self->rejected_at = g_get_monotonic_time ();
  else
    self->confirmed_at = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);

  for (guint64 t = first; t <= tag; t++)
    {
      Request *req = NULL;

      if (!g_hash_table_steal_extended (st->inflight, GSIZE_TO_POINTER ((gsize) t), NULL, (gpointer *) &req))
        continue;
      if (nacked)
        complete (self, req, g_error_new (ODD_AMQP_ERROR, ODD_AMQP_ERROR_REJECTED,
                                          "The broker refused the message (queue %s full?)",
                                          req->routing_key));
      else if (req->returned != NULL)
        complete (self, req, g_error_new (ODD_AMQP_ERROR, ODD_AMQP_ERROR_NACKED, "%s", req->returned));
      else
        complete (self, req, NULL);
    }
  if (multiple && tag + 1 > st->lowest)
    st->lowest = tag + 1;
}

static void
mark_returned (ThreadState *st,
               const char  *message_id,
               char        *description)
{
  GHashTableIter iter;
  gpointer value;

  /* Returns are rare (a routing mistake), so a scan of the window is fine. */
  g_hash_table_iter_init (&iter, st->inflight);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Request *req = value;

      if (message_id != NULL && g_strcmp0 (req->message_id, message_id) == 0 && req->returned == NULL)
        {
          req->returned = description;
          return;
        }
    }
  g_free (description);
}

/* Reads every frame already available, without blocking. */
static gboolean
read_frames (OddAmqpPublisher  *self,
             ThreadState       *st,
             GError           **error)
{
  for (;;)
    {
      struct timeval zero = { 0, 0 };
      amqp_frame_t frame;
      int status;

      status = amqp_simple_wait_frame_noblock (st->conn, &frame, &zero);
      if (status == AMQP_STATUS_TIMEOUT)
        return TRUE;
      if (status != AMQP_STATUS_OK)
        {
          st->socket_ok = FALSE;
          odd_amqp_set_status_error (error, status, "Reading from RabbitMQ");
          return FALSE;
        }

      if (odd_amqp_handle_close_frame (st->conn, &frame, error))
        {
          /* A closed connection cannot be closed politely; a closed channel can. */
          st->socket_ok = frame.payload.method.id != AMQP_CONNECTION_CLOSE_METHOD;
          return FALSE;
        }

      if (frame.frame_type == AMQP_FRAME_METHOD && frame.channel == CHANNEL)
        {
          switch (frame.payload.method.id)
            {
            case AMQP_BASIC_ACK_METHOD:
              {
                amqp_basic_ack_t *ack = frame.payload.method.decoded;

                settle (self, st, ack->delivery_tag, ack->multiple, FALSE);
              }
              break;

            case AMQP_BASIC_NACK_METHOD:
              {
                amqp_basic_nack_t *nack = frame.payload.method.decoded;

                settle (self, st, nack->delivery_tag, nack->multiple, TRUE);
              }
              break;

            case AMQP_BASIC_RETURN_METHOD:
              {
                g_autofree char *message_id = NULL;
                char *description = odd_amqp_read_return (st->conn, &frame, &message_id);

                mark_returned (st, message_id, description);
              }
              break;

            default:
              g_debug ("Ignoring method 0x%08x", frame.payload.method.id);
              break;
            }
        }

      /* Frames are decoded into pools that only this call recycles. */
      amqp_maybe_release_buffers (st->conn);
    }
}

/* Fails publishes older than the timeout: a broker that stops answering (or reading) must
 * not keep callers waiting for ever. A confirm arriving later for one is ignored. */
static void
expire (OddAmqpPublisher *self,
        ThreadState      *st)
{
  gint64 now = g_get_monotonic_time ();
  GQueue expired = G_QUEUE_INIT;
  Request *req;

  g_mutex_lock (&self->lock);
  while ((req = g_queue_peek_head (&self->queue)) != NULL && req->deadline <= now)
    g_queue_push_tail (&expired, g_queue_pop_head (&self->queue));
  g_mutex_unlock (&self->lock);

  /* Tags grow with age: stop at the first one still in time. */
  if (st->conn != NULL)
    for (guint64 t = st->lowest; t < st->next_tag; t++)
      {
        req = g_hash_table_lookup (st->inflight, GSIZE_TO_POINTER ((gsize) t));
        if (req == NULL)
          {
            st->lowest = t + 1;  /* everything up to t is settled */
            continue;
          }
        if (req->deadline > now)
          break;
        g_hash_table_steal (st->inflight, GSIZE_TO_POINTER ((gsize) t));
        g_queue_push_tail (&expired, req);
      }

  while ((req = g_queue_pop_head (&expired)) != NULL)
    complete (self, req, g_error_new (ODD_AMQP_ERROR, ODD_AMQP_ERROR_TIMEOUT,
                                      "RabbitMQ did not confirm the message within %d ms",
                                      g_atomic_int_get (&self->timeout_ms)));
}

/* Holds back partial segments while a burst is written (TCP_CORK): the frames of many
 * publishes leave in a few full segments, which the broker reads in one go, instead of one
 * segment per publish (librabbitmq sends each publish's frames as soon as they are made).
 * Uncorking sends what is held at once. A socket that refuses the option (not TCP) only
 * loses the batching. */
static void
set_corked (int      fd,
            gboolean corked)
{
  int value = corked ? 1 : 0;

  if (setsockopt (fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value) != 0)
    g_debug ("TCP_CORK %d: %s", value, g_strerror (errno));
}

static gboolean
socket_writable (int fd)
{
  struct pollfd writable = { fd, POLLOUT, 0 };

  return poll (&writable, 1, 0) != 0;
}

/* Sends everything queued as one burst; the confirms are read by read_frames(). */
static gboolean
publish_batch (OddAmqpPublisher  *self,
               ThreadState       *st,
               GError           **error)
{
  GQueue batch;
  Request *req;
  int fd = amqp_get_sockfd (st->conn);
  gsize unchecked = 0;
  gboolean corked = FALSE;
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  batch = self->queue;
  g_queue_init (&self->queue);
  g_mutex_unlock (&self->lock);

  /* One publish gains nothing from the cork and would pay two more system calls. */
  if (batch.length > 1)
    {
      set_corked (fd, TRUE);
      corked = TRUE;
    }

  while ((req = g_queue_pop_head (&batch)) != NULL)
    {
      amqp_basic_properties_t amqp_props;
      OddAmqpProps props = { req->message_id, req->correlation_id, req->type };
      gsize len;
      const void *data = g_bytes_get_data (req->body, &len);
      amqp_bytes_t body = { len, (void *) data };
      int status;

      /* librabbitmq waits without limit for a full socket (a broker under a resource alarm
       * stops reading): keep the rest queued and let the loop wait for POLLOUT instead, so
       * the thread stays responsive (heartbeats, confirms, stopping). Checked before the
       * burst and again after every WRITABLE_CHECK_BYTES of it. */
      if (unchecked == 0 || unchecked >= WRITABLE_CHECK_BYTES)
        {
          if (!socket_writable (fd))
            {
              g_queue_push_head (&batch, req);
              g_mutex_lock (&self->lock);
              while ((req = g_queue_pop_tail (&batch)) != NULL)
                g_queue_push_head (&self->queue, req);
              g_mutex_unlock (&self->lock);
              st->blocked = TRUE;
              break;
            }
          unchecked = 0;
        }

      odd_amqp_fill_properties (&amqp_props, &props);
      status = amqp_basic_publish (st->conn, CHANNEL, amqp_cstring_bytes (req->exchange),
                                   amqp_cstring_bytes (req->routing_key),
                                   1 /* mandatory: unroutable comes back */, 0, &amqp_props, body);
      if (status != AMQP_STATUS_OK)
        {
          g_autoptr(GError) local_error = NULL;

          st->socket_ok = FALSE;
          odd_amqp_set_status_error (&local_error, status, "Publishing");
          /* Not sent: fail it, and the rest of the batch, like everything in flight. */
          complete (self, req, g_error_new (ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED, "%s", local_error->message));
          fail_all (self, &batch, local_error->message);
          g_propagate_error (error, g_steal_pointer (&local_error));
          ok = FALSE;
          break;
        }
      /* The frames' size, near enough: the properties are a few hundred bytes at most. */
      unchecked += len + 256;
      g_hash_table_insert (st->inflight, GSIZE_TO_POINTER ((gsize) st->next_tag), req);
      st->next_tag++;
    }

  /* Whatever happened, nothing may stay held back. */
  if (corked && ok)
    set_corked (fd, FALSE);
  return ok;
}

/* Sleeps up to @ms, or until woken; TRUE when stopping. */
static gboolean
backoff_sleep (OddAmqpPublisher *self,
               guint             ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (!is_stopping (self))
    {
      gint64 remaining = deadline - g_get_monotonic_time ();
      struct pollfd pfd = { self->wake[0], POLLIN, 0 };

      if (remaining <= 0)
        return FALSE;
      poll (&pfd, 1, (int) ((remaining + 999) / 1000));
      drain_wakeups (self);
    }
  return TRUE;
}

static gpointer
publisher_thread (gpointer data)
{
  OddAmqpPublisher *self = data;
  ThreadState st = { 0 };
  guint backoff = 0;
  GQueue queued = G_QUEUE_INIT;

  st.inflight = g_hash_table_new (g_direct_hash, g_direct_equal);

  while (!is_stopping (self))
    {
      g_autoptr(GError) error = NULL;
      struct pollfd pfds[2];
      int timeout;

      expire (self, &st);
      flush_completed (self);

      if (st.conn == NULL)
        {
          if (backoff > 0 && backoff_sleep (self, backoff))
            break;
          if (!connect_and_setup (self, &st, &error))
            {
              g_autofree char *message = g_strdup_printf ("RabbitMQ is not connected: %s", error->message);

              set_connected (self, FALSE, error->message, &queued);
              fail_all (self, &queued, message);
              backoff = backoff == 0 ? self->backoff_min_ms : MIN (backoff * 2, self->backoff_max_ms);
              continue;
            }
          backoff = 0;
          g_message ("RabbitMQ publisher connected");
          set_connected (self, TRUE, NULL, NULL);
        }

      /* librabbitmq may hold frames already read from the socket (amqp_basic_publish reads
       * for heartbeats): then do not sleep on a socket that will not become readable. */
      timeout = amqp_frames_enqueued (st.conn) || amqp_data_in_buffer (st.conn) ? 0 : IDLE_POLL_MS;
      pfds[0] = (struct pollfd) { self->wake[0], POLLIN, 0 };
      pfds[1] = (struct pollfd) { amqp_get_sockfd (st.conn), POLLIN | (st.blocked ? POLLOUT : 0), 0 };
      if (poll (pfds, 2, timeout) < 0 && errno != EINTR)
        g_error ("poll() failed: %s", g_strerror (errno));
      drain_wakeups (self);
      st.blocked = FALSE;
      if (is_stopping (self))
        break;

      /* Batch: send everything queued, then read whatever confirms have come; never wait
       * for one message's confirm before sending the next. */
      if (!publish_batch (self, &st, &error) || !read_frames (self, &st, &error))
        {
          connection_lost (self, &st, error->message);
          backoff = self->backoff_min_ms;
        }
    }

  if (st.conn != NULL)
    {
      GQueue rest = G_QUEUE_INIT;

      fail_inflight (self, &st, "The publisher stopped before the broker confirmed");
      g_mutex_lock (&self->lock);
      rest = self->queue;
      g_queue_init (&self->queue);
      g_mutex_unlock (&self->lock);
      fail_all (self, &rest, "The publisher stopped");
      {
        /* Stopping must not wait long on a broker that no longer answers, nor block on a
         * full socket. */
        struct timeval quick = { 1, 0 };
        struct pollfd writable = { amqp_get_sockfd (st.conn), POLLOUT, 0 };

        amqp_set_rpc_timeout (st.conn, &quick);
        if (poll (&writable, 1, 0) == 1 && !(writable.revents & (POLLERR | POLLHUP)))
          odd_amqp_close (st.conn);
        else
          amqp_destroy_connection (st.conn);
      }
    }
  flush_completed (self);
  g_hash_table_unref (st.inflight);
  return NULL;
}

/* GObject */

static void
odd_amqp_publisher_dispose (GObject *object)
{
  OddAmqpPublisher *self = ODD_AMQP_PUBLISHER (object);

  if (self->thread != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_mutex_unlock (&self->lock);
      wake_thread (self);
      g_thread_join (g_steal_pointer (&self->thread));
    }

  G_OBJECT_CLASS (odd_amqp_publisher_parent_class)->dispose (object);
}

static void
odd_amqp_publisher_finalize (GObject *object)
{
  OddAmqpPublisher *self = ODD_AMQP_PUBLISHER (object);
  Request *req;

  /* Requests hold a reference on the publisher, so none can be left; be safe anyway. */
  while ((req = g_queue_pop_head (&self->queue)) != NULL)
    request_free (req);
  if (self->wake[0] >= 0)
    close (self->wake[0]);
  if (self->wake[1] >= 0)
    close (self->wake[1]);
  g_mutex_clear (&self->lock);
  g_free (self->url);
  g_free (self->connection_name);
  g_free (self->last_error);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (odd_amqp_publisher_parent_class)->finalize (object);
}

static void
odd_amqp_publisher_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  OddAmqpPublisher *self = ODD_AMQP_PUBLISHER (object);

  switch (prop_id)
    {
    case PROP_CONNECTED:
      g_value_set_boolean (value, odd_amqp_publisher_is_connected (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_amqp_publisher_class_init (OddAmqpPublisherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = odd_amqp_publisher_dispose;
  object_class->finalize = odd_amqp_publisher_finalize;
  object_class->get_property = odd_amqp_publisher_get_property;

  properties[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_amqp_publisher_init (OddAmqpPublisher *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->queue);
  g_queue_init (&self->done);
  g_queue_init (&self->completed);
  self->wake[0] = self->wake[1] = -1;
  self->context = g_main_context_ref_thread_default ();
  self->last_error = g_strdup ("not connected yet");
  self->timeout_ms = DEFAULT_TIMEOUT_MS;
}

OddAmqpPublisher *
odd_amqp_publisher_new (const char *url,
                        const char *connection_name,
                        guint       max_outstanding)
{
  return odd_amqp_publisher_new_with_backoff (url, connection_name, max_outstanding,
                                              BACKOFF_MIN_MS, BACKOFF_MAX_MS);
}

OddAmqpPublisher *
odd_amqp_publisher_new_with_backoff (const char *url,
                                     const char *connection_name,
                                     guint       max_outstanding,
                                     guint       backoff_min_ms,
                                     guint       backoff_max_ms)
{
  OddAmqpPublisher *self;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (backoff_min_ms > 0 && backoff_min_ms <= backoff_max_ms, NULL);

  self = g_object_new (ODD_TYPE_AMQP_PUBLISHER, NULL);
  self->url = g_strdup (url);
  self->connection_name = g_strdup (connection_name != NULL ? connection_name : "odd-publisher");
  self->max_outstanding = MAX (max_outstanding, 1);
  /* Before the thread starts: it reads them without a lock. */
  self->backoff_min_ms = backoff_min_ms;
  self->backoff_max_ms = backoff_max_ms;
  if (!g_unix_open_pipe (self->wake, FD_CLOEXEC, NULL)
      || !g_unix_set_fd_nonblocking (self->wake[0], TRUE, NULL)
      || !g_unix_set_fd_nonblocking (self->wake[1], TRUE, NULL))
    g_error ("Cannot create a pipe: %s", g_strerror (errno));
  self->thread = g_thread_new ("odd-amqp-pub", publisher_thread, self);

  return self;
}

void
odd_amqp_publisher_set_timeout (OddAmqpPublisher *self,
                                guint             timeout_ms)
{
  g_return_if_fail (ODD_IS_AMQP_PUBLISHER (self));

  g_atomic_int_set (&self->timeout_ms, (gint) CLAMP (timeout_ms, 1, G_MAXINT / 2));
}

gboolean
odd_amqp_publisher_is_connected (OddAmqpPublisher *self)
{
  gboolean connected;

  g_return_val_if_fail (ODD_IS_AMQP_PUBLISHER (self), FALSE);

  g_mutex_lock (&self->lock);
  connected = self->connected;
  g_mutex_unlock (&self->lock);
  return connected;
}

gboolean
odd_amqp_publisher_is_rejecting (OddAmqpPublisher *self,
                                 gint64            window_usec)
{
  gboolean rejecting;

  g_return_val_if_fail (ODD_IS_AMQP_PUBLISHER (self), FALSE);

  g_mutex_lock (&self->lock);
  rejecting = self->rejected_at != 0 && self->rejected_at >= self->confirmed_at
              && g_get_monotonic_time () - self->rejected_at < window_usec;
  g_mutex_unlock (&self->lock);
  return rejecting;
}

char *
odd_amqp_publisher_dup_error (OddAmqpPublisher *self)
{
  char *error = NULL;

  g_return_val_if_fail (ODD_IS_AMQP_PUBLISHER (self), NULL);

  g_mutex_lock (&self->lock);
  if (!self->connected)
    error = g_strdup (self->last_error != NULL ? self->last_error : "not connected");
  g_mutex_unlock (&self->lock);
  return error;
}

void
odd_amqp_publisher_publish_async (OddAmqpPublisher    *self,
                                  const char          *exchange,
                                  const char          *routing_key,
                                  const OddAmqpProps  *props,
                                  GBytes              *body,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *req;
  gboolean was_empty;

  g_return_if_fail (ODD_IS_AMQP_PUBLISHER (self));
  g_return_if_fail (routing_key != NULL);
  g_return_if_fail (body != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, odd_amqp_publisher_publish_async);
  /* Once sent, the outcome is the broker's answer: a late cancel must not hide it. */
  g_task_set_check_cancellable (task, FALSE);
  if (g_task_return_error_if_cancelled (task))
    return;

  g_mutex_lock (&self->lock);
  if (!self->connected || self->stopping)
    {
      g_autofree char *reason = g_strdup (self->last_error != NULL ? self->last_error : "stopping");

      g_mutex_unlock (&self->lock);
      g_task_return_new_error (task, ODD_AMQP_ERROR, ODD_AMQP_ERROR_CLOSED,
                               "RabbitMQ is not connected: %s", reason);
      return;
    }
  if (self->outstanding >= self->max_outstanding)
    {
      guint max = self->max_outstanding;

      g_mutex_unlock (&self->lock);
      g_task_return_new_error (task, ODD_AMQP_ERROR, ODD_AMQP_ERROR_FULL,
                               "Too many messages awaiting the broker's confirmation (%u)", max);
      return;
    }

  req = g_new0 (Request, 1);
  req->task = g_steal_pointer (&task);
  req->deadline = g_get_monotonic_time () + (gint64) g_atomic_int_get (&self->timeout_ms) * 1000;
  req->exchange = g_strdup (exchange != NULL ? exchange : "");
  req->routing_key = g_strdup (routing_key);
  /* A message id lets a basic.return be matched to its publish. */
  req->message_id = props != NULL && props->message_id != NULL ? g_strdup (props->message_id) : odd_uuid_new ();
  req->correlation_id = g_strdup (props != NULL ? props->correlation_id : NULL);
  req->type = g_strdup (props != NULL ? props->type : NULL);
  req->body = g_bytes_ref (body);

  was_empty = g_queue_is_empty (&self->queue);
  g_queue_push_tail (&self->queue, req);
  self->outstanding++;
  g_mutex_unlock (&self->lock);

  /* The thread drains the whole queue per wakeup: one byte per batch is enough. */
  if (was_empty)
    wake_thread (self);
}

gboolean
odd_amqp_publisher_publish_finish (OddAmqpPublisher  *self,
                                   GAsyncResult      *result,
                                   GError           **error)
{
  g_return_val_if_fail (ODD_IS_AMQP_PUBLISHER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
