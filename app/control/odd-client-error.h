/* odd-client-error.h: how a call of OddClient fails
 *
 * Every failure of a read-model or gateway call is an ODD_CLIENT_ERROR whose message says what
 * happened and what to do ("The read model at http://127.0.0.1:18080 is not answering. Start
 * the stack on the Stack page or with `oddctl local up`."), fit to show as is. Cancellation
 * stays G_IO_ERROR_CANCELLED. The error also carries, for views that word it their own way,
 * the HTTP status, the short reason (the server's "error" text with its first detail, or the
 * transport error) and the URL that was asked.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ODD_CLIENT_ERROR (odd_client_error_quark ())
GQuark odd_client_error_quark (void);

typedef enum
{
  ODD_CLIENT_ERROR_UNREACHABLE,  /* connection refused, no route, unknown host */
  ODD_CLIENT_ERROR_TIMEOUT,      /* no answer within the client's timeout */
  ODD_CLIENT_ERROR_BAD_REQUEST,  /* 400 or another 4xx: the server refused what was sent */
  ODD_CLIENT_ERROR_NOT_FOUND,    /* 404: no such job (or no such endpoint) */
  ODD_CLIENT_ERROR_CONFLICT,     /* 409: e.g. a retry of a job that is not FAILED */
  ODD_CLIENT_ERROR_UNAVAILABLE,  /* 503/504: the service is up but cannot serve now */
  ODD_CLIENT_ERROR_SERVER,       /* another 5xx */
  ODD_CLIENT_ERROR_BAD_ANSWER,   /* not JSON, or JSON that breaks its contract schema */
  ODD_CLIENT_ERROR_INVALID,      /* a bad argument or address, refused before sending */
} OddClientError;

/* The HTTP status of the answer, 0 when there was none. */
guint       odd_client_error_get_status  (const GError *error);
/* The short reason: the server's "error" (": path message" of its first detail appended), or
 * "HTTP 500 Internal Server Error", or the transport's message. NULL for other domains. */
const char *odd_client_error_get_reason  (const GError *error);
/* The URL that was asked, NULL when none. */
const char *odd_client_error_get_url     (const GError *error);

G_END_DECLS
