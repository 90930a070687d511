/* odd-stack-page.h: the Stack page: local stack or kind cluster, start/stop with progress,
 * each component's health, the cluster's port-forwards and links to the other UIs */
#pragma once

#include <adwaita.h>

#include "odd-stack-monitor.h"

G_BEGIN_DECLS

#define ODD_TYPE_STACK_PAGE (odd_stack_page_get_type ())
G_DECLARE_FINAL_TYPE (OddStackPage, odd_stack_page, ODD, STACK_PAGE, AdwBin)

GtkWidget       *odd_stack_page_new         (OddStackMonitor *monitor);
OddStackMonitor *odd_stack_page_get_monitor (OddStackPage    *self);
/* The step log's text (what the progress stream said) */
char            *odd_stack_page_dup_log     (OddStackPage    *self);

G_END_DECLS
