/* odd-amqp-private.h: pieces odd-amqp.c shares with odd-amqp-publisher.c */
#pragma once

#include "odd-amqp.h"

G_BEGIN_DECLS

void      odd_amqp_set_status_error   (GError                  **error,
                                       int                       status,
                                       const char               *context);
void      odd_amqp_fill_properties    (amqp_basic_properties_t  *out,
                                       const OddAmqpProps       *props);
/* TRUE (and @error set, close-ok sent) when @frame is a channel.close or connection.close. */
gboolean  odd_amqp_handle_close_frame (amqp_connection_state_t   conn,
                                       amqp_frame_t             *frame,
                                       GError                  **error);
/* Reads the content following a basic.return; returns a description, and the returned
 * message's message_id when it had one. */
char     *odd_amqp_read_return        (amqp_connection_state_t   conn,
                                       amqp_frame_t             *frame,
                                       char                    **message_id);

/* odd_amqp_publisher_new() with other reconnect back-offs (the tests use an hour, to show
 * that stopping does not wait for one). */
OddAmqpPublisher *odd_amqp_publisher_new_with_backoff (const char *url,
                                                       const char *connection_name,
                                                       guint       max_outstanding,
                                                       guint       backoff_min_ms,
                                                       guint       backoff_max_ms);

G_END_DECLS
