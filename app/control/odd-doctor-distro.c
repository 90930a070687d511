#define G_LOG_DOMAIN "odd-doctor"

#include <string.h>

#include "odd-doctor.h"

const char *
odd_distro_to_string (OddDistro distro)
{
  switch (distro)
    {
    case ODD_DISTRO_DEBIAN:
      return "debian";
    case ODD_DISTRO_FEDORA:
      return "fedora";
    case ODD_DISTRO_ARCH:
      return "arch";
    case ODD_DISTRO_OPENSUSE:
      return "opensuse";
    case ODD_DISTRO_MACOS:
      return "macos";
    case ODD_DISTRO_UNKNOWN:
    default:
      return "unknown";
    }
}

const char *
odd_distro_package_manager (OddDistro distro)
{
  switch (distro)
    {
    case ODD_DISTRO_DEBIAN:
      return "apt";
    case ODD_DISTRO_FEDORA:
      return "dnf";
    case ODD_DISTRO_ARCH:
      return "pacman";
    case ODD_DISTRO_OPENSUSE:
      return "zypper";
    case ODD_DISTRO_MACOS:
      return "brew";
    case ODD_DISTRO_UNKNOWN:
    default:
      return NULL;
    }
}

static OddDistro
distro_from_id (const char *id)
{
  static const struct { const char *id; OddDistro distro; } ids[] = {
    { "debian", ODD_DISTRO_DEBIAN }, { "ubuntu", ODD_DISTRO_DEBIAN },
    { "linuxmint", ODD_DISTRO_DEBIAN }, { "pop", ODD_DISTRO_DEBIAN },
    { "raspbian", ODD_DISTRO_DEBIAN },
    { "fedora", ODD_DISTRO_FEDORA }, { "rhel", ODD_DISTRO_FEDORA },
    { "centos", ODD_DISTRO_FEDORA }, { "rocky", ODD_DISTRO_FEDORA },
    { "almalinux", ODD_DISTRO_FEDORA },
    { "arch", ODD_DISTRO_ARCH }, { "manjaro", ODD_DISTRO_ARCH },
    { "endeavouros", ODD_DISTRO_ARCH },
    { "opensuse", ODD_DISTRO_OPENSUSE }, { "suse", ODD_DISTRO_OPENSUSE },
    { "sles", ODD_DISTRO_OPENSUSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    if (g_str_equal (id, ids[i].id))
      return ids[i].distro;

  /* opensuse-leap, opensuse-tumbleweed */
  if (g_str_has_prefix (id, "opensuse"))
    return ODD_DISTRO_OPENSUSE;

  return ODD_DISTRO_UNKNOWN;
}

/* The value of KEY=value or KEY="value" (shell quoting, as os-release(5) says). */
static char *
unquote (const char *value)
{
  g_autoptr(GError) error = NULL;
  char *text = g_shell_unquote (value, &error);

  return text != NULL ? text : g_strdup (value);
}

OddDistro
odd_distro_from_os_release (const char  *contents,
                            char       **pretty_name)
{
  g_auto(GStrv) lines = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id_like = NULL;
  g_autofree char *pretty = NULL;
  OddDistro distro = ODD_DISTRO_UNKNOWN;

  if (contents == NULL)
    {
      if (pretty_name != NULL)
        *pretty_name = g_strdup ("macOS");
      return ODD_DISTRO_MACOS;
    }

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);

      if (g_str_has_prefix (line, "ID="))
        {
          g_free (id);
          id = unquote (line + 3);
        }
      else if (g_str_has_prefix (line, "ID_LIKE="))
        {
          g_free (id_like);
          id_like = unquote (line + 8);
        }
      else if (g_str_has_prefix (line, "PRETTY_NAME="))
        {
          g_free (pretty);
          pretty = unquote (line + 12);
        }
    }

  if (id != NULL)
    distro = distro_from_id (g_strstrip (id));

  /* A derivative names its parents in ID_LIKE, closest first. */
  if (distro == ODD_DISTRO_UNKNOWN && id_like != NULL)
    {
      g_auto(GStrv) likes = g_strsplit_set (id_like, " \t", -1);

      for (guint i = 0; likes[i] != NULL && distro == ODD_DISTRO_UNKNOWN; i++)
        if (*likes[i] != '\0')
          distro = distro_from_id (likes[i]);
    }

  if (pretty_name != NULL)
    *pretty_name = pretty != NULL ? g_steal_pointer (&pretty)
                   : g_strdup (id != NULL ? id : "Linux");

  return distro;
}

/* Download names use Go's architecture names. */
static const char *
go_arch (const char *arch)
{
  if (arch != NULL && (g_str_equal (arch, "aarch64") || g_str_equal (arch, "arm64")))
    return "arm64";
  return "amd64";
}

static char *
kubectl_download (const char *arch)
{
  const char *a = go_arch (arch);

  return g_strdup_printf ("curl -fsSLo kubectl \"https://dl.k8s.io/release/$(curl -fsSL "
                          "https://dl.k8s.io/release/stable.txt)/bin/linux/%s/kubectl\" && "
                          "sudo install -m 0755 kubectl /usr/local/bin/kubectl && rm kubectl", a);
}

static char *
kind_download (const char *arch)
{
  return g_strdup_printf ("curl -fsSLo kind https://kind.sigs.k8s.io/dl/v%s/kind-linux-%s && "
                          "sudo install -m 0755 kind /usr/local/bin/kind && rm kind",
                          ODD_DOCTOR_MIN_KIND, go_arch (arch));
}

char *
odd_doctor_fix_command (OddDistro   distro,
                        const char *what,
                        const char *arch)
{
  /* Package names per distribution, in the order debian, fedora, arch, opensuse, macos. */
  static const struct {
    const char *what;
    const char *packages[5];
  } packages[] = {
    { "docker", { "docker.io", "moby-engine", "docker", "docker", "--cask docker" } },
    { "postgres", { "postgresql", "postgresql-server", "postgresql", "postgresql-server",
                    "postgresql@15" } },
    { "redis", { "redis-server", "redis", "redis", "redis", "redis" } },
    { "rabbitmq", { "rabbitmq-server", "rabbitmq-server", "rabbitmq", "rabbitmq-server",
                    "rabbitmq" } },
    { "kubectl", { NULL, "kubernetes-client", "kubectl", "kubernetes-client", "kubectl" } },
    { "kind", { NULL, NULL, "kind", "kind", "kind" } },
  };
  static const char *install[] = {
    "sudo apt-get install -y ", "sudo dnf install -y ", "sudo pacman -S --noconfirm ",
    "sudo zypper install -y ", "brew install ",
  };
  int column;

  g_return_val_if_fail (what != NULL, NULL);

  switch (distro)
    {
    case ODD_DISTRO_DEBIAN: column = 0; break;
    case ODD_DISTRO_FEDORA: column = 1; break;
    case ODD_DISTRO_ARCH: column = 2; break;
    case ODD_DISTRO_OPENSUSE: column = 3; break;
    case ODD_DISTRO_MACOS: column = 4; break;
    case ODD_DISTRO_UNKNOWN:
    default: column = -1; break;
    }

  if (g_str_equal (what, "docker-daemon"))
    return g_strdup (distro == ODD_DISTRO_MACOS ? "open -a Docker"
                     : "sudo systemctl enable --now docker");
  if (g_str_equal (what, "docker-socket"))
    return distro == ODD_DISTRO_MACOS ? NULL
           : g_strdup ("sudo usermod -aG docker $USER && newgrp docker");

  /* Where the distribution has no package, the upstream binaries work on any Linux. */
  if (column < 0 || distro != ODD_DISTRO_MACOS)
    {
      if (g_str_equal (what, "kubectl") && (column < 0 || packages[4].packages[column] == NULL))
        return kubectl_download (arch);
      if (g_str_equal (what, "kind") && (column < 0 || packages[5].packages[column] == NULL))
        return kind_download (arch);
    }

  if (column < 0)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (packages); i++)
    if (g_str_equal (what, packages[i].what))
      {
        const char *package = packages[i].packages[column];

        if (package == NULL)
          return NULL;
        return g_strconcat (install[column], package, NULL);
      }

  return NULL;
}
