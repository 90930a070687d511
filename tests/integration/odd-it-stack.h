/* odd-it-stack.h: the one stack a test program runs against
 *
 * Normally the local-stack fixture (tests/integration/fixture, libodd_test_stack): real
 * PostgreSQL, Redis and RabbitMQ servers in a temporary directory plus the four services.
 * With ODD_IT_EXTERNAL=1 the URLs come from ODD_IT_{GATEWAY,READ_MODEL,POSTGRES,REDIS}_URL
 * instead (a stack someone started by hand); fault injection is then unavailable.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OddItStack OddItStack;

OddItStack *odd_it_stack_start   (GError    **error);
/* The same with replicas ("processor=3,metrics-engine=2", as `oddctl local up --replicas`);
 * in the external mode the stack is what it is. */
OddItStack *odd_it_stack_start_with_replicas (const char  *replicas,
                                              GError     **error);
void        odd_it_stack_stop    (OddItStack *stack);
/* "gateway", "read-model", "postgres", "redis", "rabbitmq"; with the fixture any component,
 * replicas included ("processor-2") */
const char *odd_it_stack_url     (OddItStack *stack,
                                  const char *name);
gboolean    odd_it_stack_can_inject_faults (OddItStack *stack);
/* The pid of a running component, or 0 (always 0 in the external mode). */
GPid        odd_it_stack_pid     (OddItStack *stack,
                                  const char *name);
gboolean    odd_it_stack_kill    (OddItStack *stack,
                                  const char *name,
                                  int         signum,
                                  GError    **error);
gboolean    odd_it_stack_restart (OddItStack *stack,
                                  const char *name,
                                  GError    **error);
gboolean    odd_it_stack_up      (OddItStack *stack,
                                  GError    **error);
/* The length limit of jobs.created (RabbitMQ policy; 0 = none); needs the fixture. */
gboolean    odd_it_stack_set_queue_limit (OddItStack *stack,
                                          gint64      max_length,
                                          GError    **error);

G_END_DECLS
