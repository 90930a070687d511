/* odd-redelivery.h: counting the deliveries of a message across crashes
 *
 * RabbitMQ 3.10's classic queues say only *whether* a message was delivered before (the
 * AMQP `redelivered` flag), not how often. A consumer that crashes (or loses its
 * connection) on a message gets it back for ever. So each redelivered message is counted in
 * PostgreSQL, committed before the message is handled: a crash while handling it still
 * counts. Past the limit the consumer dead-letters the message unhandled. The count is
 * forgotten once the message is acked.
 */
#pragma once

#include <glib.h>
#include <libpq-fe.h>

G_BEGIN_DECLS

/* Default of $ODD_MAX_REDELIVERIES. */
#define ODD_DEFAULT_MAX_REDELIVERIES 5

/* The key of a message: SHA-256 of its body (a redelivery has the same body). */
char     *odd_redelivery_key    (const void  *body,
                                 gsize        len);
/* Counts one more delivery of @key; @deliveries gets how many were counted so far (1 the
 * first time). Runs in its own transaction: call it outside any. */
gboolean  odd_redelivery_count  (PGconn      *conn,
                                 const char  *key,
                                 gint64      *deliveries,
                                 GError     **error);
/* Forgets the counts of @keys (their messages were acked), and counts older than a day. */
gboolean  odd_redelivery_forget (PGconn      *conn,
                                 GPtrArray   *keys,
                                 GError     **error);

G_END_DECLS
