"""Runs Braze's own bulk importer (braze-inc/growth-shares-lambda-user-csv-import, its app.py
unchanged, imported from the checkout at IMPORTER_DIR) on a local CSV: its S3 object is read from
the file instead, its SNS notice is dropped, and BRAZE_API_URL points it at the bench's loopback
stand-in for /users/track. Started by bench/importer.ts (`npm run bench -- --only importer`).

Usage: IMPORTER_DIR=... CSV_PATH=... BRAZE_API_URL=... python3 bench/importer/driver.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["IMPORTER_DIR"], "braze_user_csv_import"))
os.environ.setdefault("BRAZE_API_KEY", "bench-braze-key")
import app  # noqa: E402  (the importer reads its settings from the environment when imported)

with open(os.environ["CSV_PATH"], "rb") as csv_file:
    DATA = csv_file.read()


class Body:
    """What S3's GetObject Body offers the importer: chunks of the file."""

    def __init__(self, data):
        self.data = data

    def iter_chunks(self, chunk_size):
        for start in range(0, len(self.data), chunk_size):
            yield self.data[start:start + chunk_size]


class LocalObject:
    """What boto3's S3 Object offers the importer: its length, and a ranged read."""

    content_length = len(DATA)

    def get(self, Range):  # noqa: N803  (boto3's parameter name)
        start = int(Range.split("=")[1].rstrip("-"))
        return {"Body": Body(DATA[start:])}


class Context:
    function_name = "local"

    def get_remaining_time_in_millis(self):
        return 900_000


app._get_file_from_s3 = lambda bucket, key: LocalObject()
app._publish_message = lambda *args, **kwargs: None
result = app.lambda_handler({"Records": [{"s3": {"bucket": {"name": "local"}, "object": {"key": "users.csv"}}}]}, Context())
print(result["users_processed"])
