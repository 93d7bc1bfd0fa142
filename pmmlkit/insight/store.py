"""Reports and profiles kept with a model version in the repository."""
from __future__ import annotations

from ..errors import ModelNotFoundError
from ..repository.store import open_repository
from .profile import Profile

PROFILE = "profile.json"
REPORT = "report.html"


def model_profile(ref: str, *, repo: str | None = None) -> tuple[Profile, str]:
    """The training profile published with the version ``ref`` resolves to, and that version's ref."""
    raw, version = _version_file(ref, repo, PROFILE, "a training profile",
                                 "train it again with this pmmlkit, or pass --profile PATH")
    return Profile.from_json(raw, source=f"{version}/{PROFILE}"), version


def model_report(ref: str, *, repo: str | None = None) -> tuple[bytes, str]:
    """The report.html published with the version ``ref`` resolves to, and that version's ref."""
    return _version_file(ref, repo, REPORT, "a training report",
                         "train it again with this pmmlkit (and the report extra: pip install 'pmmlkit[report]')")


def _version_file(ref: str, repo: str | None, file: str, what: str, fix: str) -> tuple[bytes, str]:
    repository = open_repository(repo, must_exist=True)
    version = repository.resolve(ref)
    if file not in version.manifest.files:
        raise ModelNotFoundError(f"{version.ref} was published without {what} ({file}): {fix}")
    return repository.read_file(version, file), version.ref
