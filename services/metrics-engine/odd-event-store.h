/* odd-event-store.h: the job_events table, the source of truth the Redis aggregates project */
#pragma once

#include <libpq-fe.h>
#include <glib.h>

G_BEGIN_DECLS

/* Session lock key held by the one metrics-engine that writes job_events (ASCII "oddmetri"). */
#define ODD_EVENT_STORE_LOCK_KEY G_GINT64_CONSTANT (0x6f64646d65747269)

/* Inserts the envelopes (JSON texts, already validated), in order, in one statement
 * (ON CONFLICT (event_id) DO NOTHING). @event_ids: their eventIds in lower case, as PostgreSQL
 * prints uuids. Appends to @seqs one gint64 per envelope: its new seq, or 0 when the event was
 * already stored (or is a second copy within the batch). A G_IO_ERROR means the rows were
 * committed but could not be matched to the batch: replay from the store. */
gboolean odd_event_store_insert      (PGconn            *conn,
                                      GPtrArray         *envelopes,
                                      GPtrArray         *event_ids,
                                      GArray            *seqs,
                                      GError           **error);
/* max(seq), 0 when empty. */
gboolean odd_event_store_max_seq     (PGconn            *conn,
                                      gint64            *max_seq,
                                      GError           **error);
/* Up to @limit events with seq > @after, in seq order: appends to @seqs and @envelopes
 * (JSON texts, owned). */
gboolean odd_event_store_read_after  (PGconn            *conn,
                                      gint64             after,
                                      guint              limit,
                                      GArray            *seqs,
                                      GPtrArray         *envelopes,
                                      GError           **error);
/* pg_try_advisory_lock on ODD_EVENT_STORE_LOCK_KEY for this session. */
gboolean odd_event_store_try_lock    (PGconn            *conn,
                                      gboolean          *acquired,
                                      GError           **error);
/* One dead_letters row, stored once per @message_key (the dead letter's message id) and
 * queue: a redelivered message adds nothing. @job_id must be a UUID or NULL. */
gboolean odd_event_store_dead_letter (PGconn            *conn,
                                      const char        *queue,
                                      const char        *reason,
                                      const char        *job_id,
                                      const char        *correlation_id,
                                      const char        *message_key,
                                      const char        *message_json,
                                      GError           **error);

G_END_DECLS
