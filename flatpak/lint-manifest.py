#!/usr/bin/env python3
"""Offline checks of the Flatpak manifest (TAP), for the `data` suite.

    lint-manifest.py SOURCE_DIR [MANIFEST]     (MANIFEST: another manifest to check, for the
                                                lint's own tests; default the app's)

- flatpak-builder parses it with warnings fatal: an unknown key or source type fails;
- one app id across the manifest, the desktop file, the metainfo, the GSettings schema, the
  GResource prefix and the icons;
- every remote source is pinned (archive/file: sha256; git: commit);
- no permission Flathub refuses or that this app has no use for.
"""
import json
import os
import re
import subprocess
import sys

src = sys.argv[1]
manifest_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(src, "flatpak", "io.github.odd.Observatory.yml")
results = []


def check(ok, what, detail=""):
    results.append((bool(ok), what, detail))


env = dict(os.environ, G_DEBUG="fatal-warnings")
parsed = subprocess.run(["flatpak-builder", "--show-manifest", manifest_path],
                        capture_output=True, text=True, env=env)
check(parsed.returncode == 0, "flatpak-builder parses the manifest with warnings fatal",
      parsed.stderr.strip())
if parsed.returncode != 0:
    manifest = {}
else:
    manifest = json.loads(parsed.stdout)

app_id = manifest.get("id") or manifest.get("app-id", "")
check(re.fullmatch(r"[A-Za-z][\w-]*(\.[A-Za-z][\w-]*){2,}", app_id or ""),
      "the app id is reverse-DNS", app_id)


def read(*parts):
    with open(os.path.join(src, *parts), encoding="utf-8") as f:
        return f.read()


desktop = read("data", f"{app_id}.desktop.in")
metainfo = read("data", f"{app_id}.metainfo.xml.in")
schema = read("data", f"{app_id}.gschema.xml")
gresource = read("app", "gui", "odd-observatory.gresource.xml")
gui_meson = read("app", "gui", "meson.build")
check(re.search(r"^Icon=" + re.escape(app_id) + r"$", desktop, re.M), "the desktop file's Icon is the app id")
check(f"<id>{app_id}</id>" in metainfo, "the metainfo's <id> is the app id")
check(f'<launchable type="desktop-id">{app_id}.desktop</launchable>' in metainfo,
      "the metainfo launches the app id's desktop file")
check(re.search(r'<schema [^>]*id="' + re.escape(app_id) + '"', schema), "the GSettings schema id is the app id")
prefix = "/" + app_id.replace(".", "/")
check(f'prefix="{prefix}' in gresource, "the GResource prefix is the app id's path", prefix)
check(f"odd_app_id = '{app_id}'" in gui_meson, "the app's meson file uses the same app id")
for icon in (f"scalable/apps/{app_id}.svg", f"symbolic/apps/{app_id}-symbolic.svg"):
    check(os.path.exists(os.path.join(src, "data", "icons", "hicolor", icon)), f"icon {icon} exists")
check(manifest.get("command") == "odd-observatory", "the command is the installed binary")

unpinned = []
for module in manifest.get("modules", []):
    for s in module.get("sources", []):
        kind = s.get("type")
        if kind in ("archive", "file") and "url" in s and not re.fullmatch(r"[0-9a-f]{64}", s.get("sha256", "")):
            unpinned.append(f"{module['name']}: {s['url']}")
        if kind == "git" and not re.fullmatch(r"[0-9a-f]{40}", s.get("commit", "")):
            unpinned.append(f"{module['name']}: {s.get('url')} (no commit)")
check(not unpinned, "every remote source is pinned by sha256 or commit", "; ".join(unpinned))

forbidden = re.compile(r"^--(filesystem=(host|host-os|host-etc|home|/|/run)(:.*)?"
                       r"|talk-name=org\.freedesktop\.Flatpak|socket=session-bus|socket=system-bus"
                       r"|device=all|allow=devel)$")
bad = [a for a in manifest.get("finish-args", []) if forbidden.match(a)]
check(not bad, "no forbidden permission (host filesystem, org.freedesktop.Flatpak, whole buses)", " ".join(bad))
owned = [a.split("=", 1)[1] for a in manifest.get("finish-args", []) if a.startswith("--own-name=")]
foreign = [n for n in owned if not n.startswith(app_id)]
check(not foreign, "D-Bus names the app owns start with its id", " ".join(foreign))

print(f"1..{len(results)}")
for i, (ok, what, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {what}")
    if not ok and detail:
        for line in detail.splitlines():
            print(f"# {line}")
sys.exit(0 if all(ok for ok, _, _ in results) else 1)
