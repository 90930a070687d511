/* odd-dashboard-page.h: counters and live charts of the system, from the read model */
#pragma once

#include <adwaita.h>

#include "odd-client.h"

G_BEGIN_DECLS

#define ODD_TYPE_DASHBOARD_PAGE (odd_dashboard_page_get_type ())
G_DECLARE_FINAL_TYPE (OddDashboardPage, odd_dashboard_page, ODD, DASHBOARD_PAGE, AdwBin)

/* Properties: "client" (OddClient), "refresh-interval" (seconds), "window-minutes" (1, 5, 15
 * or 60), "reachable" (read only: the last poll got an answer). */
GtkWidget *odd_dashboard_page_new                  (OddClient        *client);
void       odd_dashboard_page_set_client           (OddDashboardPage *self,
                                                    OddClient        *client);
void       odd_dashboard_page_set_window_minutes   (OddDashboardPage *self,
                                                    guint             minutes);
guint      odd_dashboard_page_get_window_minutes   (OddDashboardPage *self);
gboolean   odd_dashboard_page_get_reachable        (OddDashboardPage *self);
/* Polls now (tests; the page polls by itself while shown). */
void       odd_dashboard_page_refresh              (OddDashboardPage *self);
/* "total", "completed", "failed", "in-flight", "throughput": the text shown. */
const char *odd_dashboard_page_get_counter         (OddDashboardPage *self,
                                                    const char       *name);
/* "throughput", "queues", "latency" */
GtkWidget  *odd_dashboard_page_get_chart           (OddDashboardPage *self,
                                                    const char       *name);

G_END_DECLS
