"""Object-store specifics of the repository: S3 conditional writes of labels.json."""
from __future__ import annotations

import json
from collections.abc import Callable

import fsspec
import fsspec.asyn

from ..errors import RepositoryError

MAX_ATTEMPTS = 1000


def is_s3(fs: fsspec.AbstractFileSystem) -> bool:
    return "s3" in (fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,))


def update_labels_s3(fs: fsspec.AbstractFileSystem, path: str, change: Callable[[dict[str, int]], dict[str, int]],
                     parse: Callable[[bytes], dict[str, int]]) -> None:
    """Read-modify-write of labels.json as a conditional PUT, retried when someone wrote in between.

    ``parse`` turns the stored bytes into labels (it may salvage a corrupt file as {}).
    """
    from botocore.exceptions import ClientError

    bucket, key, _ = fs.split_path(path)
    for _ in range(MAX_ATTEMPTS):
        try:
            raw, etag = fsspec.asyn.sync(fs.loop, _get_with_etag, fs, bucket, key)
            labels, condition = parse(raw), {"IfMatch": etag}
        except FileNotFoundError:
            labels, condition = {}, {"IfNoneMatch": "*"}
        body = json.dumps(change(labels), indent=2, sort_keys=True).encode()
        try:
            fs.call_s3("put_object", Bucket=bucket, Key=key, Body=body, **condition)
            fs.invalidate_cache(path)
            return
        except (FileExistsError, ClientError, OSError) as e:  # 412/409: someone wrote in between
            if not _precondition_failed(e):
                raise
    raise RepositoryError(f"{fs.unstrip_protocol(path)}: too many concurrent label updates")


async def _get_with_etag(fs: fsspec.AbstractFileSystem, bucket: str, key: str) -> tuple[bytes, str]:
    # Body and ETag from one GET: reading them apart could pair new bytes with an old ETag.
    got = await fs._call_s3("get_object", Bucket=bucket, Key=key)
    async with got["Body"] as body:
        return await body.read(), got["ETag"]


def _precondition_failed(e: BaseException) -> bool:
    # s3fs maps 412 PreconditionFailed to FileExistsError (If-None-Match) or an OSError; botocore
    # raises ClientError. 409 ConditionalRequestConflict means a concurrent conditional write.
    if isinstance(e, FileExistsError):
        return True
    text = str(e)
    code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or "pre-condition" in text \
        or "PreconditionFailed" in text or "ConditionalRequestConflict" in text
