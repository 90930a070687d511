/* odd-notifier.h: desktop notifications when jobs start failing or an alert starts firing */
#pragma once

#include <gio/gio.h>

#include "odd-client.h"

G_BEGIN_DECLS

/* Fewer jobs than this finished between two looks say nothing about a failure rate. */
#define ODD_NOTIFIER_MIN_FINISHED  5
/* At most one notification in this many seconds. */
#define ODD_NOTIFIER_QUIET_S       60
/* The window's notifier looks no more often than this, whatever the refresh interval: it tells
 * at most once a minute, and a look a second doubled the requests of an idle window. */
#define ODD_NOTIFIER_MIN_INTERVAL_S 5

#define ODD_TYPE_NOTIFIER (odd_notifier_get_type ())
G_DECLARE_FINAL_TYPE (OddNotifier, odd_notifier, ODD, NOTIFIER, GObject)

/* Properties: "failure-threshold" (0..1, the share of finished jobs that failed; 0: off),
 * "interval" (seconds between two looks at /stats and /alerts). */
OddNotifier   *odd_notifier_new       (GApplication *application,
                                       OddClient    *client);
/* Looks every interval until stopped (also while no window shows the dashboard). */
void           odd_notifier_start     (OddNotifier  *self);
void           odd_notifier_stop      (OddNotifier  *self);

/* One look: the counters and the names of the firing alerts at @now (monotonic µs). Returns
 * the notification it sends (NULL: none), with its id in @id. */
GNotification *odd_notifier_observe   (OddNotifier        *self,
                                       gint64              completed,
                                       gint64              failed,
                                       const char * const *firing,
                                       const char * const *summaries,
                                       gint64              now,
                                       const char        **id);

G_END_DECLS
