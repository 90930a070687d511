/* odd-amqp.h: RabbitMQ with librabbitmq-c 0.11
 *
 * librabbitmq connections are not thread-safe and 0.11 has no confirm helper, so:
 *  - the synchronous helpers below are for a connection used by one thread (processor and
 *    metrics-engine workers, DLQ replay);
 *  - OddAmqpPublisher owns a connection on its own thread and offers an async API with
 *    publisher confirms to the GLib main loop (the gateway).
 */
#pragma once

#include <gio/gio.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>

G_BEGIN_DECLS

#define ODD_AMQP_ERROR (odd_amqp_error_quark ())
GQuark odd_amqp_error_quark (void);

typedef enum {
  ODD_AMQP_ERROR_CONNECT,
  ODD_AMQP_ERROR_CLOSED,    /* connection or channel closed by the broker */
  ODD_AMQP_ERROR_NACKED,    /* the broker refused a publish */
  ODD_AMQP_ERROR_TIMEOUT,
  ODD_AMQP_ERROR_PROTOCOL,
  ODD_AMQP_ERROR_FULL,      /* too many publishes outstanding */
  ODD_AMQP_ERROR_UNCONFIRMED, /* sent, but the connection died before the broker's confirm:
                               * the message may or may not be on the queue */
  ODD_AMQP_ERROR_REJECTED,  /* OddAmqpPublisher: the broker nacked the message (certainly not
                             * queued), e.g. a queue full under `overflow: reject-publish` */
} OddAmqpError;

/* Names (docs/architecture.md) */
#define ODD_QUEUE_JOBS_CREATED      "jobs.created"
#define ODD_EXCHANGE_EVENTS         "odd.events"
#define ODD_QUEUE_LIFECYCLE         "jobs.lifecycle"
#define ODD_QUEUE_FAILED_VALIDATION "jobs.failed.validation"
#define ODD_QUEUE_DEAD              "jobs.dead"

typedef struct {
  const char *message_id;      /* nullable */
  const char *correlation_id;  /* nullable */
  const char *type;            /* nullable, e.g. the eventType */
} OddAmqpProps;

/* Opens a connection (heartbeat 30 s, 5 s connect timeout) and channel 1.
 * @connection_name shows in the management UI. */
amqp_connection_state_t odd_amqp_connect       (const char               *url,
                                                const char               *connection_name,
                                                GError                  **error);
void                    odd_amqp_close         (amqp_connection_state_t   conn);
/* Turns a librabbitmq reply into a GError. */
gboolean                odd_amqp_check_reply   (amqp_rpc_reply_t          reply,
                                                const char               *context,
                                                GError                  **error);
/* Declares every queue, the exchange and the binding, idempotently, on @channel. */
gboolean                odd_amqp_declare_topology (amqp_connection_state_t conn,
                                                   amqp_channel_t          channel,
                                                   GError                **error);
/* Messages ready and consumers of @queue (passive declare). */
gboolean                odd_amqp_queue_stats   (amqp_connection_state_t   conn,
                                                amqp_channel_t            channel,
                                                const char               *queue,
                                                guint                    *messages,
                                                guint                    *consumers,
                                                GError                  **error);
/* basic.qos + basic.consume with manual acks. */
gboolean                odd_amqp_consume       (amqp_connection_state_t   conn,
                                                amqp_channel_t            channel,
                                                const char               *queue,
                                                guint16                   prefetch,
                                                GError                  **error);

/* Synchronous confirmed publishing on one channel, for a single thread.
 * Every publish is mandatory: an unroutable message comes back (basic.return) and makes the
 * next wait fail with ODD_AMQP_ERROR_NACKED, like a nack.
 * The connection must carry NO consumers: while waiting, frames of other channels (such as
 * deliveries) are read and dropped. Publish on a separate connection from the consumer's. */
typedef struct _OddAmqpConfirms OddAmqpConfirms;

OddAmqpConfirms *odd_amqp_confirms_new     (amqp_connection_state_t  conn,
                                            amqp_channel_t           channel,
                                            GError                 **error); /* confirm.select */
void             odd_amqp_confirms_free    (OddAmqpConfirms         *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddAmqpConfirms, odd_amqp_confirms_free)
/* Publishes persistently (delivery mode 2, application/json); does not wait for the confirm.
 * Fails with ODD_AMQP_ERROR_TIMEOUT when the broker has not read for 10 s (then the
 * connection should be dropped). */
gboolean         odd_amqp_confirms_publish (OddAmqpConfirms         *self,
                                            const char              *exchange,
                                            const char              *routing_key,
                                            const OddAmqpProps      *props,
                                            const void              *body,
                                            gsize                    len,
                                            GError                 **error);
/* Waits until every publish so far is confirmed; error on nack, close or @timeout_ms. */
gboolean         odd_amqp_confirms_wait    (OddAmqpConfirms         *self,
                                            guint                    timeout_ms,
                                            GError                 **error);
guint            odd_amqp_confirms_pending (OddAmqpConfirms         *self);

/* Asynchronous confirmed publisher with its own thread and connection. It connects, and
 * reconnects after a failure (back-off 250 ms doubling to 5 s), by itself, and declares the
 * topology after each connect; "connected" (read-only boolean property) notifies on the
 * creating context. It starts disconnected: wait for "connected" before the first publish.
 * Publishes are mandatory; one the broker returns as unroutable fails with
 * ODD_AMQP_ERROR_NACKED, one it nacks (a full queue) with ODD_AMQP_ERROR_REJECTED. A message without message_id gets a fresh UUID as message_id.
 * On a lost connection a publish that was not sent yet fails with ODD_AMQP_ERROR_CLOSED (it
 * is certainly not on the queue), and one that was sent but not confirmed with
 * ODD_AMQP_ERROR_UNCONFIRMED (it may or may not be: the caller must neither report it as
 * accepted nor promise that it was not). ODD_AMQP_ERROR_TIMEOUT is in doubt the same way. */
#define ODD_TYPE_AMQP_PUBLISHER (odd_amqp_publisher_get_type ())
G_DECLARE_FINAL_TYPE (OddAmqpPublisher, odd_amqp_publisher, ODD, AMQP_PUBLISHER, GObject)

/* @max_outstanding: publishes awaiting their confirm before further ones fail with
 * ODD_AMQP_ERROR_FULL (back-pressure instead of unbounded memory). */
OddAmqpPublisher *odd_amqp_publisher_new          (const char          *url,
                                                   const char          *connection_name,
                                                   guint                max_outstanding);
/* Added: a publish not confirmed within @timeout_ms (default 10000) fails with
 * ODD_AMQP_ERROR_TIMEOUT, so a broker that stops answering cannot hold callers for ever. */
void              odd_amqp_publisher_set_timeout  (OddAmqpPublisher    *self,
                                                   guint                timeout_ms);
gboolean          odd_amqp_publisher_is_connected (OddAmqpPublisher    *self);
/* TRUE when the broker nacked a publish within the last @window_usec and has confirmed
 * none since (a full queue refuses everything until it drains), for /readyz. */
gboolean          odd_amqp_publisher_is_rejecting (OddAmqpPublisher    *self,
                                                   gint64               window_usec);
/* The last connection error, for /readyz; NULL when connected. */
char             *odd_amqp_publisher_dup_error    (OddAmqpPublisher    *self);
/* Completes on the thread-default context of the caller once the broker confirmed (TRUE)
 * or refused / lost the message (FALSE + error): the caller must then not accept the job.
 * Fails at once with ODD_AMQP_ERROR_CLOSED while disconnected and ODD_AMQP_ERROR_FULL at
 * max_outstanding. @cancellable only counts before the call: once queued, the result is the
 * broker's answer. */
void              odd_amqp_publisher_publish_async  (OddAmqpPublisher    *self,
                                                     const char          *exchange,
                                                     const char          *routing_key,
                                                     const OddAmqpProps  *props,
                                                     GBytes              *body,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean          odd_amqp_publisher_publish_finish (OddAmqpPublisher    *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

G_END_DECLS
