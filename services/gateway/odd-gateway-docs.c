/* odd-gateway-docs.c: the self-hosted API documentation page (/docs)
 *
 * A small hand-written HTML+JS page (data/docs.html) that fetches /openapi.json and renders
 * it, with a "Try it" form per operation. It loads nothing from other hosts, so the docs work
 * offline and behind a strict firewall.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "odd-gateway"

#include "odd-gateway-private.h"
#include "odd-gateway-resources.h"

#define DOCS_RESOURCE "/org/oddessentials/Observatory/gateway/docs.html"

const char *
odd_gateway_docs_html (void)
{
  static char *html = NULL;

  if (g_once_init_enter (&html))
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;

      bytes = g_resource_lookup_data (odd_gateway_get_resource (), DOCS_RESOURCE,
                                      G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      if (bytes == NULL)
        g_error ("Missing resource %s: %s", DOCS_RESOURCE, error->message);

      /* Resource data is NUL-terminated. */
      g_once_init_leave (&html, g_strdup (g_bytes_get_data (bytes, NULL)));
    }

  return html;
}
