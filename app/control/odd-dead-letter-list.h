/* odd-dead-letter-list.h: the stored dead letters, as a GListModel of OddDeadLetter
 *
 * GET /dlq has no cursor: a refresh loads the newest "limit" letters (of "queue", NULL for
 * both; only those not replayed or retried yet when "pending") and replaces the list's items;
 * "total" tells how many match in all.
 */
#pragma once

#include <gio/gio.h>

#include "odd-client.h"

G_BEGIN_DECLS

#define ODD_DEAD_LETTER_LIST_DEFAULT_LIMIT 500

#define ODD_TYPE_DEAD_LETTER_LIST (odd_dead_letter_list_get_type ())
G_DECLARE_FINAL_TYPE (OddDeadLetterList, odd_dead_letter_list, ODD, DEAD_LETTER_LIST, GObject)

/* Properties: "client", "queue", "pending", "limit", read-only "total", "loading" and "n-items". */
OddDeadLetterList *odd_dead_letter_list_new             (OddClient            *client);
OddClient         *odd_dead_letter_list_get_client      (OddDeadLetterList    *self);
const char        *odd_dead_letter_list_get_queue       (OddDeadLetterList    *self);
void               odd_dead_letter_list_set_queue       (OddDeadLetterList    *self,
                                                         const char           *queue);
gboolean           odd_dead_letter_list_get_pending     (OddDeadLetterList    *self);
void               odd_dead_letter_list_set_pending     (OddDeadLetterList    *self,
                                                         gboolean              pending);
guint              odd_dead_letter_list_get_limit       (OddDeadLetterList    *self);
void               odd_dead_letter_list_set_limit       (OddDeadLetterList    *self,
                                                         guint                 limit);
gint64             odd_dead_letter_list_get_total       (OddDeadLetterList    *self);
gboolean           odd_dead_letter_list_get_loading     (OddDeadLetterList    *self);

void               odd_dead_letter_list_refresh_async   (OddDeadLetterList    *self,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gboolean           odd_dead_letter_list_refresh_finish  (OddDeadLetterList    *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);

G_END_DECLS
