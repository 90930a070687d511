/* odd-read-model-docs.h: GET /docs, a self-contained API documentation page */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* HTML that fetches /openapi.json and renders it, with no external resources. */
const char *odd_read_model_docs_html (void);

G_END_DECLS
