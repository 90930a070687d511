#define G_LOG_DOMAIN "odd-client"

#include "odd-dead-letter-list.h"

struct _OddDeadLetterList
{
  GObject        parent_instance;
  OddClient     *client;
  char          *queue;
  gboolean       pending;
  guint          limit;
  gint64         total;
  GPtrArray     *items;    /* OddDeadLetter */
  GCancellable  *load;     /* the refresh in flight, NULL when none */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OddDeadLetterList, odd_dead_letter_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum { PROP_0, PROP_CLIENT, PROP_QUEUE, PROP_PENDING, PROP_LIMIT, PROP_TOTAL, PROP_LOADING, PROP_N_ITEMS, N_PROPS };
static GParamSpec *properties[N_PROPS];

static GType
get_item_type (GListModel *model)
{
  return ODD_TYPE_DEAD_LETTER;
}

static guint
get_n_items (GListModel *model)
{
  return ODD_DEAD_LETTER_LIST (model)->items->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  OddDeadLetterList *self = ODD_DEAD_LETTER_LIST (model);

  return position < self->items->len ? g_object_ref (self->items->pdata[position]) : NULL;
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
odd_dead_letter_list_dispose (GObject *object)
{
  OddDeadLetterList *self = ODD_DEAD_LETTER_LIST (object);

  if (self->load != NULL)
    g_cancellable_cancel (self->load);
  g_clear_object (&self->load);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (odd_dead_letter_list_parent_class)->dispose (object);
}

static void
odd_dead_letter_list_finalize (GObject *object)
{
  OddDeadLetterList *self = ODD_DEAD_LETTER_LIST (object);

  g_ptr_array_unref (self->items);
  g_free (self->queue);
  G_OBJECT_CLASS (odd_dead_letter_list_parent_class)->finalize (object);
}

static void
odd_dead_letter_list_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  OddDeadLetterList *self = ODD_DEAD_LETTER_LIST (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_QUEUE:
      g_value_set_string (value, self->queue);
      break;
    case PROP_PENDING:
      g_value_set_boolean (value, self->pending);
      break;
    case PROP_LIMIT:
      g_value_set_uint (value, self->limit);
      break;
    case PROP_TOTAL:
      g_value_set_int64 (value, self->total);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->load != NULL);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->items->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_dead_letter_list_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  OddDeadLetterList *self = ODD_DEAD_LETTER_LIST (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    case PROP_QUEUE:
      odd_dead_letter_list_set_queue (self, g_value_get_string (value));
      break;
    case PROP_PENDING:
      odd_dead_letter_list_set_pending (self, g_value_get_boolean (value));
      break;
    case PROP_LIMIT:
      odd_dead_letter_list_set_limit (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_dead_letter_list_class_init (OddDeadLetterListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = odd_dead_letter_list_dispose;
  object_class->finalize = odd_dead_letter_list_finalize;
  object_class->get_property = odd_dead_letter_list_get_property;
  object_class->set_property = odd_dead_letter_list_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, ODD_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUEUE] = g_param_spec_string ("queue", NULL, NULL, NULL, rw);
  properties[PROP_PENDING] = g_param_spec_boolean ("pending", NULL, NULL, FALSE, rw);
  properties[PROP_LIMIT] = g_param_spec_uint ("limit", NULL, NULL, 1, ODD_CLIENT_DLQ_LIMIT_MAX,
                                              ODD_DEAD_LETTER_LIST_DEFAULT_LIMIT, rw);
  properties[PROP_TOTAL] = g_param_spec_int64 ("total", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE, ro);
  properties[PROP_N_ITEMS] = g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_dead_letter_list_init (OddDeadLetterList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->limit = ODD_DEAD_LETTER_LIST_DEFAULT_LIMIT;
}

OddDeadLetterList *
odd_dead_letter_list_new (OddClient *client)
{
  g_return_val_if_fail (ODD_IS_CLIENT (client), NULL);

  return g_object_new (ODD_TYPE_DEAD_LETTER_LIST, "client", client, NULL);
}

OddClient *
odd_dead_letter_list_get_client (OddDeadLetterList *self)
{
  g_return_val_if_fail (ODD_IS_DEAD_LETTER_LIST (self), NULL);
  return self->client;
}

const char *
odd_dead_letter_list_get_queue (OddDeadLetterList *self)
{
  g_return_val_if_fail (ODD_IS_DEAD_LETTER_LIST (self), NULL);
  return self->queue;
}

void
odd_dead_letter_list_set_queue (OddDeadLetterList *self,
                                const char        *queue)
{
  g_return_if_fail (ODD_IS_DEAD_LETTER_LIST (self));

  if (queue != NULL && *queue == '\0')
    queue = NULL;
  if (g_strcmp0 (self->queue, queue) == 0)
    return;
  g_free (self->queue);
  self->queue = g_strdup (queue);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUEUE]);
}

gboolean
odd_dead_letter_list_get_pending (OddDeadLetterList *self)
{
  g_return_val_if_fail (ODD_IS_DEAD_LETTER_LIST (self), FALSE);
  return self->pending;
}

void
odd_dead_letter_list_set_pending (OddDeadLetterList *self,
                                  gboolean           pending)
{
  g_return_if_fail (ODD_IS_DEAD_LETTER_LIST (self));

  pending = !!pending;
  if (self->pending == pending)
    return;
  self->pending = pending;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
}

guint
odd_dead_letter_list_get_limit (OddDeadLetterList *self)
{
  g_return_val_if_fail (ODD_IS_DEAD_LETTER_LIST (self), 0);
  return self->limit;
}

void
odd_dead_letter_list_set_limit (OddDeadLetterList *self,
                                guint              limit)
{
  g_return_if_fail (ODD_IS_DEAD_LETTER_LIST (self));
  g_return_if_fail (limit >= 1 && limit <= ODD_CLIENT_DLQ_LIMIT_MAX);

  if (self->limit == limit)
    return;
  self->limit = limit;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LIMIT]);
}

gint64
odd_dead_letter_list_get_total (OddDeadLetterList *self)
{
  g_return_val_if_fail (ODD_IS_DEAD_LETTER_LIST (self), 0);
  return self->total;
}

gboolean
odd_dead_letter_list_get_loading (OddDeadLetterList *self)
{
  g_return_val_if_fail (ODD_IS_DEAD_LETTER_LIST (self), FALSE);
  return self->load != NULL;
}

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  OddDeadLetterList *self = g_task_get_source_object (task);
  GCancellable *load = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gint64 total = 0;
  g_autoptr(GPtrArray) items = odd_client_get_dead_letters_finish (ODD_CLIENT (source), result,
                                                                   &total, &error);
  guint removed;

  /* Only the newest refresh lands. */
  if (load == self->load)
    {
      g_clear_object (&self->load);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
    }
  if (items == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_cancellable_is_cancelled (load))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "A newer refresh replaced this one");
      return;
    }

  removed = self->items->len;
  g_ptr_array_set_size (self->items, 0);
  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (self->items, g_object_ref (items->pdata[i]));
  g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, self->items->len);
  if (removed != self->items->len)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
  if (self->total != total)
    {
      self->total = total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL]);
    }
  g_task_return_boolean (task, TRUE);
}

void
odd_dead_letter_list_refresh_async (OddDeadLetterList   *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (ODD_IS_DEAD_LETTER_LIST (self));

  /* A newer refresh wins over one in flight. */
  if (self->load != NULL)
    g_cancellable_cancel (self->load);
  g_clear_object (&self->load);
  self->load = g_cancellable_new ();

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, odd_dead_letter_list_refresh_async);
  g_task_set_task_data (task, g_object_ref (self->load), g_object_unref);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
  odd_client_get_dead_letters_async (self->client, self->queue, self->pending, self->limit, self->load,
                                     on_loaded, task);
}

gboolean
odd_dead_letter_list_refresh_finish (OddDeadLetterList  *self,
                                     GAsyncResult       *result,
                                     GError            **error)
{
  g_return_val_if_fail (ODD_IS_DEAD_LETTER_LIST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
