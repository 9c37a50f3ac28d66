// Reads through dx serve with the AWS SDK for JavaScript, as an
// application would.
//
// Usage: node read.mjs ENDPOINT BUCKET KEY START END OUTDIR
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Writes
// full.bin and range.bin (the bytes read) and results.json (what each call
// answered) into OUTDIR, for the Go test to check.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  S3Client, ListBucketsCommand, ListObjectsV2Command, GetObjectCommand, HeadObjectCommand, PutObjectCommand,
} from "@aws-sdk/client-s3";

const [endpoint, bucket, key, start, end, outdir] = process.argv.slice(2);
const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1 });
const out = {};

// codeOf runs a call and returns the error name and HTTP status it failed with.
async function codeOf(call) {
  try {
    await call();
    return ["ok", 200];
  } catch (e) {
    return [e.name, e.$metadata?.httpStatusCode ?? 0];
  }
}

const ref = key.split("/")[0] + "/";
const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: ref, Delimiter: "/" }));
out.list_keys = (listing.Contents ?? []).map((c) => c.Key);
out.list_prefixes = (listing.CommonPrefixes ?? []).map((p) => p.Prefix);
out.buckets = (await s3.send(new ListBucketsCommand({}))).Buckets.map((b) => b.Name);

const full = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
writeFileSync(join(outdir, "full.bin"), await full.Body.transformToByteArray());
out.etag = full.ETag;
const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }));
writeFileSync(join(outdir, "range.bin"), await part.Body.transformToByteArray());
out.content_range = part.ContentRange;
const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
out.head_length = head.ContentLength;
out.if_none_match = await codeOf(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: full.ETag })));
out.missing_key = await codeOf(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: ref + "no/such/file" })));
out.put = await codeOf(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: ref + "new.txt", Body: "x" })));
writeFileSync(join(outdir, "results.json"), JSON.stringify(out));
