#define G_LOG_DOMAIN "odd-client"

#include "odd-job-list.h"

struct _OddJobList
{
  GObject        parent_instance;
  OddClient     *client;
  OddJobStatus   status;
  char          *job_type;
  char          *text;
  gboolean       ascending;
  guint          page_size;

  GPtrArray     *items;        /* OddJob */
  char          *cursor;       /* of the next page */
  gboolean       has_more;
  GCancellable  *load;         /* the load in flight, NULL when none */
  GPtrArray     *waiting;      /* GTask: callers waiting for that load */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OddJobList, odd_job_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum
{
  PROP_0,
  PROP_CLIENT,
  PROP_STATUS,
  PROP_JOB_TYPE,
  PROP_TEXT,
  PROP_ASCENDING,
  PROP_PAGE_SIZE,
  PROP_LOADING,
  PROP_HAS_MORE,
  PROP_N_ITEMS,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

static GType
get_item_type (GListModel *model)
{
  return ODD_TYPE_JOB;
}

static guint
get_n_items (GListModel *model)
{
  return ODD_JOB_LIST (model)->items->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  OddJobList *self = ODD_JOB_LIST (model);

  return position < self->items->len ? g_object_ref (self->items->pdata[position]) : NULL;
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

/* Answers everyone who waits for the current load. */
static void
finish_load (OddJobList   *self,
             const GError *error)
{
  g_autoptr(GPtrArray) waiting = g_steal_pointer (&self->waiting);

  self->waiting = g_ptr_array_new_with_free_func (g_object_unref);
  g_clear_object (&self->load);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);

  for (guint i = 0; i < waiting->len; i++)
    {
      if (error != NULL)
        g_task_return_error (waiting->pdata[i], g_error_copy (error));
      else
        g_task_return_boolean (waiting->pdata[i], TRUE);
    }
}

void
odd_job_list_reset (OddJobList *self)
{
  guint removed;

  g_return_if_fail (ODD_IS_JOB_LIST (self));

  /* A page of the old search must not land in the new one; who waited for it hears so. */
  if (self->load != NULL)
    {
      g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                     "The search changed");

      g_cancellable_cancel (self->load);
      finish_load (self, error);
    }

  removed = self->items->len;
  g_ptr_array_set_size (self->items, 0);
  g_clear_pointer (&self->cursor, g_free);
  if (removed > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  if (!self->has_more)
    {
      self->has_more = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MORE]);
    }
}

static void
odd_job_list_dispose (GObject *object)
{
  OddJobList *self = ODD_JOB_LIST (object);

  if (self->load != NULL)
    g_cancellable_cancel (self->load);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (odd_job_list_parent_class)->dispose (object);
}

static void
odd_job_list_finalize (GObject *object)
{
  OddJobList *self = ODD_JOB_LIST (object);

  g_clear_object (&self->load);
  g_ptr_array_unref (self->waiting);
  g_ptr_array_unref (self->items);
  g_free (self->job_type);
  g_free (self->text);
  g_free (self->cursor);
  G_OBJECT_CLASS (odd_job_list_parent_class)->finalize (object);
}

static void
odd_job_list_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  OddJobList *self = ODD_JOB_LIST (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_JOB_TYPE:
      g_value_set_string (value, self->job_type);
      break;
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    case PROP_ASCENDING:
      g_value_set_boolean (value, self->ascending);
      break;
    case PROP_PAGE_SIZE:
      g_value_set_uint (value, self->page_size);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->load != NULL);
      break;
    case PROP_HAS_MORE:
      g_value_set_boolean (value, self->has_more);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->items->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_job_list_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  OddJobList *self = ODD_JOB_LIST (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    case PROP_STATUS:
      odd_job_list_set_status (self, g_value_get_enum (value));
      break;
    case PROP_JOB_TYPE:
      odd_job_list_set_job_type (self, g_value_get_string (value));
      break;
    case PROP_TEXT:
      odd_job_list_set_text (self, g_value_get_string (value));
      break;
    case PROP_ASCENDING:
      odd_job_list_set_ascending (self, g_value_get_boolean (value));
      break;
    case PROP_PAGE_SIZE:
      odd_job_list_set_page_size (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
odd_job_list_class_init (OddJobListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = odd_job_list_dispose;
  object_class->finalize = odd_job_list_finalize;
  object_class->get_property = odd_job_list_get_property;
  object_class->set_property = odd_job_list_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, ODD_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS] = g_param_spec_enum ("status", NULL, NULL, ODD_TYPE_JOB_STATUS,
                                               ODD_JOB_STATUS_UNKNOWN, rw);
  properties[PROP_JOB_TYPE] = g_param_spec_string ("job-type", NULL, NULL, NULL, rw);
  properties[PROP_TEXT] = g_param_spec_string ("text", NULL, NULL, NULL, rw);
  properties[PROP_ASCENDING] = g_param_spec_boolean ("ascending", NULL, NULL, FALSE, rw);
  properties[PROP_PAGE_SIZE] = g_param_spec_uint ("page-size", NULL, NULL, 1,
                                                  ODD_CLIENT_JOBS_PAGE_MAX,
                                                  ODD_JOB_LIST_DEFAULT_PAGE_SIZE, rw);
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE, ro);
  properties[PROP_HAS_MORE] = g_param_spec_boolean ("has-more", NULL, NULL, TRUE, ro);
  properties[PROP_N_ITEMS] = g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
odd_job_list_init (OddJobList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->waiting = g_ptr_array_new_with_free_func (g_object_unref);
  self->page_size = ODD_JOB_LIST_DEFAULT_PAGE_SIZE;
  self->has_more = TRUE;
}

OddJobList *
odd_job_list_new (OddClient *client)
{
  g_return_val_if_fail (ODD_IS_CLIENT (client), NULL);

  return g_object_new (ODD_TYPE_JOB_LIST, "client", client, NULL);
}

OddClient *
odd_job_list_get_client (OddJobList *self)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), NULL);
  return self->client;
}

OddJobStatus
odd_job_list_get_status (OddJobList *self)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), ODD_JOB_STATUS_UNKNOWN);
  return self->status;
}

void
odd_job_list_set_status (OddJobList   *self,
                         OddJobStatus  status)
{
  g_return_if_fail (ODD_IS_JOB_LIST (self));
  g_return_if_fail (status <= ODD_JOB_STATUS_FAILED);

  if (self->status == status)
    return;
  self->status = status;
  odd_job_list_reset (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

/* "" and NULL both mean no filter. */
static gboolean
set_filter (OddJobList *self,
            char      **field,
            const char *value)
{
  if (value != NULL && *value == '\0')
    value = NULL;
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  odd_job_list_reset (self);
  return TRUE;
}

const char *
odd_job_list_get_job_type (OddJobList *self)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), NULL);
  return self->job_type;
}

void
odd_job_list_set_job_type (OddJobList *self,
                           const char *job_type)
{
  g_return_if_fail (ODD_IS_JOB_LIST (self));

  if (set_filter (self, &self->job_type, job_type))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_JOB_TYPE]);
}

const char *
odd_job_list_get_text (OddJobList *self)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), NULL);
  return self->text;
}

void
odd_job_list_set_text (OddJobList *self,
                       const char *text)
{
  g_return_if_fail (ODD_IS_JOB_LIST (self));

  if (set_filter (self, &self->text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

gboolean
odd_job_list_get_ascending (OddJobList *self)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), FALSE);
  return self->ascending;
}

void
odd_job_list_set_ascending (OddJobList *self,
                            gboolean    ascending)
{
  g_return_if_fail (ODD_IS_JOB_LIST (self));

  ascending = !!ascending;
  if (self->ascending == ascending)
    return;
  self->ascending = ascending;
  odd_job_list_reset (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ASCENDING]);
}

guint
odd_job_list_get_page_size (OddJobList *self)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), 0);
  return self->page_size;
}

void
odd_job_list_set_page_size (OddJobList *self,
                            guint       page_size)
{
  g_return_if_fail (ODD_IS_JOB_LIST (self));
  g_return_if_fail (page_size >= 1 && page_size <= ODD_CLIENT_JOBS_PAGE_MAX);

  if (self->page_size == page_size)
    return;
  self->page_size = page_size;
  odd_job_list_reset (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAGE_SIZE]);
}

gboolean
odd_job_list_get_loading (OddJobList *self)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), FALSE);
  return self->load != NULL;
}

gboolean
odd_job_list_get_has_more (OddJobList *self)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), FALSE);
  return self->has_more;
}

typedef struct
{
  OddJobList   *self;
  GCancellable *load;
} PageRequest;

static void
on_page (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  PageRequest *request = user_data;
  g_autoptr(OddJobList) self = request->self;
  g_autoptr(GCancellable) load = request->load;
  g_autoptr(GError) error = NULL;
  g_autofree char *next_cursor = NULL;
  g_autoptr(GPtrArray) page = odd_client_search_jobs_finish (ODD_CLIENT (source), result,
                                                             &next_cursor, &error);
  guint position = self->items->len;

  g_free (request);

  /* The answer of a search that was reset meanwhile. */
  if (load != self->load)
    return;

  if (page == NULL)
    {
      finish_load (self, error);
      return;
    }

  for (guint i = 0; i < page->len; i++)
    g_ptr_array_add (self->items, g_object_ref (page->pdata[i]));
  g_free (self->cursor);
  self->cursor = g_steal_pointer (&next_cursor);
  if (page->len > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), position, 0, page->len);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  if (self->cursor == NULL)
    {
      self->has_more = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MORE]);
    }
  finish_load (self, NULL);
}

void
odd_job_list_load_more_async (OddJobList          *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  PageRequest *request;
  GTask *task;

  g_return_if_fail (ODD_IS_JOB_LIST (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, odd_job_list_load_more_async);

  if (!self->has_more)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  g_ptr_array_add (self->waiting, task);
  if (self->load != NULL)
    return;

  request = g_new0 (PageRequest, 1);
  request->self = g_object_ref (self);
  request->load = g_cancellable_new ();
  self->load = g_object_ref (request->load);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
  odd_client_search_jobs_async (self->client, self->status, self->job_type, self->text,
                                self->cursor, self->ascending, self->page_size, request->load,
                                on_page, request);
}

gboolean
odd_job_list_load_more_finish (OddJobList    *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (ODD_IS_JOB_LIST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
