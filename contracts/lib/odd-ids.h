/* odd-ids.h: UUIDs and RFC 3339 timestamps, the two id formats of the contracts */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Namespace of the deterministic lifecycle event ids (docs/architecture.md). */
#define ODD_EVENT_NAMESPACE "6f1c3a52-8c3e-4a0f-9d7b-0dd0b5e2c001"

char     *odd_uuid_new                 (void);                 /* random, version 4, lower case */
char     *odd_uuid_v5                  (const char *namespace_uuid,
                                        const char *name);     /* SHA-1 name based, RFC 4122 */
gboolean  odd_uuid_is_valid            (const char *str);      /* 8-4-4-4-12 hex, any version */

/* RFC 3339 in UTC with milliseconds: 2026-01-02T03:04:05.678Z */
char     *odd_time_now_rfc3339         (void);
char     *odd_time_format_rfc3339      (gint64 unix_usec);
/* Accepts RFC 3339 date-time (JSON Schema "date-time"): offset or Z required. */
gboolean  odd_time_parse_rfc3339       (const char *str,
                                        gint64     *unix_usec);

G_END_DECLS
