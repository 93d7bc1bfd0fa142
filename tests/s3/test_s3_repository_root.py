"""Issue 18: a missing bucket is an error naming it, not an empty repository (real S3 server: moto)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from pmmlkit.cli import main
from pmmlkit.errors import RepositoryNotFound
from pmmlkit.repository.store import open_repository


def test_missing_bucket_is_an_error_and_an_empty_prefix_is_not(s3_root, bucket):
    missing = f"s3://{bucket}-nope/repo"
    with pytest.raises(RepositoryNotFound, match=f"bucket '{bucket}-nope' does not exist"):
        open_repository(missing, must_exist=True)
    result = CliRunner().invoke(main, ["models", "list", "--repo", missing])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: model repository {missing} not found (bucket '{bucket}-nope' "
                                    "does not exist)")
    # The bucket exists: a prefix without models yet is an empty repository.
    result = CliRunner().invoke(main, ["models", "list", "--repo", s3_root])
    assert result.exit_code == 0 and result.output.split() == ["NAME", "LATEST", "VERSIONS", "LABELS", "CREATED"]
