/* odd-stack-entry.h: one row of the stack's state (a component, a workload, a port-forward)
 *
 * Filled by OddStackMonitor from the control library's status answers; the Stack page only
 * shows it. Entries keep their identity across refreshes, so rows update in place.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  ODD_STACK_ENTRY_STOPPED,    /* not running (a forward: not forwarded) */
  ODD_STACK_ENTRY_UNHEALTHY,  /* running but not answering / not ready */
  ODD_STACK_ENTRY_HEALTHY,
  ODD_STACK_ENTRY_STANDBY,    /* running, not ready while another replica of it is: by design */
} OddStackEntryHealth;

GType odd_stack_entry_health_get_type (void) G_GNUC_CONST;
#define ODD_TYPE_STACK_ENTRY_HEALTH (odd_stack_entry_health_get_type ())

#define ODD_TYPE_STACK_ENTRY (odd_stack_entry_get_type ())
G_DECLARE_FINAL_TYPE (OddStackEntry, odd_stack_entry, ODD, STACK_ENTRY, GObject)

OddStackEntry       *odd_stack_entry_new        (const char          *name);

const char          *odd_stack_entry_get_name   (OddStackEntry       *self);
OddStackEntryHealth  odd_stack_entry_get_health (OddStackEntry       *self);
/* "pid 4242", "pod 1/1 ready · 2 restarts", or NULL */
const char          *odd_stack_entry_get_detail (OddStackEntry       *self);
guint                odd_stack_entry_get_port   (OddStackEntry       *self);
const char          *odd_stack_entry_get_url    (OddStackEntry       *self);

/* Each setter notifies only on a change. */
void                 odd_stack_entry_set_health (OddStackEntry       *self,
                                                 OddStackEntryHealth  health);
void                 odd_stack_entry_set_detail (OddStackEntry       *self,
                                                 const char          *detail);
void                 odd_stack_entry_set_port   (OddStackEntry       *self,
                                                 guint                port);
void                 odd_stack_entry_set_url    (OddStackEntry       *self,
                                                 const char          *url);

G_END_DECLS
