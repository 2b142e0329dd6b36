#!/usr/bin/env python3
"""Generate src/attack/techniques.tsv from MITRE ATT&CK Enterprise STIX data.

Standard library only. The output is deterministic: the same input gives
byte-identical output (rows sorted by technique id, no timestamps).

INPUT
    PATH is either
      * a STIX bundle file, i.e. the published Enterprise bundle:
          mitre-attack/attack-stix-data  enterprise-attack/enterprise-attack-<VERSION>.json  (STIX 2.1)
          mitre/cti                      enterprise-attack/enterprise-attack.json            (STIX 2.0)
      * or a directory of per-object STIX files as laid out in mitre/cti
        (each file is a one-object bundle), e.g. enterprise-attack/attack-pattern/.
        Every *.json file below the directory is read.

    Both layouts carry the same attack-pattern objects; only the fields
    type, revoked, x_mitre_deprecated, x_mitre_domains, external_references,
    name, kill_chain_phases and x_mitre_platforms are used.

OUTPUT
    Comment lines starting with "# " (ATT&CK version, source, input SHA-256,
    columns, row count), then header-less TSV rows, one per technique and
    sub-technique that is neither revoked nor deprecated:

        id <TAB> name <TAB> tactics <TAB> platforms

    id        external_id of the "mitre-attack" external reference (T1059, T1059.001)
    name      the object's own name (for sub-techniques just the sub-technique name)
    tactics   comma-separated Sentinel tactic names, from kill_chain_phases with
              kill_chain_name "mitre-attack"; the phase name is converted to
              CamelCase (defense-evasion -> DefenseEvasion, command-and-control ->
              CommandAndControl, any new phase likewise, e.g. stealth -> Stealth).
              Known tactics are listed in ATT&CK matrix order, unknown ones after
              them in alphabetical order.
    platforms comma-separated x_mitre_platforms, sorted, duplicates removed.

    Tabs, carriage returns and newlines inside fields are replaced by spaces.

VERSION
    Taken from the bundle's x-mitre-collection object (x_mitre_version), else
    from a file name like enterprise-attack-18.1.json, else from
    --attack-version (required then; an explicit value that contradicts the
    collection object is an error).

INPUT SHA-256
    For a bundle file: SHA-256 of the file's bytes (as `sha256sum FILE`).
    For a directory: SHA-256 of the sha256sum-style manifest
    "<hex>  <relative/posix/path>\\n" of every *.json file, sorted by path, i.e.
        (cd DIR && find . -type f -name '*.json' | sed 's|^\\./||' \\
            | LC_ALL=C sort | xargs sha256sum) | sha256sum

USAGE
    python3 tools/attack/generate.py [--out FILE] [--source TEXT]
        [--attack-version X.Y] PATH

    --out FILE           write to FILE instead of stdout
    --source TEXT        provenance recorded in the header (repository, path,
                         commit); default: the input's base name
    --attack-version V   ATT&CK release, when the input does not say it

REGENERATING THE COMMITTED FILE (ATT&CK v18.1)
    The published bundle files were not available when this was generated
    (only a repository snapshot without its large files was), so the committed
    TSV was produced from the per-object files of the mitre/cti commit titled
    "ATT&CK v18.1 Enterprise", which are the same release's attack-pattern
    objects; input_sha256 is then the directory digest described above:

        git clone https://github.com/mitre/cti /tmp/cti-repo
        mkdir -p /tmp/cti
        git -C /tmp/cti-repo archive 421deacb77191b38bdd1bf63268954e93da91365 \\
            enterprise-attack/attack-pattern | tar -x -C /tmp/cti
        python3 tools/attack/generate.py --attack-version 18.1 \\
            --source 'github.com/mitre/cti enterprise-attack/attack-pattern/ @ 421deacb77191b38bdd1bf63268954e93da91365 (commit "ATT&CK v18.1 Enterprise")' \\
            /tmp/cti/enterprise-attack/attack-pattern > src/attack/techniques.tsv

    With a published bundle instead (version read from the bundle):

        python3 tools/attack/generate.py \\
            --source 'github.com/mitre-attack/attack-stix-data enterprise-attack/enterprise-attack-18.1.json @ <commit>' \\
            /tmp/enterprise-attack-18.1.json > src/attack/techniques.tsv
"""

import argparse
import hashlib
import json
import os
import re
import sys

# ATT&CK Enterprise matrix order of the tactics (Sentinel spelling).
TACTIC_ORDER = [
    "Reconnaissance",
    "ResourceDevelopment",
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "CommandAndControl",
    "Exfiltration",
    "Impact",
]
TACTIC_RANK = {name: i for i, name in enumerate(TACTIC_ORDER)}

TECHNIQUE_ID = re.compile(r"^T(\d{4})(?:\.(\d{3}))?$")
FILE_VERSION = re.compile(r"enterprise-attack-(\d+(?:\.\d+)*)\.json$")


class InputError(Exception):
    pass


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def json_files(directory):
    """Relative POSIX paths of every *.json file below directory, sorted."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            if name.endswith(".json"):
                rel = os.path.relpath(os.path.join(root, name), directory)
                found.append(rel.replace(os.sep, "/"))
    found.sort()
    return found


def load_bundle(path):
    with open(path, "rb") as f:
        try:
            data = json.loads(f.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise InputError("%s: not JSON: %s" % (path, e))
    if isinstance(data, dict) and data.get("type") == "bundle":
        objects = data.get("objects") or []
    elif isinstance(data, dict) and "type" in data and "id" in data:
        objects = [data]  # a bare STIX object
    else:
        raise InputError("%s: not a STIX bundle" % path)
    if not isinstance(objects, list):
        raise InputError("%s: bundle objects is not a list" % path)
    return objects


def load_input(path):
    """Return (objects, input_sha256, description)."""
    if os.path.isdir(path):
        files = json_files(path)
        if not files:
            raise InputError("%s: no *.json files" % path)
        manifest = []
        objects = []
        for rel in files:
            full = os.path.join(path, *rel.split("/"))
            manifest.append("%s  %s\n" % (sha256_file(full), rel))
            objects.extend(load_bundle(full))
        digest = hashlib.sha256("".join(manifest).encode("utf-8")).hexdigest()
        desc = "directory %s/ (%d STIX files; sha256 of their sorted sha256sum manifest)" % (
            os.path.basename(os.path.normpath(path)),
            len(files),
        )
        return objects, digest, desc
    if os.path.isfile(path):
        return load_bundle(path), sha256_file(path), "file %s" % os.path.basename(path)
    raise InputError("%s: no such file or directory" % path)


def dedupe_objects(objects):
    """One object per STIX id; the most recently modified wins."""
    by_id = {}
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        oid = obj.get("id")
        if not isinstance(oid, str):
            continue
        prev = by_id.get(oid)
        if prev is None or str(obj.get("modified", "")) > str(prev.get("modified", "")):
            by_id[oid] = obj
    return [by_id[k] for k in sorted(by_id)]


def collection_version(objects):
    versions = sorted(
        {
            str(o["x_mitre_version"])
            for o in objects
            if o.get("type") == "x-mitre-collection" and o.get("x_mitre_version")
        }
    )
    if len(versions) > 1:
        raise InputError("several x-mitre-collection versions: %s" % ", ".join(versions))
    return versions[0] if versions else None


def clean(text):
    return re.sub(r"[\t\r\n]+", " ", str(text)).strip()


def tactic_name(phase):
    """kill-chain phase name -> Sentinel tactic name (CamelCase)."""
    parts = [p for p in re.split(r"[-_\s]+", phase.strip()) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def tactic_key(name):
    return (0, TACTIC_RANK[name], "") if name in TACTIC_RANK else (1, 0, name)


def technique_key(tid):
    m = TECHNIQUE_ID.match(tid)
    if m:
        return (0, int(m.group(1)), int(m.group(2) or -1), tid)
    return (1, 0, 0, tid)


def is_true(value):
    return value is True or (isinstance(value, str) and value.lower() == "true")


def technique_rows(objects, warn):
    rows = []
    for obj in objects:
        if obj.get("type") != "attack-pattern":
            continue
        if is_true(obj.get("revoked")) or is_true(obj.get("x_mitre_deprecated")):
            continue
        domains = obj.get("x_mitre_domains")
        if isinstance(domains, list) and domains and "enterprise-attack" not in domains:
            continue
        ids = sorted(
            {
                ref["external_id"]
                for ref in obj.get("external_references") or []
                if isinstance(ref, dict)
                and ref.get("source_name") == "mitre-attack"
                and ref.get("external_id")
            }
        )
        if not ids:
            warn("skipping %s: no mitre-attack external_id" % obj.get("id"))
            continue
        if len(ids) > 1:
            raise InputError("%s has several mitre-attack ids: %s" % (obj.get("id"), ", ".join(ids)))
        tid = clean(ids[0])
        if not TECHNIQUE_ID.match(tid):
            warn("unexpected technique id %r on %s" % (tid, obj.get("id")))

        tactics = sorted(
            {
                tactic_name(p["phase_name"])
                for p in obj.get("kill_chain_phases") or []
                if isinstance(p, dict)
                and p.get("kill_chain_name") == "mitre-attack"
                and p.get("phase_name")
            },
            key=tactic_key,
        )
        platforms = sorted({clean(p) for p in obj.get("x_mitre_platforms") or [] if clean(p)})
        # Commas separate list items; none occur in ATT&CK names, but keep the
        # columns parseable if one ever did.
        tactics = [t.replace(",", " ") for t in tactics]
        platforms = [p.replace(",", " ") for p in platforms]
        rows.append((tid, clean(obj.get("name", "")), ",".join(tactics), ",".join(platforms)))

    rows.sort(key=lambda r: technique_key(r[0]))
    seen = set()
    for r in rows:
        if r[0] in seen:
            raise InputError("duplicate technique id %s among active techniques" % r[0])
        seen.add(r[0])
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Extract ATT&CK Enterprise techniques to TSV (see module docstring)."
    )
    ap.add_argument("path", help="enterprise-attack bundle file, or directory of STIX object files")
    ap.add_argument("--out", help="output file (default: stdout)")
    ap.add_argument("--source", help="provenance for the header: repository, path, commit")
    ap.add_argument("--attack-version", help="ATT&CK release, if the input does not carry it")
    args = ap.parse_args(argv)

    def warn(msg):
        sys.stderr.write("generate.py: warning: %s\n" % msg)

    try:
        raw, digest, desc = load_input(args.path)
        objects = dedupe_objects(raw)
        version = collection_version(objects)
        if version is None:
            m = FILE_VERSION.search(os.path.basename(os.path.normpath(args.path)))
            version = m.group(1) if m else None
            if version and args.attack_version and version != args.attack_version:
                raise InputError(
                    "--attack-version %s contradicts the file name (%s)" % (args.attack_version, version)
                )
        elif args.attack_version and args.attack_version != version:
            raise InputError(
                "--attack-version %s contradicts x-mitre-collection x_mitre_version %s"
                % (args.attack_version, version)
            )
        version = version or args.attack_version
        if not version:
            raise InputError("cannot tell the ATT&CK version: pass --attack-version")
        rows = technique_rows(objects, warn)
        if not rows:
            raise InputError("no techniques found")
    except (InputError, OSError) as e:
        sys.stderr.write("generate.py: error: %s\n" % e)
        return 1

    source = clean(args.source) if args.source else os.path.basename(os.path.normpath(args.path))
    lines = [
        "# MITRE ATT&CK Enterprise techniques and sub-techniques, neither revoked nor deprecated.",
        "# Generated by tools/attack/generate.py; do not edit by hand (see that script to regenerate).",
        "# attack_version: %s" % clean(version),
        "# source: %s" % source,
        "# input: %s" % desc,
        "# input_sha256: %s" % digest,
        "# columns: id, name, tactics, platforms (tab-separated; tactics and platforms comma-separated)",
        "# rows: %d" % len(rows),
        "# ATT&CK(R) is a registered trademark of The MITRE Corporation. (c) The MITRE Corporation;",
        "# reproduced and distributed with the permission of The MITRE Corporation (ATT&CK Terms of Use).",
    ]
    lines.extend("\t".join(r) for r in rows)
    data = ("\n".join(lines) + "\n").encode("utf-8")

    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, args.out)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
