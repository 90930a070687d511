/* odd-queue.h: one RabbitMQ queue of GET /queues (queues.json) */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define ODD_TYPE_QUEUE (odd_queue_get_type ())
G_DECLARE_FINAL_TYPE (OddQueue, odd_queue, ODD, QUEUE, GObject)

OddQueue   *odd_queue_new_from_json  (JsonObject *object);

/* Properties "name", "messages", "consumers". */
const char *odd_queue_get_name       (OddQueue   *self);
gint64      odd_queue_get_messages   (OddQueue   *self);
gint64      odd_queue_get_consumers  (OddQueue   *self);

/* Whether the queue called @name holds dead letters (jobs.dead, jobs.failed.validation). */
gboolean    odd_queue_name_is_dead_letter (const char *name);

G_END_DECLS
