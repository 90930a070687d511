/* odd-ui-links.h: the other UIs of the system (contracts/ui-registry.json)
 *
 * The registry names the reference deployment's ports; odd_ui_link_resolve() says where each
 * UI is for the stack being shown: the gateway's and read model's docs at their endpoints,
 * Grafana, Prometheus, Alertmanager and the RabbitMQ console through the cluster's forwards.
 */
#pragma once

#include <glib.h>

#include "odd-stack-monitor.h"

G_BEGIN_DECLS

typedef struct
{
  char    *id;
  char    *name;
  char    *description;
  guint    port;
  char    *path;
} OddUiLink;

void       odd_ui_link_free    (OddUiLink       *link);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddUiLink, odd_ui_link_free)

/* GPtrArray of OddUiLink from @path (NULL: odd_contracts_dir()/ui-registry.json), checked
 * against its schema when the schemas are installed. */
GPtrArray *odd_ui_links_load   (const char      *path,
                                GError         **error);

/* The URL of @link for the stack @monitor shows, or NULL when that stack does not serve it
 * now (stopped, or a cluster UI without its forward); then @why (nullable) receives what to
 * do, e.g. "Start its port-forward first". */
char      *odd_ui_link_resolve (const OddUiLink *link,
                                OddStackMonitor *monitor,
                                char           **why);

G_END_DECLS
