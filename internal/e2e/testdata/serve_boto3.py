"""Reads through dx serve with boto3, as an application would.

Usage: serve_boto3.py ENDPOINT BUCKET KEY START END OUTDIR
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Writes
full.bin, range.bin, presigned.bin and presigned_v4.bin (the bytes read) and results.json
(what each call answered) into OUTDIR, for the Go test to check.
"""
import json
import os
import sys
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, bucket, key, start, end, outdir = sys.argv[1:7]
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=cfg)
out = {}


def code_of(call):
    """Runs call, returns the S3 error code and HTTP status it failed with."""
    try:
        call()
    except ClientError as e:
        return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
    return ["ok", 200]


def save(name, data):
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


ref = key.split("/")[0] + "/"
listing = s3.list_objects_v2(Bucket=bucket, Prefix=ref, Delimiter="/")
out["list_keys"] = [c["Key"] for c in listing.get("Contents", [])]
out["list_prefixes"] = [p["Prefix"] for p in listing.get("CommonPrefixes", [])]
out["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]

full = s3.get_object(Bucket=bucket, Key=key)
save("full.bin", full["Body"].read())
etag = full["ETag"]
out["etag"] = etag

part = s3.get_object(Bucket=bucket, Key=key, Range="bytes=%s-%s" % (start, end))
save("range.bin", part["Body"].read())
out["content_range"] = part["ContentRange"]

out["if_none_match"] = code_of(lambda: s3.get_object(Bucket=bucket, Key=key, IfNoneMatch=etag))
out["if_match_ok"] = code_of(lambda: s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"].read())
out["if_match_other"] = code_of(lambda: s3.get_object(Bucket=bucket, Key=key, IfMatch='"0000"'))

# boto3 presigns with Signature Version 2 unless told s3v4: both work.
s3v4 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                    config=cfg.merge(Config(signature_version="s3v4")))
for name, client, sig in [("presigned", s3, "&Signature="), ("presigned_v4", s3v4, "X-Amz-Signature=")]:
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    save(name + ".bin", urllib.request.urlopen(url).read())
    try:
        urllib.request.urlopen(url.replace(sig, sig + "0"))
        out[name + "_tampered"] = [200, ""]
    except urllib.error.HTTPError as e:
        out[name + "_tampered"] = [e.code, e.read().decode()]

out["missing_key"] = code_of(lambda: s3.get_object(Bucket=bucket, Key=ref + "no/such/file"))
out["missing_ref"] = code_of(lambda: s3.get_object(Bucket=bucket, Key="no-such-ref/" + key.split("/", 1)[1]))
out["missing_bucket"] = code_of(lambda: s3.list_objects_v2(Bucket="no-such-bucket"))
out["put"] = code_of(lambda: s3.put_object(Bucket=bucket, Key=ref + "new.txt", Body=b"x"))
out["delete"] = code_of(lambda: s3.delete_object(Bucket=bucket, Key=key))
out["multipart"] = code_of(lambda: s3.create_multipart_upload(Bucket=bucket, Key=ref + "big.bin"))
out["get_acl"] = code_of(lambda: s3.get_object_acl(Bucket=bucket, Key=key))

wrong = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=cfg,
                     aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong-secret")
out["wrong_secret"] = code_of(lambda: wrong.list_objects_v2(Bucket=bucket))
unknown = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=cfg,
                       aws_access_key_id="NOSUCHKEY", aws_secret_access_key="x")
out["unknown_key"] = code_of(lambda: unknown.list_objects_v2(Bucket=bucket))

with open(os.path.join(outdir, "results.json"), "w") as f:
    json.dump(out, f)
