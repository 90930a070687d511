/* odd-component-row.h: one OddStackEntry (component, workload or port-forward) as a row */
#pragma once

#include <adwaita.h>

#include "odd-stack-entry.h"

G_BEGIN_DECLS

#define ODD_TYPE_COMPONENT_ROW (odd_component_row_get_type ())
G_DECLARE_FINAL_TYPE (OddComponentRow, odd_component_row, ODD, COMPONENT_ROW, AdwActionRow)

/* @forward: the row of a port-forward, with a Start or Stop button (stack.forward-start and
 * stack.forward-stop, with the entry's name). */
GtkWidget     *odd_component_row_new       (OddStackEntry   *entry,
                                            gboolean         forward);
OddStackEntry *odd_component_row_get_entry (OddComponentRow *self);

G_END_DECLS
