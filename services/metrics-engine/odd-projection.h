/* odd-projection.h: applies folded events to Redis, guarded by the metrics:applied_seq watermark
 *
 * One Lua script applies a batch's increments and moves the watermark atomically, and only when
 * the watermark is exactly where the batch starts. A crash, a retry or a second copy of a batch
 * therefore can neither skip events nor count them twice.
 */
#pragma once

#include <hiredis/hiredis.h>

#include "odd-aggregates.h"

G_BEGIN_DECLS

typedef enum {
  ODD_PROJECTION_APPLIED,  /* watermark was @expect_prev: applied, now @new_seq */
  ODD_PROJECTION_ALREADY,  /* watermark already >= @new_seq: nothing done */
  ODD_PROJECTION_MISSING,  /* no watermark (Redis lost its data): nothing done, rebuild */
  ODD_PROJECTION_GAP,      /* watermark elsewhere: nothing done, replay from the watermark */
} OddProjectionResult;

const char *odd_projection_result_to_string (OddProjectionResult result);

gboolean odd_projection_apply           (redisContext         *ctx,
                                         OddAggregates        *aggregates,
                                         gint64                expect_prev,
                                         gint64                new_seq,
                                         OddProjectionResult  *result,
                                         GError              **error);
/* The format of the key space this engine writes (metrics:format). 2: the latency histogram
 * in ODD_KEY_LATENCY (odd-latency-histogram.h) replaced metrics:latency's 16 coarse buckets. */
#define ODD_PROJECTION_FORMAT "2"

/* @present FALSE when metrics:applied_seq does not exist, or when metrics:format is not
 * ODD_PROJECTION_FORMAT (an older engine's keys): both call for a rebuild. */
gboolean odd_projection_get_applied_seq (redisContext         *ctx,
                                         gint64               *seq,
                                         gboolean             *present,
                                         GError              **error);
/* Deletes every metrics:* key, then sets metrics:format and the watermark to 0 (last, so a
 * crash in between leaves it missing and the next start resets again). */
gboolean odd_projection_reset           (redisContext         *ctx,
                                         GError              **error);

G_END_DECLS
