/* odd-event-store.h: the job_events table, the source of truth the Redis aggregates project */
#pragma once

#include <libpq-fe.h>
#include <glib.h>

G_BEGIN_DECLS

/* The session lock of the engine that brings Redis to the store (catch-up, rebuild): one at a
 * time, since a rebuild deletes keys another engine's replay would be writing (ASCII
 * "oddproj1"). */
#define ODD_EVENT_STORE_REPLAY_LOCK_KEY "8026650870000085553"

/* Opens the transaction a batch is stored in: BEGIN, then the event store lock
 * (ODD_PG_EVENT_STORE_LOCK_KEY, held until COMMIT or ROLLBACK), then @prev = max(seq). Every
 * writer holds that lock while its seqs are handed out and committed, so every seq up to @prev
 * is committed or never will be, and nobody adds one until this transaction ends: the seqs
 * (@prev, highest seq of this transaction] are exactly this transaction's new events. Rolls
 * back on failure. */
gboolean odd_event_store_begin       (PGconn            *conn,
                                      gint64            *prev,
                                      GError           **error);
gboolean odd_event_store_commit      (PGconn            *conn,
                                      GError           **error);
/* ROLLBACK when a transaction is open on a working connection. */
void     odd_event_store_rollback    (PGconn            *conn);
/* Inserts the envelopes (JSON texts, already validated), in order, in one statement
 * (ON CONFLICT (event_id) DO NOTHING), inside odd_event_store_begin()'s transaction. @event_ids: their eventIds in lower case, as PostgreSQL
 * prints uuids. Appends to @seqs one gint64 per envelope: its new seq, or 0 when the event was
 * already stored (or is a second copy within the batch). A G_IO_ERROR means the rows could
 * not be matched to the batch: roll back. */
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
/* pg_try_advisory_lock / pg_advisory_unlock of ODD_EVENT_STORE_REPLAY_LOCK_KEY (session). */
gboolean odd_event_store_try_replay_lock (PGconn        *conn,
                                          gboolean      *acquired,
                                          GError       **error);
gboolean odd_event_store_replay_unlock   (PGconn        *conn,
                                          GError       **error);
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
